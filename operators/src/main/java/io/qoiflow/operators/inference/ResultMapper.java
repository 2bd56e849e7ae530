package io.qoiflow.operators.inference;

import io.qoiflow.engine.ModelManifest;
import io.qoiflow.engine.SampleResult;
import io.qoiflow.engine.StageLatency;
import io.qoiflow.records.FrameSet;
import io.qoiflow.records.FusionResult;
import io.qoiflow.records.LatencyBreakdown;
import io.qoiflow.records.Modality;
import io.qoiflow.records.ModalityUsage;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** Engine results to {@link FusionResult} records, in the manifest's class and modality order. */
public final class ResultMapper implements Serializable {
  private static final long serialVersionUID = 1L;

  private final List<String> classes;
  private final List<Modality> modalities;
  private final String modelVersion;

  public ResultMapper(ModelManifest manifest) {
    this.classes = List.copyOf(manifest.classes());
    this.modalities =
        manifest.modalities().stream()
            .map(m -> Modality.valueOf(m.toUpperCase(Locale.ROOT)))
            .toList();
    this.modelVersion = manifest.version();
  }

  /**
   * @param waitedMs wall time from submission to completion; the part not spent in the engine's
   *     batch is reported as queueing
   */
  public FusionResult toFusionResult(FrameSet set, SampleResult r, double waitedMs) {
    List<ModalityUsage> usage = new ArrayList<>(modalities.size());
    for (int i = 0; i < modalities.size(); i++) {
      float qoi = r.qoi()[i];
      usage.add(
          ModalityUsage.newBuilder()
              .setModality(modalities.get(i))
              .setPresent(r.present()[i])
              .setLayers(r.layerList(i))
              .setQoi(Float.isNaN(qoi) ? (r.present()[i] ? 1f : 0f) : qoi)
              .build());
    }
    // How complete the set was, against what the join waited for (all five in sets formed before
    // FrameSet listed them).
    List<Modality> expected =
        set.getExpected().isEmpty() ? List.of(Modality.values()) : set.getExpected();
    List<Modality> missing = expected.stream().filter(m -> set.getMissing().contains(m)).toList();
    List<Float> probs = new ArrayList<>(r.classProbabilities().length);
    for (float p : r.classProbabilities()) {
      probs.add(p);
    }
    List<Double> cov = new ArrayList<>(4);
    for (double c : r.covariance()) {
      cov.add(c);
    }
    StageLatency l = r.latency();
    double batchWallMs = l.totalMs() * l.batchSize();
    double queueMs = Math.max(0, waitedMs - batchWallMs);
    return FusionResult.newBuilder()
        .setRigId(set.getRigId())
        .setCaptureTime(set.getCaptureTime())
        .setXCm(r.xCm())
        .setYCm(r.yCm())
        .setCovariance(cov)
        .setClassIndex(r.classIndex())
        .setClassName(classes.get(r.classIndex()))
        .setClassProbabilities(probs)
        .setModalities(usage)
        .setBudgetFraction(r.budgetFraction())
        .setBudgetLayers(r.budgetLayers())
        .setFlops(r.flops())
        .setModelVersion(modelVersion)
        .setControllerPolicy(r.policy().name().toLowerCase(Locale.ROOT))
        .setLatency(
            LatencyBreakdown.newBuilder()
                .setQueueMs(queueMs)
                .setDecodeMs(l.decodeMs())
                .setControllerMs(l.controllerMs())
                .setEmbedMs(l.embedMs())
                .setLayersMs(l.layersMs())
                .setFusionMs(l.fusionMs())
                .setTotalMs(queueMs + l.totalMs())
                .build())
        .setDegraded(false)
        .setDegradedReason(null)
        .setModalitiesExpected(expected.size())
        .setModalitiesPresent(expected.size() - missing.size())
        .setMissingModalities(missing)
        .build();
  }
}
