package io.qoiflow.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.qoiflow.engine.EngineSample;
import io.qoiflow.engine.ExecutionProvider;
import io.qoiflow.engine.InferenceEngine;
import io.qoiflow.engine.Policy;
import io.qoiflow.engine.SampleResult;
import io.qoiflow.engine.qa.QaEngine;
import io.qoiflow.engine.qa.QaPolicy;
import io.qoiflow.records.LabelledSample;
import io.qoiflow.records.Modality;
import io.qoiflow.records.QaPair;
import io.qoiflow.records.SensorFrame;
import io.qoiflow.simulator.Questions;
import io.qoiflow.topology.ModelLocator;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
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
  static final List<String> POLICIES = List.of("camera", "lidar", "qoi");

  @Option(
      names = "--model",
      description = "QA model directory (default model-artifacts/mpnp-sim-v1).")
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

  /** Exact-match counts per (policy, N, question type). */
  static final class Tally {
    final Map<String, int[]> cells = new LinkedHashMap<>();
    final Map<String, double[]> flops = new LinkedHashMap<>();

    void add(String policy, int n, String type, boolean hit, long f) {
      int[] c = cells.computeIfAbsent(policy + "|" + n + "|" + type, k -> new int[2]);
      c[0] += hit ? 1 : 0;
      c[1]++;
      double[] fl = flops.computeIfAbsent(policy + "|" + n, k -> new double[2]);
      fl[0] += f;
      fl[1]++;
    }

    double exactMatch(String policy, int n, String type) {
      int[] c = cells.get(policy + "|" + n + "|" + type);
      return c == null || c[1] == 0 ? Double.NaN : (double) c[0] / c[1];
    }

    double overall(String policy, int n) {
      int hits = 0;
      int total = 0;
      for (String t : Questions.TYPES) {
        int[] c = cells.get(policy + "|" + n + "|" + t);
        if (c != null) {
          hits += c[0];
          total += c[1];
        }
      }
      return total == 0 ? Double.NaN : (double) hits / total;
    }

    double meanFlops(String policy, int n) {
      double[] f = flops.get(policy + "|" + n);
      return f == null ? Double.NaN : f[0] / f[1];
    }
  }

  /** Everything an evaluation produced. */
  record Report(
      Tally tally,
      List<Integer> ns,
      int defaultN,
      double budget,
      double lidarShare,
      double meanCameraQoi,
      double msPerAnswer) {}

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
      set = EvalCommand.simulate(seed, corruption, samples);
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
      Report r = evaluate(qa, admn, set, nList, b);
      PrintWriter out = spec.commandLine().getOut();
      if (json) {
        out.println(toJson(qa, admn, set.size(), r));
      } else {
        printTable(out, qa, set.size(), r);
      }
      out.flush();
    }
    return 0;
  }

  static Report evaluate(
      QaEngine qa,
      InferenceEngine admn,
      List<LabelledSample> set,
      List<Integer> ns,
      double budget) {
    QaPolicy policy = qa.policy();
    int defaultN = policy.connectedBlocks(budget);
    List<Integer> all = new ArrayList<>(ns);
    if (!all.contains(defaultN)) {
      all.add(defaultN);
    }
    int cameraIndex = admn.manifest().modalities().indexOf("camera");
    Tally tally = new Tally();
    int lidarChosen = 0;
    double qoiSum = 0;
    long nanos = 0;
    int answers = 0;
    for (int s = 0; s < set.size(); s += 16) {
      List<LabelledSample> part = set.subList(s, Math.min(set.size(), s + 16));
      List<EngineSample> in = new ArrayList<>();
      for (LabelledSample ls : part) {
        in.add(EngineSample.of(ls.getFrames(), budget));
      }
      List<SampleResult> admnOut = admn.infer(in, Policy.ADMN);
      for (int k = 0; k < part.size(); k++) {
        LabelledSample ls = part.get(k);
        float camQoi = admnOut.get(k).qoi()[cameraIndex];
        Map<Modality, SensorFrame> frames = new EnumMap<>(Modality.class);
        for (SensorFrame f : ls.getFrames()) {
          frames.put(f.getModality(), f);
        }
        Map<Modality, QaEngine.Prefix> prefixes = new EnumMap<>(Modality.class);
        for (Modality m : qa.modalities()) {
          if (frames.containsKey(m)) {
            prefixes.put(m, qa.prefix(m, frames.get(m)));
          }
        }
        Modality chosen =
            policy.modality(
                QaPolicy.Kind.QOI,
                camQoi,
                prefixes.containsKey(Modality.CAMERA),
                prefixes.containsKey(Modality.LIDAR));
        lidarChosen += chosen == Modality.LIDAR ? 1 : 0;
        qoiSum += camQoi;
        for (int n : all) {
          for (QaPair q : ls.getTruth().getQuestions()) {
            Map<Modality, QaEngine.Answer> byModality = new EnumMap<>(Modality.class);
            for (Map.Entry<Modality, QaEngine.Prefix> e : prefixes.entrySet()) {
              long t0 = System.nanoTime();
              byModality.put(e.getKey(), qa.answer(q.getQuestion(), e.getValue(), n));
              nanos += System.nanoTime() - t0;
              answers++;
            }
            for (String p : POLICIES) {
              Modality m =
                  switch (p) {
                    case "camera" -> Modality.CAMERA;
                    case "lidar" -> Modality.LIDAR;
                    default -> chosen;
                  };
              QaEngine.Answer a = byModality.get(m);
              boolean hit = a != null && a.text().equals(q.getAnswer());
              tally.add(p, n, q.getQuestionType(), hit, a == null ? 0 : a.flops());
            }
          }
        }
      }
    }
    int n = Math.max(1, set.size());
    return new Report(
        tally,
        all,
        defaultN,
        budget,
        (double) lidarChosen / n,
        qoiSum / n,
        answers == 0 ? 0 : nanos / 1e6 / answers);
  }

  static String toJson(QaEngine qa, InferenceEngine admn, int samples, Report r)
      throws IOException {
    ObjectMapper om = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    ObjectNode root = om.createObjectNode();
    root.put("model", qa.version());
    root.put("admn_model", admn.manifest().version());
    root.put("samples", samples);
    root.put("questions_per_policy_and_n", samples * Questions.TYPES.size());
    root.put("budget", r.budget());
    root.put("default_n", r.defaultN());
    root.put("qoi_lidar_share", r.lidarShare());
    root.put("mean_camera_qoi", r.meanCameraQoi());
    root.put("ms_per_answer", r.msPerAnswer());
    ArrayNode rows = root.putArray("rows");
    for (String p : POLICIES) {
      for (int n : r.ns()) {
        for (String t : Questions.TYPES) {
          ObjectNode o = rows.addObject();
          o.put("policy", p);
          o.put("n", n);
          o.put("question_type", t);
          o.put("exact_match", r.tally().exactMatch(p, n, t));
        }
      }
    }
    ObjectNode overall = root.putObject("overall");
    for (String p : POLICIES) {
      overall.put(p, r.tally().overall(p, r.defaultN()));
    }
    ObjectNode byN = root.putObject("overall_by_n");
    ObjectNode flops = root.putObject("mean_answer_flops_by_n");
    for (String p : POLICIES) {
      ObjectNode o = byN.putObject(p);
      ObjectNode f = flops.putObject(p);
      for (int n : r.ns()) {
        o.put(Integer.toString(n), r.tally().overall(p, n));
        f.put(Integer.toString(n), r.tally().meanFlops(p, n));
      }
    }
    ObjectNode train = root.putObject("train_flops_by_n");
    qa.trainFlopsByN().forEach((k, v) -> train.put(Integer.toString(k), v));
    return om.writeValueAsString(root);
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
    for (String p : POLICIES) {
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
