package io.qoiflow.engine;

import io.qoiflow.records.DType;
import io.qoiflow.records.SensorFrame;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.List;

/**
 * Turns a {@link SensorFrame} payload into float32 raw values exactly as the schema documents:
 * row-major little-endian tensor of {@code shape}; UINT8 → 0..255, UINT16 → integer value,
 * FLOAT16/FLOAT32 → value. No scaling: all normalisation lives inside the exported graphs.
 */
public final class FrameDecoder {
  private FrameDecoder() {}

  /** Thrown for a frame that cannot be decoded into the model's input (a dead letter). */
  public static final class BadFrameException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    public BadFrameException(String message) {
      super(message);
    }
  }

  /** Decodes a frame, checking that its shape equals {@code expectedShape} (no batch axis). */
  public static float[] decode(SensorFrame frame, int[] expectedShape) {
    float[] out = new float[elements(expectedShape)];
    decodeInto(frame, expectedShape, out, 0);
    return out;
  }

  /** Decodes a frame into {@code out} starting at {@code offset}. */
  public static void decodeInto(SensorFrame frame, int[] expectedShape, float[] out, int offset) {
    List<Integer> shape = frame.getShape();
    int[] actual = shape.stream().mapToInt(Integer::intValue).toArray();
    if (!Arrays.equals(actual, expectedShape)) {
      throw new BadFrameException(
          frame.getModality()
              + " frame has shape "
              + Arrays.toString(actual)
              + ", model expects "
              + Arrays.toString(expectedShape));
    }
    int n = elements(expectedShape);
    DType dtype = frame.getDtype();
    ByteBuffer payload = frame.getPayload().duplicate().order(ByteOrder.LITTLE_ENDIAN);
    int expectedBytes = n * sizeOf(dtype);
    if (payload.remaining() != expectedBytes) {
      throw new BadFrameException(
          frame.getModality()
              + " payload has "
              + payload.remaining()
              + " bytes, shape "
              + Arrays.toString(actual)
              + " of "
              + dtype
              + " needs "
              + expectedBytes);
    }
    int p = payload.position();
    switch (dtype) {
      case UINT8:
        for (int i = 0; i < n; i++) {
          out[offset + i] = payload.get(p + i) & 0xFF;
        }
        break;
      case UINT16:
        for (int i = 0; i < n; i++) {
          out[offset + i] = payload.getShort(p + 2 * i) & 0xFFFF;
        }
        break;
      case FLOAT16:
        for (int i = 0; i < n; i++) {
          out[offset + i] = halfToFloat(payload.getShort(p + 2 * i));
        }
        break;
      case FLOAT32:
        payload.asFloatBuffer().get(out, offset, n);
        break;
      default:
        throw new BadFrameException("unknown dtype " + dtype);
    }
  }

  public static int sizeOf(DType dtype) {
    switch (dtype) {
      case UINT8:
        return 1;
      case UINT16:
      case FLOAT16:
        return 2;
      case FLOAT32:
        return 4;
      default:
        throw new BadFrameException("unknown dtype " + dtype);
    }
  }

  static int elements(int[] shape) {
    int n = 1;
    for (int d : shape) {
      n *= d;
    }
    return n;
  }

  /** IEEE 754 binary16 → binary32, exact (subnormals, infinities and NaN included). */
  static float halfToFloat(short h) {
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
