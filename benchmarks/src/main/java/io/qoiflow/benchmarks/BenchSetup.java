package io.qoiflow.benchmarks;

import io.qoiflow.engine.EngineSample;
import io.qoiflow.records.LabelledSample;
import io.qoiflow.simulator.Samples;
import java.util.ArrayList;
import java.util.List;

/** Model directory and simulator samples shared by the benchmarks. */
final class BenchSetup {
  static final int SAMPLES = 64;

  private BenchSetup() {}

  static List<LabelledSample> samples() {
    return Samples.simulate(7, "random", SAMPLES);
  }

  /** The samples under per-sample budgets: {@code pcts} assigned round-robin. */
  static List<EngineSample> withBudgets(List<LabelledSample> set, int... pcts) {
    List<EngineSample> out = new ArrayList<>();
    for (int i = 0; i < set.size(); i++) {
      out.add(EngineSample.of(set.get(i).getFrames(), pcts[i % pcts.length] / 100.0));
    }
    return out;
  }
}
