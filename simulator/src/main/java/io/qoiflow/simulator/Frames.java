package io.qoiflow.simulator;

import io.qoiflow.records.DType;
import io.qoiflow.records.Modality;
import io.qoiflow.records.SensorFrame;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.Map;

/** Frame shapes and dtypes per modality, and payload encoding and decoding. */
public final class Frames {
  private Frames() {}

  public static List<Integer> shape(Modality m) {
    return switch (m) {
      case CAMERA -> List.of(3, 48, 48);
      case DEPTH -> List.of(1, 48, 48);
      case MMWAVE -> List.of(2, 32, 32);
      case LIDAR -> List.of(2, 16, 128);
      case AUDIO -> List.of(2, 32, 48);
    };
  }

  public static DType dtype(Modality m) {
    return switch (m) {
      case CAMERA -> DType.UINT8;
      case DEPTH -> DType.UINT16;
      default -> DType.FLOAT32;
    };
  }

  public static int elements(Modality m) {
    int n = 1;
    for (int d : shape(m)) {
      n *= d;
    }
    return n;
  }

  /** Encodes raw values (0..255 for UINT8, integer mm for UINT16) as the modality's payload. */
  public static ByteBuffer encode(Modality m, float[] values) {
    int n = elements(m);
    switch (dtype(m)) {
      case UINT8 -> {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
          int v = Math.round(values[i]);
          b[i] = (byte) (v < 0 ? 0 : v > 255 ? 255 : v);
        }
        return ByteBuffer.wrap(b);
      }
      case UINT16 -> {
        ByteBuffer bb = ByteBuffer.allocate(2 * n).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; i++) {
          int v = Math.round(values[i]);
          bb.putShort((short) (v < 0 ? 0 : v > 65535 ? 65535 : v));
        }
        return bb.flip();
      }
      case FLOAT32 -> {
        ByteBuffer bb = ByteBuffer.allocate(4 * n).order(ByteOrder.LITTLE_ENDIAN);
        bb.asFloatBuffer().put(values, 0, n);
        return bb;
      }
      default -> throw new IllegalStateException();
    }
  }

  public static SensorFrame frame(
      String rigId, Modality m, long captureTime, long sequence, float[] values) {
    return SensorFrame.newBuilder()
        .setRigId(rigId)
        .setModality(m)
        .setCaptureTime(java.time.Instant.ofEpochMilli(captureTime))
        .setSequence(sequence)
        .setShape(shape(m))
        .setDtype(dtype(m))
        .setPayload(encode(m, values))
        .setMetadata(Map.of())
        .build();
  }
}
