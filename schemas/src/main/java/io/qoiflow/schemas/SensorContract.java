package io.qoiflow.schemas;

import io.qoiflow.records.DType;
import io.qoiflow.records.Modality;
import io.qoiflow.records.SensorFrame;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.List;

/**
 * The sensor contract every side of the wire shares: the Kafka topic of each modality, and the
 * payload layout of {@code SensorFrame} (a dense row-major tensor of {@code shape} with elements of
 * {@code dtype}, little-endian, no padding; see SensorFrame.avsc) with its decoding into float
 * values exactly as the schema documents them (no scaling). The shape and dtype a model expects of
 * each modality are in its manifest ({@link FrameSpec}).
 */
public final class SensorContract {
  private SensorContract() {}

  /** The topic a modality's frames travel on. */
  public static String topic(Modality m) {
    return switch (m) {
      case CAMERA -> Topics.FRAMES_CAMERA;
      case DEPTH -> Topics.FRAMES_DEPTH;
      case MMWAVE -> Topics.FRAMES_MMWAVE;
      case LIDAR -> Topics.FRAMES_LIDAR;
      case AUDIO -> Topics.FRAMES_AUDIO;
    };
  }

  /** The frame topics in modality order. */
  public static List<String> frameTopics() {
    return Arrays.stream(Modality.values()).map(SensorContract::topic).toList();
  }

  /**
   * The modality a frame topic carries: the name's last dot-separated part ({@code frames.camera}
   * and {@code run-7.frames.camera} alike), or null when it names none.
   */
  public static Modality modalityOfTopic(String topic) {
    if (topic == null) {
      return null;
    }
    int dot = topic.lastIndexOf('.');
    String suffix = dot < 0 ? topic : topic.substring(dot + 1);
    for (Modality m : Modality.values()) {
      if (m.name().equalsIgnoreCase(suffix)) {
        return m;
      }
    }
    return null;
  }

  /** Bytes of one element of {@code dtype}. */
  public static int bytesPer(DType dtype) {
    return switch (dtype) {
      case UINT8 -> 1;
      case UINT16, FLOAT16 -> 2;
      case FLOAT32 -> 4;
    };
  }

  /** Elements of a tensor of {@code shape}. */
  public static int elements(int[] shape) {
    int n = 1;
    for (int d : shape) {
      n *= d;
    }
    return n;
  }

  /** Elements of a tensor of {@code shape}. */
  public static int elements(List<Integer> shape) {
    return elements(shape.stream().mapToInt(Integer::intValue).toArray());
  }

  /** A frame's payload as float values, as many as its shape holds. */
  public static float[] values(SensorFrame f) {
    int n = elements(f.getShape());
    float[] out = new float[n];
    decodeInto(f.getPayload(), f.getDtype(), n, out, 0);
    return out;
  }

  /**
   * Decodes the first {@code n} elements of {@code payload} (from its position, which is left as it
   * is) into {@code out} from {@code offset}.
   */
  public static void decodeInto(ByteBuffer payload, DType dtype, int n, float[] out, int offset) {
    ByteBuffer b = payload.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    int p = b.position();
    switch (dtype) {
      case UINT8 -> {
        for (int i = 0; i < n; i++) {
          out[offset + i] = b.get(p + i) & 0xFF;
        }
      }
      case UINT16 -> {
        for (int i = 0; i < n; i++) {
          out[offset + i] = b.getShort(p + 2 * i) & 0xFFFF;
        }
      }
      case FLOAT16 -> {
        for (int i = 0; i < n; i++) {
          out[offset + i] = halfToFloat(b.getShort(p + 2 * i));
        }
      }
      case FLOAT32 -> b.asFloatBuffer().get(out, offset, n);
    }
  }

  /** IEEE 754 binary16 → binary32, exact (subnormals, infinities and NaN included). */
  public static float halfToFloat(short h) {
    int bits = h & 0xFFFF;
    int sign = (bits & 0x8000) << 16;
    int exp = (bits >>> 10) & 0x1F;
    int mant = bits & 0x3FF;
    if (exp == 0x1F) {
      return Float.intBitsToFloat(sign | 0x7F800000 | (mant << 13));
    }
    if (exp == 0) {
      if (mant == 0) {
        return Float.intBitsToFloat(sign);
      }
      // Subnormal half: value = mant · 2^-24, exactly representable as a float.
      float v = mant * 0x1p-24f;
      return sign != 0 ? -v : v;
    }
    return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
  }
}
