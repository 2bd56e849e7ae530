package io.qoiflow.demo;

import io.qoiflow.records.BudgetDecision;
import io.qoiflow.records.DeadLetter;
import io.qoiflow.records.FusionResult;
import io.qoiflow.records.Modality;
import io.qoiflow.records.ModalityUsage;
import io.qoiflow.records.ObjectState;
import io.qoiflow.records.QaAnswer;
import io.qoiflow.schemas.SingleObjectSerde;
import io.qoiflow.schemas.Topics;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.BiFunction;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * Reads what the job committed (results, budget decisions, dead letters; read_committed) and keeps
 * the running figures of the demo: a console line per second and the final summary. Ground truth
 * comes from {@code truth}, looked up by rig and capture time.
 */
public final class LiveView implements AutoCloseable {
  private final KafkaConsumer<byte[], byte[]> consumer;
  private final BiFunction<String, Long, ObjectState> truth;
  private final BiFunction<String, Long, Set<Modality>> sent;
  private final SingleObjectSerde<FusionResult> results =
      SingleObjectSerde.forClass(FusionResult.class);
  private final SingleObjectSerde<BudgetDecision> budgets =
      SingleObjectSerde.forClass(BudgetDecision.class);
  private final SingleObjectSerde<DeadLetter> deadLetters =
      SingleObjectSerde.forClass(DeadLetter.class);
  private final SingleObjectSerde<QaAnswer> answers = SingleObjectSerde.forClass(QaAnswer.class);

  // Running totals.
  private long resultCount;
  private long fusedShort;
  private long budgetChanges;
  private int maxLayersOverBudget = Integer.MIN_VALUE;
  private double errorSum;
  private long errorCount;
  private long classCorrect;
  private final Map<String, Long> deadByReason = new TreeMap<>();
  private long answerCount;
  private final Map<String, Long> answersByModality = new TreeMap<>();
  private QaAnswer lastAnswer;
  private long firstResultNanos;
  private long lastResultNanos;

  // Since the last console line.
  private long windowResults;
  private final double[] windowLayers = new double[Modality.values().length];
  private final double[] windowQoi = new double[Modality.values().length];
  private final int[] windowPresent = new int[Modality.values().length];
  private double windowError;
  private long windowErrorCount;
  private double budget = Double.NaN;
  private String budgetReason = "initial";

  /**
   * @param truth the true target state of a rig at a capture time, or null
   * @param sent the modalities whose frames were sent for a rig and capture time, or null
   */
  public LiveView(
      String bootstrap,
      BiFunction<String, Long, ObjectState> truth,
      BiFunction<String, Long, Set<Modality>> sent) {
    this.sent = sent;
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ConsumerConfig.GROUP_ID_CONFIG, "qoiflow-demo-view");
    p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    this.consumer =
        new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    this.truth = truth;
    consumer.subscribe(
        List.of(Topics.RESULTS_FUSION, Topics.BUDGET, Topics.DEADLETTER, Topics.RESULTS_QA));
  }

  /** Polls for up to {@code maxWait} and folds in what arrived; returns how many records. */
  public int poll(Duration maxWait) {
    var records = consumer.poll(maxWait);
    for (ConsumerRecord<byte[], byte[]> r : records) {
      try {
        switch (r.topic()) {
          case Topics.RESULTS_FUSION -> onResult(results.decode(r.value()));
          case Topics.BUDGET -> onBudget(budgets.decode(r.value()));
          case Topics.RESULTS_QA -> onAnswer(answers.decode(r.value()));
          case Topics.DEADLETTER ->
              deadByReason.merge(deadLetters.decode(r.value()).getReasonCode(), 1L, Long::sum);
          default -> {}
        }
      } catch (Exception e) {
        deadByReason.merge("view-undecodable", 1L, Long::sum);
      }
    }
    return records.count();
  }

  /** Reads until a poll of {@code quiet} brings nothing: what is committed by now is counted. */
  public void drain(Duration quiet) {
    while (poll(quiet) > 0) {
      // keep reading
    }
  }

  private void onResult(FusionResult r) {
    long now = System.nanoTime();
    if (resultCount == 0) {
      firstResultNanos = now;
    }
    lastResultNanos = now;
    resultCount++;
    Set<Modality> sentHere = sent.apply(r.getRigId(), r.getCaptureTime().toEpochMilli());
    if (sentHere != null) {
      Set<Modality> present = EnumSet.noneOf(Modality.class);
      for (ModalityUsage u : r.getModalities()) {
        if (u.getPresent()) {
          present.add(u.getModality());
        }
      }
      if (!present.containsAll(sentHere)) {
        fusedShort++; // a frame was sent for this set but the set was fused without it
      }
    }
    windowResults++;
    int layers = 0;
    for (ModalityUsage u : r.getModalities()) {
      int m = u.getModality().ordinal();
      layers += u.getLayers().size();
      windowLayers[m] += u.getLayers().size();
      if (u.getPresent()) {
        windowQoi[m] += u.getQoi();
        windowPresent[m]++;
      }
    }
    maxLayersOverBudget = Math.max(maxLayersOverBudget, layers - r.getBudgetLayers());
    if (Double.isNaN(budget)) {
      budget = r.getBudgetFraction();
    }
    ObjectState t = truth.apply(r.getRigId(), r.getCaptureTime().toEpochMilli());
    if (t != null) {
      double e = Math.hypot(r.getXCm() - t.getXCm(), r.getYCm() - t.getYCm());
      errorSum += e;
      errorCount++;
      windowError += e;
      windowErrorCount++;
      if (r.getClassIndex() == t.getClassIndex()) {
        classCorrect++;
      }
    }
  }

  private void onAnswer(QaAnswer a) {
    answerCount++;
    answersByModality.merge(a.getModalityUsed().name().toLowerCase(Locale.ROOT), 1L, Long::sum);
    lastAnswer = a;
  }

  private void onBudget(BudgetDecision d) {
    budgetChanges++;
    budget = d.getBudgetFraction();
    budgetReason = d.getReason();
  }

  /** One console line for the last window, then a new window. */
  public void printLine(PrintWriter out, double elapsedS, double windowS, String phase) {
    StringBuilder layers = new StringBuilder();
    StringBuilder qoi = new StringBuilder();
    for (Modality m : Modality.values()) {
      String name = m.name().toLowerCase(Locale.ROOT).substring(0, 3);
      double l = windowResults == 0 ? 0 : windowLayers[m.ordinal()] / windowResults;
      double q =
          windowPresent[m.ordinal()] == 0 ? 0 : windowQoi[m.ordinal()] / windowPresent[m.ordinal()];
      layers.append(String.format(Locale.ROOT, " %s %s%3.1f", name, bar(l, 8), l));
      qoi.append(String.format(Locale.ROOT, " %s %.2f", name, q));
    }
    out.printf(
        Locale.ROOT,
        "[%5.1fs] %-28s budget %3.0f%% (%s) | %5.1f res/s | err %5.1f cm | dead %d%n"
            + "         layers%s%n         qoi   %s%n%s",
        elapsedS,
        phase,
        Double.isNaN(budget) ? 100 : budget * 100,
        budgetReason,
        windowResults / Math.max(windowS, 1e-3),
        windowErrorCount == 0 ? Double.NaN : windowError / windowErrorCount,
        deadByReason.values().stream().mapToLong(Long::longValue).sum(),
        layers,
        qoi,
        lastAnswer == null
            ? ""
            : String.format(
                Locale.ROOT,
                "         qa    \"%s\" -> %s (%s, N=%d; %d answers)%n",
                lastAnswer.getQuestion(),
                lastAnswer.getAnswer(),
                lastAnswer.getModalityUsed().name().toLowerCase(Locale.ROOT),
                lastAnswer.getConnectedBlocks(),
                answerCount));
    out.flush();
    windowResults = 0;
    windowError = 0;
    windowErrorCount = 0;
    java.util.Arrays.fill(windowLayers, 0);
    java.util.Arrays.fill(windowQoi, 0);
    java.util.Arrays.fill(windowPresent, 0);
  }

  private static String bar(double layers, int width) {
    int n = (int) Math.round(Math.min(layers, width));
    return "█".repeat(n) + "·".repeat(width - n);
  }

  public long resultCount() {
    return resultCount;
  }

  /** The demo's closing figures, as {@code --summary} writes them. */
  public Map<String, Object> summary(long frameSets, long questions) {
    Map<String, Object> s = new LinkedHashMap<>();
    s.put("framesets", frameSets);
    s.put("results", resultCount);
    s.put("fused_short", fusedShort);
    s.put("deadletters", new TreeMap<>(deadByReason));
    s.put("budget_changes", budgetChanges);
    s.put("max_layers_over_budget", resultCount == 0 ? 0 : maxLayersOverBudget);
    s.put("mean_loc_error_cm", errorCount == 0 ? null : errorSum / errorCount);
    s.put("class_acc", errorCount == 0 ? null : (double) classCorrect / errorCount);
    double spanS = (lastResultNanos - firstResultNanos) / 1e9;
    s.put("results_per_s", spanS <= 0 ? null : (resultCount - 1) / spanS);
    s.put("questions", questions);
    s.put("qa_answers", answerCount);
    s.put("qa_answers_by_modality", new TreeMap<>(answersByModality));
    return s;
  }

  @Override
  public void close() {
    consumer.close();
  }
}
