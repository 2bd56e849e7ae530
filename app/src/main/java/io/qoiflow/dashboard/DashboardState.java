package io.qoiflow.dashboard;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.qoiflow.records.BudgetDecision;
import io.qoiflow.records.DeadLetter;
import io.qoiflow.records.FusionResult;
import io.qoiflow.records.ModalityUsage;
import io.qoiflow.records.ObjectState;
import io.qoiflow.records.QaAnswer;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * What the dashboard shows, folded from the records it reads: the budget and the pattern that set
 * it, the latest result's layers and QoI per modality, each rig's estimated and true track, the
 * error against truth, recent answers and dead letters by reason. Thread-safe; {@link #snapshot()}
 * is the JSON the page renders.
 */
public final class DashboardState {
  /** Track points kept per rig: 10 s at the replay's 10 Hz. */
  static final int TRACK_POINTS = 100;

  static final int RECENT = 100;
  static final int BUDGET_HISTORY = 50;
  static final int QA_SHOWN = 8;
  static final int TRUTH_KEPT = 4000;

  /** A result matches the truth of its rig within this distance in capture time. */
  static final long TRUTH_MATCH_MS = 50;

  private static final ObjectMapper JSON = new ObjectMapper();

  private record Point(long t, double x, double y) {}

  private record Scored(double errorCm, boolean classCorrect) {}

  private static final class Rig {
    final Deque<Point> estimates = new ArrayDeque<>();
    final Deque<Point> truth = new ArrayDeque<>();
    final TreeMap<Long, ObjectState> truthByTime = new TreeMap<>();
    final Deque<Scored> scored = new ArrayDeque<>();
    long results;
  }

  private final Map<String, Rig> rigs = new TreeMap<>();
  private final Map<String, Long> deadLetters = new TreeMap<>();
  private final Deque<ObjectNode> recentDeadLetters = new ArrayDeque<>();
  private final Map<String, Long> undecodable = new TreeMap<>();
  private final Deque<ObjectNode> budgetHistory = new ArrayDeque<>();
  private final Deque<ObjectNode> answers = new ArrayDeque<>();
  private final Deque<Long> resultWallTimes = new ArrayDeque<>();
  private BudgetDecision budget;
  private FusionResult latest;
  private long results;
  private long version;

  public synchronized void onFusion(FusionResult r) {
    results++;
    latest = r;
    Rig rig = rig(r.getRigId().toString());
    rig.results++;
    long t = r.getCaptureTime().toEpochMilli();
    push(rig.estimates, new Point(t, r.getXCm(), r.getYCm()), TRACK_POINTS);
    ObjectState truth = truthNear(rig, t);
    if (truth != null) {
      double err = Math.hypot(r.getXCm() - truth.getXCm(), r.getYCm() - truth.getYCm());
      push(rig.scored, new Scored(err, r.getClassIndex() == truth.getClassIndex()), RECENT);
    }
    long now = System.currentTimeMillis();
    resultWallTimes.addLast(now);
    while (!resultWallTimes.isEmpty() && resultWallTimes.peekFirst() < now - 5_000) {
      resultWallTimes.removeFirst();
    }
    version++;
  }

  public synchronized void onTruth(String rigId, long captureTimeMs, ObjectState state) {
    Rig rig = rig(rigId);
    rig.truthByTime.put(captureTimeMs, state);
    while (rig.truthByTime.size() > TRUTH_KEPT) {
      rig.truthByTime.pollFirstEntry();
    }
    push(rig.truth, new Point(captureTimeMs, state.getXCm(), state.getYCm()), TRACK_POINTS);
    version++;
  }

  public synchronized void onBudget(BudgetDecision d) {
    budget = d;
    ObjectNode o = JSON.createObjectNode();
    o.put("time", d.getTime().toEpochMilli());
    o.put("fraction", d.getBudgetFraction());
    o.put("previous", d.getPreviousBudgetFraction());
    o.put("reason", d.getReason().toString());
    o.put("pool", d.getPoolId().toString());
    push(budgetHistory, o, BUDGET_HISTORY);
    version++;
  }

  public synchronized void onDeadLetter(DeadLetter d) {
    deadLetters.merge(d.getReasonCode().toString(), 1L, Long::sum);
    ObjectNode o = JSON.createObjectNode();
    o.put("reason", d.getReasonCode().toString());
    o.put("topic", d.getSourceTopic().toString());
    o.put("message", d.getMessage().toString());
    o.put("time", d.getTime().toEpochMilli());
    push(recentDeadLetters, o, 5);
    version++;
  }

  public synchronized void onAnswer(QaAnswer a) {
    ObjectNode o = JSON.createObjectNode();
    o.put("questionId", a.getQuestionId().toString());
    o.put("rig", a.getRigId().toString());
    o.put("question", a.getQuestion().toString());
    o.put("answer", a.getAnswer().toString());
    o.put("modality", a.getModalityUsed().name().toLowerCase(Locale.ROOT));
    o.put("blocks", a.getConnectedBlocks());
    o.put("latencyMs", a.getLatencyMs());
    o.put("captureTime", a.getCaptureTime().toEpochMilli());
    push(answers, o, QA_SHOWN);
    version++;
  }

  /** A record on {@code topic} that is not the topic's schema; counted, shown, never fatal. */
  public synchronized void onUndecodable(String topic) {
    undecodable.merge(topic, 1L, Long::sum);
    version++;
  }

  /** Increases with every record folded in. */
  public synchronized long version() {
    return version;
  }

  public synchronized ObjectNode snapshot() {
    ObjectNode root = JSON.createObjectNode();
    root.put("version", version);
    root.put("results", results);
    root.put("resultsPerS", resultWallTimes.size() / 5.0);
    ObjectNode b = root.putObject("budget");
    if (budget != null) {
      b.put("fraction", budget.getBudgetFraction());
      b.put("previous", budget.getPreviousBudgetFraction());
      b.put("reason", budget.getReason().toString());
      b.put("pool", budget.getPoolId().toString());
      b.put("time", budget.getTime().toEpochMilli());
    }
    if (latest != null) {
      // Until the first decision arrives, the results say which budget they ran under.
      b.put("resultFraction", latest.getBudgetFraction());
      b.put("resultLayers", latest.getBudgetLayers());
    }
    root.set("budgetHistory", JSON.valueToTree(budgetHistory));
    if (latest != null) {
      root.set("latest", latestJson(latest));
    }
    ObjectNode rigsJson = root.putObject("rigs");
    double errSum = 0;
    int errN = 0;
    int correct = 0;
    for (Map.Entry<String, Rig> e : rigs.entrySet()) {
      Rig rig = e.getValue();
      ObjectNode o = rigsJson.putObject(e.getKey());
      o.put("results", rig.results);
      o.set("estimates", points(rig.estimates));
      o.set("truth", points(rig.truth));
      double s = 0;
      int c = 0;
      for (Scored sc : rig.scored) {
        s += sc.errorCm();
        c += sc.classCorrect() ? 1 : 0;
      }
      if (!rig.scored.isEmpty()) {
        o.put("meanErrorCm", s / rig.scored.size());
        o.put("classAcc", (double) c / rig.scored.size());
      }
      o.put("scored", rig.scored.size());
      errSum += s;
      errN += rig.scored.size();
      correct += c;
    }
    if (errN > 0) {
      root.put("meanErrorCm", errSum / errN);
      root.put("classAcc", (double) correct / errN);
    }
    root.put("scored", errN);
    root.set("answers", JSON.valueToTree(answers));
    root.set("deadLetters", JSON.valueToTree(deadLetters));
    root.set("recentDeadLetters", JSON.valueToTree(recentDeadLetters));
    root.set("undecodable", JSON.valueToTree(undecodable));
    return root;
  }

  private static ObjectNode latestJson(FusionResult r) {
    ObjectNode o = JSON.createObjectNode();
    o.put("rig", r.getRigId().toString());
    o.put("captureTime", r.getCaptureTime().toEpochMilli());
    o.put("x", r.getXCm());
    o.put("y", r.getYCm());
    o.put("className", r.getClassName().toString());
    o.put("budgetFraction", r.getBudgetFraction());
    o.put("budgetLayers", r.getBudgetLayers());
    o.put("policy", r.getControllerPolicy().toString());
    o.put("latencyMs", r.getLatency().getTotalMs());
    o.put("degraded", r.getDegraded());
    int used = 0;
    ArrayNode mods = o.putArray("modalities");
    for (ModalityUsage u : r.getModalities()) {
      ObjectNode m = mods.addObject();
      m.put("name", u.getModality().name().toLowerCase(Locale.ROOT));
      m.put("present", u.getPresent());
      m.put("layers", u.getLayers().size());
      m.put("qoi", u.getQoi());
      used += u.getLayers().size();
    }
    o.put("layersUsed", used);
    // The full model's layers per modality, from the budget it ran under (L = round(f * total)).
    if (r.getBudgetFraction() > 0 && !r.getModalities().isEmpty()) {
      o.put(
          "layersPerModality",
          (int) Math.round(r.getBudgetLayers() / r.getBudgetFraction() / r.getModalities().size()));
    }
    return o;
  }

  private static ArrayNode points(Deque<Point> ps) {
    ArrayNode a = JSON.createArrayNode();
    for (Point p : ps) {
      a.addArray().add(p.t()).add(round1(p.x())).add(round1(p.y()));
    }
    return a;
  }

  private static double round1(double v) {
    return Math.round(v * 10) / 10.0;
  }

  private ObjectState truthNear(Rig rig, long t) {
    Map.Entry<Long, ObjectState> lo = rig.truthByTime.floorEntry(t);
    Map.Entry<Long, ObjectState> hi = rig.truthByTime.ceilingEntry(t);
    Map.Entry<Long, ObjectState> best = lo;
    if (best == null || (hi != null && hi.getKey() - t < t - best.getKey())) {
      best = hi;
    }
    return best != null && Math.abs(best.getKey() - t) <= TRUTH_MATCH_MS ? best.getValue() : null;
  }

  private Rig rig(String id) {
    return rigs.computeIfAbsent(id, k -> new Rig());
  }

  private static <T> void push(Deque<T> q, T v, int max) {
    q.addLast(v);
    while (q.size() > max) {
      q.removeFirst();
    }
  }
}
