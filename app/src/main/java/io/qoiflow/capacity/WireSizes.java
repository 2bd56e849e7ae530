package io.qoiflow.capacity;

import io.qoiflow.records.LabelledSample;
import io.qoiflow.records.Modality;
import io.qoiflow.records.SensorFrame;
import io.qoiflow.schemas.SingleObjectSerde;
import io.qoiflow.simulator.CorruptionSpec;
import io.qoiflow.simulator.Simulator;
import java.util.EnumMap;
import java.util.Map;

/**
 * Bytes a FrameSet puts on Kafka, measured by encoding simulator samples exactly as the producers
 * do (Avro single-object encoding of each {@link SensorFrame}, the rig id as the record key).
 * Corruption {@code clean}: every modality present, as in {@code qoiflow bench e2e}.
 *
 * @param samples how many samples were encoded
 * @param bytesPerFrameSet mean key + value bytes of one FrameSet's frames (record and batch headers
 *     not included)
 * @param bytesPerFrameByModality mean key + value bytes per frame, by modality topic
 */
public record WireSizes(
    int samples, double bytesPerFrameSet, Map<Modality, Double> bytesPerFrameByModality) {

  public static WireSizes measure(int samples, long seed) {
    Simulator sim = new Simulator(seed, CorruptionSpec.clean(), "plan-0");
    SingleObjectSerde<SensorFrame> serde = SingleObjectSerde.forClass(SensorFrame.class);
    Map<Modality, long[]> byModality = new EnumMap<>(Modality.class); // {bytes, frames}
    long total = 0;
    for (int i = 0; i < samples; i++) {
      LabelledSample s = sim.sample(i);
      for (SensorFrame f : s.getFrames()) {
        long bytes = serde.encode(f).length + f.getRigId().getBytes().length;
        total += bytes;
        long[] acc = byModality.computeIfAbsent(f.getModality(), m -> new long[2]);
        acc[0] += bytes;
        acc[1]++;
      }
    }
    Map<Modality, Double> mean = new EnumMap<>(Modality.class);
    byModality.forEach((m, acc) -> mean.put(m, acc[0] / (double) acc[1]));
    return new WireSizes(samples, total / (double) samples, mean);
  }

  /** The largest mean frame of any modality topic. */
  public double largestFrameBytes() {
    return bytesPerFrameByModality.values().stream()
        .mapToDouble(Double::doubleValue)
        .max()
        .orElse(0);
  }
}
