package io.qoiflow.e2e;

import io.qoiflow.engine.EngineSample;
import io.qoiflow.engine.InferenceEngine;
import io.qoiflow.engine.Policy;
import io.qoiflow.engine.SampleResult;
import io.qoiflow.records.FusionResult;
import io.qoiflow.records.LabelledSample;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Per-result agreement of the job with the engine alone on the same sample at the same budget. */
final class EngineAgreement {
  /** Position agreement of a result with the engine alone: batch composition only rounds. */
  static final double POSITION_TOLERANCE_CM = 1e-3;

  private EngineAgreement() {}

  /**
   * Runs the engine alone (in the test JVM, policy universal) on every sample of {@code samples},
   * each at the budget of its job result in {@code byKey}, and lists the results that differ.
   */
  static List<String> disagreements(
      Path model, Map<String, LabelledSample> samples, Map<String, FusionResult> byKey) {
    List<String> keys = new ArrayList<>(samples.keySet());
    List<EngineSample> batch = new ArrayList<>();
    for (String k : keys) {
      batch.add(EngineSample.of(samples.get(k).getFrames(), byKey.get(k).getBudgetFraction()));
    }
    List<SampleResult> direct;
    try (InferenceEngine engine = InferenceEngine.open(model)) {
      direct = engine.infer(batch, Policy.UNIVERSAL);
    }
    List<String> out = new ArrayList<>();
    for (int i = 0; i < keys.size(); i++) {
      String differs = disagreement(byKey.get(keys.get(i)), direct.get(i));
      if (differs != null) {
        out.add(keys.get(i) + ": " + differs);
      }
    }
    return out;
  }

  /**
   * How a job result differs from the engine's on the same sample and budget, or null: same class,
   * same layers per modality, position within {@link #POSITION_TOLERANCE_CM}.
   */
  static String disagreement(FusionResult job, SampleResult engine) {
    if (job.getClassIndex() != engine.classIndex()) {
      return "class " + job.getClassIndex() + " vs " + engine.classIndex();
    }
    for (int m = 0; m < job.getModalities().size(); m++) {
      List<Integer> layers = job.getModalities().get(m).getLayers();
      if (!layers.equals(engine.layerList(m))) {
        return "modality " + m + " layers " + layers + " vs " + engine.layerList(m);
      }
    }
    double dist = Math.hypot(job.getXCm() - engine.xCm(), job.getYCm() - engine.yCm());
    return dist > POSITION_TOLERANCE_CM ? String.format(Locale.ROOT, "%.2e cm apart", dist) : null;
  }
}
