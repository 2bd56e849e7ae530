package io.qoiflow.engine;

import io.qoiflow.records.DType;
import io.qoiflow.records.Modality;
import io.qoiflow.records.SensorFrame;
import io.qoiflow.schemas.SensorContract;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

/** Random frames with the simulator's shapes, dtypes and raw value ranges. */
final class RandomFrames {
  private RandomFrames() {}

  static DType dtypeOf(Modality m) {
    switch (m) {
      case CAMERA:
        return DType.UINT8;
      case DEPTH:
        return DType.UINT16;
      default:
        return DType.FLOAT32;
    }
  }

  static SensorFrame frame(Modality m, int[] shape, Random rnd) {
    int n = SensorContract.elements(shape);
    DType dt = dtypeOf(m);
    ByteBuffer b =
        ByteBuffer.allocate(n * SensorContract.bytesPer(dt)).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < n; i++) {
      switch (m) {
        case CAMERA:
          b.put((byte) rnd.nextInt(256));
          break;
        case DEPTH:
          b.putShort((short) rnd.nextInt(8000));
          break;
        case MMWAVE:
          b.putFloat(
              i < n / 2 ? (float) (-60 + 40 * rnd.nextDouble()) : (float) rnd.nextGaussian());
          break;
        case LIDAR:
          b.putFloat(i < n / 2 ? (float) (10 * rnd.nextDouble()) : (float) rnd.nextDouble());
          break;
        default:
          b.putFloat((float) (-80 + 60 * rnd.nextDouble()));
      }
    }
    b.flip();
    List<Integer> sh = new ArrayList<>();
    Arrays.stream(shape).forEach(sh::add);
    return SensorFrame.newBuilder()
        .setRigId("test")
        .setModality(m)
        .setCaptureTime(Instant.ofEpochMilli(0))
        .setSequence(0)
        .setShape(sh)
        .setDtype(dt)
        .setPayload(b)
        .setMetadata(Map.of())
        .build();
  }

  /** A sample with each modality present with probability {@code pPresent} (at least one). */
  static EngineSample sample(ModelManifest mf, Random rnd, double pPresent, double budget) {
    List<SensorFrame> frames = new ArrayList<>();
    int forced = rnd.nextInt(mf.modalityCount());
    for (int i = 0; i < mf.modalityCount(); i++) {
      String name = mf.modalities().get(i);
      if (i == forced || rnd.nextDouble() < pPresent) {
        frames.add(
            frame(Modality.valueOf(name.toUpperCase(Locale.ROOT)), mf.input(name).shape(), rnd));
      }
    }
    return EngineSample.of(frames, budget);
  }
}
