package io.qoiflow.benchmarks;

import io.qoiflow.engine.EngineSample;
import io.qoiflow.records.LabelledSample;
import io.qoiflow.simulator.Samples;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;

/** Model directory and simulator samples shared by the benchmarks. */
final class BenchSetup {
  static final int SAMPLES = 64;

  private BenchSetup() {}

  /** {@code -Dqoiflow.model.dir}, else model-artifacts/admn-sim-v1, else admn-smoke. */
  static Path modelDir() {
    String p = System.getProperty("qoiflow.model.dir");
    if (p != null) {
      return Paths.get(p);
    }
    Path dir = Paths.get("").toAbsolutePath();
    while (dir != null && !Files.isDirectory(dir.resolve("model-artifacts"))) {
      dir = dir.getParent();
    }
    if (dir != null) {
      for (String name : new String[] {"admn-sim-v1", "admn-smoke"}) {
        Path m = dir.resolve("model-artifacts").resolve(name);
        if (Files.isRegularFile(m.resolve("manifest.json"))) {
          return m;
        }
      }
    }
    throw new IllegalStateException("no model: pass -Dqoiflow.model.dir=DIR");
  }

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
