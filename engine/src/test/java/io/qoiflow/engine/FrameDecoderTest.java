package io.qoiflow.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.qoiflow.records.DType;
import io.qoiflow.records.Modality;
import io.qoiflow.records.SensorFrame;
import io.qoiflow.schemas.SensorContract;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class FrameDecoderTest {

  static SensorFrame frame(Modality m, List<Integer> shape, DType dtype, ByteBuffer payload) {
    return SensorFrame.newBuilder()
        .setRigId("r")
        .setModality(m)
        .setCaptureTime(java.time.Instant.ofEpochMilli(0))
        .setSequence(0)
        .setShape(shape)
        .setDtype(dtype)
        .setPayload(payload)
        .setMetadata(Map.of())
        .build();
  }

  @Test
  void uint8IsUnsignedRawValue() {
    ByteBuffer b = ByteBuffer.wrap(new byte[] {0, 1, (byte) 128, (byte) 255, 7, 9});
    float[] out =
        FrameDecoder.decode(
            frame(Modality.CAMERA, List.of(3, 1, 2), DType.UINT8, b), new int[] {3, 1, 2});
    assertThat(out).containsExactly(0f, 1f, 128f, 255f, 7f, 9f);
  }

  @Test
  void uint16IsLittleEndianUnsigned() {
    ByteBuffer b = ByteBuffer.allocate(6).order(ByteOrder.LITTLE_ENDIAN);
    b.putShort((short) 1).putShort((short) 0xFFFF).putShort((short) 4000).flip();
    float[] out =
        FrameDecoder.decode(
            frame(Modality.DEPTH, List.of(1, 1, 3), DType.UINT16, b), new int[] {1, 1, 3});
    assertThat(out).containsExactly(1f, 65535f, 4000f);
  }

  @Test
  void float32IsLittleEndianRowMajor() {
    ByteBuffer b = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
    b.putFloat(-1.5f).putFloat(2.25f).putFloat(1e-20f).putFloat(-60f).flip();
    float[] out =
        FrameDecoder.decode(
            frame(Modality.MMWAVE, List.of(2, 1, 2), DType.FLOAT32, b), new int[] {2, 1, 2});
    assertThat(out).containsExactly(-1.5f, 2.25f, 1e-20f, -60f);
  }

  @Test
  void float16DecodesExactly() {
    short[] halves = {0x3C00, (short) 0xC000, 0x7BFF, 0x0001, (short) 0x8000, 0x7C00, 0x3555};
    float[] expected = {1f, -2f, 65504f, 0x1p-24f, -0f, Float.POSITIVE_INFINITY, 0.333251953125f};
    ByteBuffer b = ByteBuffer.allocate(2 * halves.length).order(ByteOrder.LITTLE_ENDIAN);
    for (short h : halves) {
      b.putShort(h);
    }
    b.flip();
    float[] out =
        FrameDecoder.decode(
            frame(Modality.AUDIO, List.of(1, 1, halves.length), DType.FLOAT16, b),
            new int[] {1, 1, halves.length});
    assertThat(out).containsExactly(expected);
    assertThat(SensorContract.halfToFloat((short) 0x7E00)).isNaN();
  }

  @Test
  void wrongShapeOrLengthIsABadFrame() {
    ByteBuffer b = ByteBuffer.wrap(new byte[6]);
    assertThatThrownBy(
            () ->
                FrameDecoder.decode(
                    frame(Modality.CAMERA, List.of(3, 2, 1), DType.UINT8, b), new int[] {3, 1, 2}))
        .isInstanceOf(FrameDecoder.BadFrameException.class)
        .hasMessageContaining("shape");
    assertThatThrownBy(
            () ->
                FrameDecoder.decode(
                    frame(Modality.CAMERA, List.of(3, 1, 2), DType.UINT16, b), new int[] {3, 1, 2}))
        .isInstanceOf(FrameDecoder.BadFrameException.class)
        .hasMessageContaining("bytes");
  }
}
