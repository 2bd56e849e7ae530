package io.qoiflow.evaluation;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.qoiflow.engine.EngineSample;
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
import java.io.IOException;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Question answering on simulator samples: exact match per policy (camera, LiDAR, the QoI choice),
 * per number of connected blocks N and per question type, with the ADMN camera QoI that the QoI
 * policy reads. {@code qoiflow eval-qa} is the command over it.
 */
public final class QaEvaluation {
  public static final List<String> POLICIES = List.of("camera", "lidar", "qoi");

  private QaEvaluation() {}

  /** Exact-match counts per (policy, N, question type). */
  public static final class Tally {
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

    public double exactMatch(String policy, int n, String type) {
      int[] c = cells.get(policy + "|" + n + "|" + type);
      return c == null || c[1] == 0 ? Double.NaN : (double) c[0] / c[1];
    }

    public double overall(String policy, int n) {
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

    public double meanFlops(String policy, int n) {
      double[] f = flops.get(policy + "|" + n);
      return f == null ? Double.NaN : f[0] / f[1];
    }
  }

  /** Everything an evaluation produced. */
  public record Report(
      Tally tally,
      List<Integer> ns,
      int defaultN,
      double budget,
      double lidarShare,
      double meanCameraQoi,
      double msPerAnswer) {}

  public static Report evaluate(
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

  public static String toJson(QaEngine qa, InferenceEngine admn, int samples, Report r)
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
}
