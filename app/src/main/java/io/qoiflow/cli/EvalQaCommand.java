package io.qoiflow.cli;

import io.qoiflow.engine.ExecutionProvider;
import io.qoiflow.engine.InferenceEngine;
import io.qoiflow.engine.ModelLocator;
import io.qoiflow.engine.qa.QaEngine;
import io.qoiflow.evaluation.QaEvaluation;
import io.qoiflow.evaluation.QaEvaluation.Report;
import io.qoiflow.records.LabelledSample;
import io.qoiflow.simulator.Questions;
import io.qoiflow.simulator.Samples;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.stream.IntStream;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code qoiflow eval-qa}: the simulator's scene questions answered by the mPnP-LLM QA model in
 * Java, exact match per question type for the policies {@code camera}, {@code lidar} and {@code
 * qoi} (the ADMN controller's camera QoI picks the modality) at each N, plus the training FLOPs per
 * N that the trainer counted.
 */
@Command(
    name = "eval-qa",
    mixinStandardHelpOptions = true,
    description = {
      "Evaluate the mPnP-LLM question answering on simulator samples.",
      "Samples: new Simulator(seed, CorruptionSpec.parse(spec)); every sample has one question of"
          + " each type."
    })
public final class EvalQaCommand implements Callable<Integer> {

  @Option(
      names = "--model",
      description = "QA model directory (default model-artifacts/mpnp-sim-v2).")
  Path model;

  @Option(
      names = "--admn-model",
      description = "ADMN model whose controller gives the camera QoI (default: as `eval`).")
  Path admnModel;

  @Option(
      names = "--samples",
      defaultValue = "200",
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

  @Option(names = "--ns", split = ",", description = "Values of N to evaluate (default 1..L).")
  List<Integer> ns;

  @Option(
      names = "--budget",
      description =
          "Budget fraction: the ADMN controller's budget and the default N (default:"
              + " the QA manifest's default_budget_fraction).")
  Double budget;

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
    Path qaDir =
        model != null
            ? model
            : ModelLocator.defaultQaModel()
                .orElseThrow(() -> new IllegalStateException("no QA model; pass --model DIR"));
    Path admnDir = admnModel != null ? admnModel : ModelLocator.defaultModel();
    List<LabelledSample> set;
    try {
      set = Samples.simulate(seed, corruption, samples);
    } catch (IllegalArgumentException e) {
      spec.commandLine().getErr().println("eval-qa: " + e.getMessage());
      return 2;
    }
    ExecutionProvider ep = ExecutionProvider.parse(provider);
    try (QaEngine qa = QaEngine.open(qaDir, ep);
        InferenceEngine admn = InferenceEngine.open(admnDir, ep)) {
      double b = budget != null ? budget : qa.policy().defaultBudgetFraction();
      List<Integer> nList =
          ns != null ? ns : IntStream.rangeClosed(1, qa.config().layers()).boxed().toList();
      Report r = QaEvaluation.evaluate(qa, admn, set, nList, b);
      PrintWriter out = spec.commandLine().getOut();
      if (json) {
        out.println(QaEvaluation.toJson(qa, admn, set.size(), r));
      } else {
        printTable(out, qa, set.size(), r);
      }
      out.flush();
    }
    return 0;
  }

  private void printTable(PrintWriter out, QaEngine qa, int samples, Report r) {
    out.printf(
        Locale.ROOT,
        "model %s, %d samples, seed %d, corruption %s; budget %.2f -> default N %d;"
            + " qoi chose LiDAR for %.1f%% (mean camera QoI %.3f)%n",
        qa.version(),
        samples,
        seed,
        corruption,
        r.budget(),
        r.defaultN(),
        100 * r.lidarShare(),
        r.meanCameraQoi());
    StringBuilder head = new StringBuilder(String.format("%-7s %3s", "policy", "N"));
    for (String t : Questions.TYPES) {
      head.append(String.format(" %10s", t));
    }
    head.append(String.format(" %8s %14s", "overall", "train_flops"));
    out.println(head);
    for (String p : QaEvaluation.POLICIES) {
      for (int n : r.ns()) {
        StringBuilder line = new StringBuilder(String.format("%-7s %3d", p, n));
        for (String t : Questions.TYPES) {
          line.append(String.format(Locale.ROOT, " %10.3f", r.tally().exactMatch(p, n, t)));
        }
        Long tf = qa.trainFlopsByN().get(n);
        line.append(
            String.format(
                Locale.ROOT,
                " %8.3f %14s",
                r.tally().overall(p, n),
                tf == null ? "-" : String.format(Locale.ROOT, "%.3e", (double) tf)));
        out.println(line);
      }
    }
  }
}
