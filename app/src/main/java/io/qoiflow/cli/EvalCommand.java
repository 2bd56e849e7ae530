package io.qoiflow.cli;

import io.qoiflow.engine.ExecutionProvider;
import io.qoiflow.engine.InferenceEngine;
import io.qoiflow.engine.ModelManifest;
import io.qoiflow.evaluation.FusionEvaluation;
import io.qoiflow.evaluation.FusionEvaluation.Row;
import io.qoiflow.records.LabelledSample;
import io.qoiflow.simulator.Samples;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code qoiflow eval}: the command over {@link FusionEvaluation}. */
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

  @Override
  public Integer call() throws IOException {
    List<LabelledSample> set;
    try {
      set =
          data != null ? Samples.read(data, samples) : Samples.simulate(seed, corruption, samples);
    } catch (IllegalArgumentException e) {
      spec.commandLine().getErr().println("eval: " + e.getMessage());
      return 2;
    }
    try (InferenceEngine engine = InferenceEngine.open(model, ExecutionProvider.parse(provider))) {
      List<Row> rows = FusionEvaluation.evaluate(engine, set, policies, budgets, batch);
      String source = data != null ? data.toString() : null;
      PrintWriter out = spec.commandLine().getOut();
      if (json) {
        out.println(
            FusionEvaluation.toJson(engine.manifest(), set.size(), seed, corruption, source, rows));
      } else {
        printTable(out, engine.manifest(), set.size(), rows, source);
      }
      out.flush();
    }
    return 0;
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
