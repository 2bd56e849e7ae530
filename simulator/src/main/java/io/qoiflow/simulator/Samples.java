package io.qoiflow.simulator;

import io.qoiflow.records.LabelledSample;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.avro.file.DataFileReader;
import org.apache.avro.specific.SpecificDatumReader;

/**
 * Sets of labelled samples for evaluations and benches: the first {@code n} of {@code new
 * Simulator(seed, CorruptionSpec.parse(spec))}, or those of an Avro file that {@code qoiflow
 * simulate} wrote.
 */
public final class Samples {
  private Samples() {}

  public static List<LabelledSample> simulate(long seed, String spec, int n) {
    Simulator sim = new Simulator(seed, CorruptionSpec.parse(spec));
    List<LabelledSample> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      out.add(sim.next());
    }
    return out;
  }

  /** At most {@code max} samples from {@code file}, in file order. */
  public static List<LabelledSample> read(Path file, int max) throws IOException {
    List<LabelledSample> out = new ArrayList<>();
    try (DataFileReader<LabelledSample> r =
        new DataFileReader<>(file.toFile(), new SpecificDatumReader<>(LabelledSample.class))) {
      while (r.hasNext() && out.size() < max) {
        out.add(r.next());
      }
    }
    return out;
  }
}
