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
import io.qoiflow.simulator.Status;
import java.io.IOException;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Question answering on simulator samples: exact match per policy (camera, LiDAR, the QoI choice),
 * per number of connected blocks N and per question type, with the ADMN camera QoI that the QoI
 * policy reads; beside them the answer prior (the LM at N = 0, no prefix) and the accuracy on the
 * questions answerable from one frame (those that do not ask about motion status), so a reader sees
 * what perception adds. {@code qoiflow eval-qa} is the command over it.
 */
public final class QaEvaluation {
  public static final List<String> POLICIES = List.of("camera", "lidar", "qoi");

  /** The text-only LM (N = 0: every block disconnected), tallied beside the policies. */
  public static final String PRIOR = "prior";

  /**
   * Whether one frame can answer the question: not a status question and no status word in it
   * (moving, stopped and parked differ by motion, which a single frame does not show).
   */
  public static boolean answerableFromOneFrame(QaPair q) {
    if (q.getQuestionType().equals("status")) {
      return false;
    }
    List<String> words = List.of(q.getQuestion().toLowerCase(Locale.ROOT).split("\\s+"));
    for (Status st : Status.values()) {
      if (words.contains(st.label)) {
        return false;
      }
    }
    return true;
  }

  private QaEvaluation() {}

  /** Exact-match counts per (policy, N, question type). */
  public static final class Tally {
    final Map<String, int[]> cells = new LinkedHashMap<>();
    final Map<String, double[]> flops = new LinkedHashMap<>();
    final Map<String, int[]> oneFrame = new LinkedHashMap<>();

    void add(String policy, int n, QaPair q, boolean hit, long f) {
      int[] c =
          cells.computeIfAbsent(policy + "|" + n + "|" + q.getQuestionType(), k -> new int[2]);
      c[0] += hit ? 1 : 0;
      c[1]++;
      if (answerableFromOneFrame(q)) {
        int[] o = oneFrame.computeIfAbsent(policy + "|" + n, k -> new int[2]);
        o[0] += hit ? 1 : 0;
        o[1]++;
      }
      double[] fl = flops.computeIfAbsent(policy + "|" + n, k -> new double[2]);
      fl[0] += f;
      fl[1]++;
    }

    public double exactMatch(String policy, int n, String type) {
      int[] c = cells.get(policy + "|" + n + "|" + type);
      return c == null || c[1] == 0 ? Double.NaN : (double) c[0] / c[1];
    }

    public double overall(String policy, int n) {
      int[] c = overallCounts(policy, n);
      return c[1] == 0 ? Double.NaN : (double) c[0] / c[1];
    }

    /** Half-width of the normal-approximation 95% interval of {@link #overall}. */
    public double overallCi95(String policy, int n) {
      int[] c = overallCounts(policy, n);
      if (c[1] == 0) {
        return Double.NaN;
      }
      double p = (double) c[0] / c[1];
      return 1.96 * Math.sqrt(p * (1 - p) / c[1]);
    }

    private int[] overallCounts(String policy, int n) {
      int[] sum = new int[2];
      for (String t : Questions.TYPES) {
        int[] c = cells.get(policy + "|" + n + "|" + t);
        if (c != null) {
          sum[0] += c[0];
          sum[1] += c[1];
        }
      }
      return sum;
    }

    /** Exact match on the questions answerable from one frame ({@link #answerableFromOneFrame}). */
    public double oneFrame(String policy, int n) {
      int[] c = oneFrame.get(policy + "|" + n);
      return c == null || c[1] == 0 ? Double.NaN : (double) c[0] / c[1];
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
        if (!prefixes.isEmpty()) {
          // N = 0 disconnects every block: the plain LM, whichever prefix is passed.
          QaEngine.Prefix any = prefixes.values().iterator().next();
          for (QaPair q : ls.getTruth().getQuestions()) {
            QaEngine.Answer a = qa.answer(q.getQuestion(), any, 0);
            tally.add(PRIOR, 0, q, a.text().equals(q.getAnswer()), a.flops());
          }
        }
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
              tally.add(p, n, q, hit, a == null ? 0 : a.flops());
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
    ObjectNode ci = root.putObject("overall_ci95");
    ObjectNode oneFrame = root.putObject("one_frame");
    for (String p : POLICIES) {
      overall.put(p, r.tally().overall(p, r.defaultN()));
      ci.put(p, r.tally().overallCi95(p, r.defaultN()));
      oneFrame.put(p, r.tally().oneFrame(p, r.defaultN()));
    }
    ObjectNode prior = root.putObject(PRIOR);
    prior.put("overall", r.tally().overall(PRIOR, 0));
    prior.put("overall_ci95", r.tally().overallCi95(PRIOR, 0));
    prior.put("one_frame", r.tally().oneFrame(PRIOR, 0));
    ObjectNode priorByType = prior.putObject("by_type");
    for (String t : Questions.TYPES) {
      priorByType.put(t, r.tally().exactMatch(PRIOR, 0, t));
    }
    ObjectNode oneFrameByN = root.putObject("one_frame_by_n");
    for (String p : POLICIES) {
      ObjectNode o = oneFrameByN.putObject(p);
      for (int n : r.ns()) {
        o.put(Integer.toString(n), r.tally().oneFrame(p, n));
      }
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
