package io.qoiflow.engine;

import io.qoiflow.records.DType;
import io.qoiflow.records.SensorFrame;
import io.qoiflow.schemas.SensorContract;
import java.nio.ByteBuffer;
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
    float[] out = new float[SensorContract.elements(expectedShape)];
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
    int n = SensorContract.elements(expectedShape);
    DType dtype = frame.getDtype();
    ByteBuffer payload = frame.getPayload();
    int expectedBytes = n * SensorContract.bytesPer(dtype);
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
    SensorContract.decodeInto(payload, dtype, n, out, offset);
  }
}
