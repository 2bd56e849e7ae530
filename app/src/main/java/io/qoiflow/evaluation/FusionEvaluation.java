package io.qoiflow.evaluation;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.qoiflow.engine.EngineSample;
import io.qoiflow.engine.InferenceEngine;
import io.qoiflow.engine.ModelManifest;
import io.qoiflow.engine.Policy;
import io.qoiflow.engine.SampleResult;
import io.qoiflow.records.LabelledSample;
import io.qoiflow.records.ObjectState;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Samples through the Java engine, per policy and budget: localization error, class accuracy,
 * layers, FLOPs and time. Same definitions as the Python evaluator ({@code
 * qoiflow_train.evaluate.run_policy}); at 100% every policy runs the full model without a
 * controller, as there. {@code qoiflow eval} is the command over it.
 */
public final class FusionEvaluation {
  private FusionEvaluation() {}

  /** One evaluated (policy, budget) cell. */
  public record Row(
      String policy,
      int budgetPct,
      int budgetLayers,
      double locErrorCm,
      double classAcc,
      int maxLayersRun,
      double[] meanLayers,
      double flopsRatio,
      double msPerSample) {}

  public static List<Row> evaluate(
      InferenceEngine engine,
      List<LabelledSample> set,
      List<String> policyNames,
      List<Integer> pcts,
      int batch) {
    ModelManifest mf = engine.manifest();
    int m = mf.modalityCount();
    List<Row> rows = new ArrayList<>();
    for (String name : policyNames) {
      Policy policy = Policy.parse(name);
      if (policy.needsManifestEntry() && mf.policy(policy.key()).isEmpty()) {
        System.err.println("eval: model " + mf.name() + " has no '" + name + "' policy; skipped");
        continue;
      }
      for (int pct : pcts) {
        // As the Python evaluator: 100% runs every layer of every present modality.
        Policy effective = pct == 100 ? Policy.FULL : policy;
        double fraction = pct / 100.0;
        double err = 0;
        int hits = 0;
        int maxLayers = 0;
        double[] layers = new double[m];
        double flops = 0;
        long nanos = 0;
        for (int s = 0; s < set.size(); s += batch) {
          List<LabelledSample> part = set.subList(s, Math.min(set.size(), s + batch));
          List<EngineSample> in = new ArrayList<>(part.size());
          for (LabelledSample ls : part) {
            in.add(EngineSample.of(ls.getFrames(), fraction));
          }
          long t0 = System.nanoTime();
          List<SampleResult> out = engine.infer(in, effective);
          nanos += System.nanoTime() - t0;
          for (int k = 0; k < out.size(); k++) {
            SampleResult r = out.get(k);
            ObjectState t = part.get(k).getTruth().getTarget();
            err += Math.hypot(r.xCm() - t.getXCm(), r.yCm() - t.getYCm());
            hits += r.classIndex() == t.getClassIndex() ? 1 : 0;
            maxLayers = Math.max(maxLayers, r.layerCount());
            for (int i = 0; i < m; i++) {
              layers[i] += r.layerCount(i);
            }
            flops += r.flops();
          }
        }
        int n = set.size();
        for (int i = 0; i < m; i++) {
          layers[i] /= n;
        }
        rows.add(
            new Row(
                policy.key(),
                pct,
                mf.layersForPct(pct),
                err / n,
                (double) hits / n,
                maxLayers,
                layers,
                flops / n / mf.fullModelFlops(),
                nanos / 1e6 / n));
      }
    }
    return rows;
  }

  public static String toJson(
      ModelManifest mf, int n, long seed, String corruption, String source, List<Row> rows)
      throws IOException {
    ObjectMapper om = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    ObjectNode root = om.createObjectNode();
    root.put("model", mf.name());
    root.put("samples", n);
    root.put("seed", seed);
    root.put("corruption", corruption);
    if (source != null) {
      root.put("data", source);
    }
    ArrayNode arr = root.putArray("rows");
    for (Row r : rows) {
      ObjectNode o = arr.addObject();
      o.put("policy", r.policy());
      o.put("budget_pct", r.budgetPct());
      o.put("budget_layers", r.budgetLayers());
      o.put("loc_error_cm", r.locErrorCm());
      o.put("class_acc", r.classAcc());
      o.put("max_layers_run", r.maxLayersRun());
      ObjectNode ml = o.putObject("mean_layers");
      for (int i = 0; i < mf.modalityCount(); i++) {
        ml.put(mf.modalities().get(i), r.meanLayers()[i]);
      }
      o.put("flops_ratio", r.flopsRatio());
      o.put("ms_per_sample", r.msPerSample());
    }
    return om.writeValueAsString(root);
  }
}
