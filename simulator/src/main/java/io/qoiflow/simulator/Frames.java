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

  /** The payload as float values exactly as the schema documents (no scaling). */
  public static float[] values(SensorFrame f) {
    ByteBuffer bb = f.getPayload().duplicate().order(ByteOrder.LITTLE_ENDIAN);
    int n = 1;
    for (int d : f.getShape()) {
      n *= d;
    }
    float[] out = new float[n];
    switch (f.getDtype()) {
      case UINT8 -> {
        for (int i = 0; i < n; i++) {
          out[i] = bb.get(bb.position() + i) & 0xFF;
        }
      }
      case UINT16 -> {
        for (int i = 0; i < n; i++) {
          out[i] = bb.getShort(bb.position() + 2 * i) & 0xFFFF;
        }
      }
      case FLOAT32 -> {
        for (int i = 0; i < n; i++) {
          out[i] = bb.getFloat(bb.position() + 4 * i);
        }
      }
      case FLOAT16 -> {
        for (int i = 0; i < n; i++) {
          out[i] = halfToFloat(bb.getShort(bb.position() + 2 * i));
        }
      }
    }
    return out;
  }

  static float halfToFloat(short h) {
    int bits = h & 0xFFFF;
    int sign = (bits >>> 15) << 31;
    int exp = (bits >>> 10) & 0x1F;
    int mant = bits & 0x3FF;
    if (exp == 0) {
      float v = mant * 0x1p-24f;
      return sign == 0 ? v : -v;
    }
    if (exp == 31) {
      return Float.intBitsToFloat(sign | 0x7F800000 | (mant << 13));
    }
    return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
  }
}
