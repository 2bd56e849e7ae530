package io.qoiflow.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.qoiflow.engine.EngineSample;
import io.qoiflow.engine.ExecutionProvider;
import io.qoiflow.engine.InferenceEngine;
import io.qoiflow.engine.ModelManifest;
import io.qoiflow.engine.Policy;
import io.qoiflow.engine.SampleResult;
import io.qoiflow.records.LabelledSample;
import io.qoiflow.records.ObjectState;
import io.qoiflow.simulator.CorruptionSpec;
import io.qoiflow.simulator.Simulator;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.apache.avro.file.DataFileReader;
import org.apache.avro.specific.SpecificDatumReader;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code qoiflow eval}: simulator samples through the Java engine, per policy and budget:
 * localization error, class accuracy, layers, FLOPs and time. Same definitions as the Python
 * evaluator ({@code qoiflow_train.evaluate.run_policy}); at 100% every policy runs the full model
 * without a controller, as there.
 */
@Command(
    name = "eval",
    mixinStandardHelpOptions = true,
    description = {
      "Evaluate an exported model with the Java engine on simulator samples.",
      "Samples: new Simulator(seed, CorruptionSpec.parse(spec)), or --data FILE.avro written by"
          + " `qoiflow simulate`."
    })
public final class EvalCommand implements Callable<Integer> {

  @Option(names = "--model", required = true, description = "Model directory (manifest.json).")
  Path model;

  @Option(
      names = "--samples",
      defaultValue = "500",
      description = "Samples (default ${DEFAULT-VALUE}).")
  int samples;

  @Option(
      names = "--seed",
      defaultValue = "1",
      description = "Simulator seed (default ${DEFAULT-VALUE}).")
  long seed;

  @Option(
      names = "--corruption",
      defaultValue = "clean",
      description = "Corruption spec as `qoiflow simulate` takes it (default ${DEFAULT-VALUE}).")
  String corruption;

  @Option(
      names = "--data",
      description = "Read samples from this Avro file of LabelledSample instead of the simulator.")
  Path data;

  @Option(
      names = "--budgets",
      split = ",",
      defaultValue = "25,33,50,67,100",
      description = "Budget percentages (default ${DEFAULT-VALUE}).")
  List<Integer> budgets;

  @Option(
      names = "--policies",
      split = ",",
      defaultValue = "naive,static,admn,ae,universal,full",
      description = "Policies (default ${DEFAULT-VALUE}); ones the model lacks are skipped.")
  List<String> policies;

  @Option(
      names = "--batch",
      defaultValue = "16",
      description = "Engine batch size (default ${DEFAULT-VALUE}).")
  int batch;

  @Option(
      names = "--provider",
      defaultValue = "cpu",
      description = "Execution provider cpu|cuda|auto (default ${DEFAULT-VALUE}).")
  String provider;

  @Option(names = "--json", description = "Print JSON instead of a table.")
  boolean json;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  /** One evaluated (policy, budget) cell. */
  record Row(
      String policy,
      int budgetPct,
      int budgetLayers,
      double locErrorCm,
      double classAcc,
      int maxLayersRun,
      double[] meanLayers,
      double flopsRatio,
      double msPerSample) {}

  @Override
  public Integer call() throws IOException {
    List<LabelledSample> set;
    try {
      set = data != null ? readFile(data, samples) : simulate(seed, corruption, samples);
    } catch (IllegalArgumentException e) {
      spec.commandLine().getErr().println("eval: " + e.getMessage());
      return 2;
    }
    try (InferenceEngine engine = InferenceEngine.open(model, ExecutionProvider.parse(provider))) {
      List<Row> rows = evaluate(engine, set, policies, budgets, batch);
      String source = data != null ? data.toString() : null;
      PrintWriter out = spec.commandLine().getOut();
      if (json) {
        out.println(toJson(engine.manifest(), set.size(), seed, corruption, source, rows));
      } else {
        printTable(out, engine.manifest(), set.size(), rows, source);
      }
      out.flush();
    }
    return 0;
  }

  static List<LabelledSample> simulate(long seed, String spec, int n) {
    Simulator sim = new Simulator(seed, CorruptionSpec.parse(spec));
    List<LabelledSample> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      out.add(sim.next());
    }
    return out;
  }

  static List<LabelledSample> readFile(Path file, int max) throws IOException {
    List<LabelledSample> out = new ArrayList<>();
    try (DataFileReader<LabelledSample> r =
        new DataFileReader<>(file.toFile(), new SpecificDatumReader<>(LabelledSample.class))) {
      while (r.hasNext() && out.size() < max) {
        out.add(r.next());
      }
    }
    return out;
  }

  static List<Row> evaluate(
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

  static String toJson(
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

  private void printTable(PrintWriter out, ModelManifest mf, int n, List<Row> rows, String source) {
    out.printf(
        "model %s, %d samples, %s%n",
        mf.name(),
        n,
        source != null ? "file " + source : "seed " + seed + ", corruption " + corruption);
    StringBuilder head =
        new StringBuilder(
            String.format(
                "%-10s %6s %4s %9s %7s %7s", "policy", "budget", "L", "err_cm", "acc", "maxL"));
    for (String mod : mf.modalities()) {
      head.append(String.format(" %7s", mod.length() > 7 ? mod.substring(0, 7) : mod));
    }
    head.append(String.format(" %7s %9s", "flops", "ms/smpl"));
    out.println(head);
    for (Row r : rows) {
      StringBuilder line =
          new StringBuilder(
              String.format(
                  "%-10s %5d%% %4d %9.2f %7.3f %7d",
                  r.policy(),
                  r.budgetPct(),
                  r.budgetLayers(),
                  r.locErrorCm(),
                  r.classAcc(),
                  r.maxLayersRun()));
      for (double l : r.meanLayers()) {
        line.append(String.format(" %7.2f", l));
      }
      line.append(String.format(" %7.3f %9.3f", r.flopsRatio(), r.msPerSample()));
      out.println(line);
    }
  }
}
