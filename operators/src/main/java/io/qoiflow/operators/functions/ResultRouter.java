package io.qoiflow.operators.functions;

import io.qoiflow.engine.Percentiles;
import io.qoiflow.operators.deadletter.Outcome;
import io.qoiflow.operators.inference.EngineService;
import io.qoiflow.records.DeadLetter;
import io.qoiflow.records.FusionResult;
import io.qoiflow.records.Modality;
import io.qoiflow.records.ModalityUsage;
import io.qoiflow.records.Telemetry;
import java.time.Instant;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.formats.avro.typeutils.AvroTypeInfo;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.runtime.metrics.DescriptiveStatisticsHistogram;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

/**
 * Routes inference outcomes: results go on, failures to {@link #DEAD_LETTERS}. It also keeps the
 * operator's own figures (latency percentiles, engine utilisation, queue depth) and every {@code
 * intervalMs} publishes them as {@link Telemetry} to {@link #TELEMETRY}, which the job writes to
 * the telemetry topic, closing the loop with the budget patterns. Metrics: budget, layers and QoI
 * per modality, inference latency, dead letters by reason.
 */
public final class ResultRouter extends ProcessFunction<Outcome<FusionResult>, FusionResult> {
  private static final long serialVersionUID = 1L;

  public static final OutputTag<DeadLetter> DEAD_LETTERS =
      new OutputTag<>("inference-dead-letters", new AvroTypeInfo<>(DeadLetter.class));
  public static final OutputTag<Telemetry> TELEMETRY =
      new OutputTag<>("self-telemetry", new AvroTypeInfo<>(Telemetry.class));

  private static final int WINDOW = 512;

  private final String poolId;
  private final long intervalMs;
  private transient double[] latencies;
  private transient int count;
  private transient double engineMs;
  private transient long windowStart;
  private transient String hostId;
  private transient DeadLetterSplitter.DeadLetterCounters deadLetters;
  private transient volatile double budget;
  private transient Histogram latencyUs;
  private transient Map<Double, Counter> resultsByBudget;
  private transient MetricGroup metrics;
  private transient double[] layers;
  private transient double[] qoi;

  public ResultRouter(String poolId, long intervalMs) {
    this.poolId = poolId;
    this.intervalMs = intervalMs;
  }

  @Override
  public void open(OpenContext openContext) {
    latencies = new double[WINDOW];
    windowStart = System.currentTimeMillis();
    hostId = getRuntimeContext().getTaskInfo().getTaskNameWithSubtasks().replaceAll("\\s+", "_");
    MetricGroup g = getRuntimeContext().getMetricGroup();
    deadLetters = new DeadLetterSplitter.DeadLetterCounters(g);
    g.gauge("budgetFraction", (Gauge<Double>) () -> budget);
    // A distribution, not a last value: the reporter exports its quantiles (p50, p95, p99, ...).
    // Microseconds: a histogram holds longs, and results take a few ms.
    latencyUs = g.histogram("inferenceLatencyUs", new DescriptiveStatisticsHistogram(WINDOW));
    resultsByBudget = new HashMap<>();
    metrics = g;
    int n = Modality.values().length;
    layers = new double[n];
    qoi = new double[n];
    for (Modality m : Modality.values()) {
      MetricGroup modality = g.addGroup("modality", m.name().toLowerCase(Locale.ROOT));
      modality.gauge("layers", (Gauge<Double>) () -> layers[m.ordinal()]);
      modality.gauge("qoi", (Gauge<Double>) () -> qoi[m.ordinal()]);
    }
  }

  @Override
  public void processElement(Outcome<FusionResult> in, Context ctx, Collector<FusionResult> out) {
    if (in.isValid()) {
      FusionResult r = in.value;
      budget = r.getBudgetFraction();
      latencyUs.update(Math.round(r.getLatency().getTotalMs() * 1000));
      resultsByBudget
          .computeIfAbsent(
              r.getBudgetFraction(),
              b ->
                  // Percent of all layers (25, 33, 50, 67, 100 by default): a label value
                  // without the '.' the Prometheus reporter would turn into '_'.
                  metrics
                      .addGroup("budgetPercent", String.valueOf(Math.round(b * 100)))
                      .counter("results"))
          .inc();
      for (ModalityUsage u : r.getModalities()) {
        layers[u.getModality().ordinal()] = u.getLayers().size();
        qoi[u.getModality().ordinal()] = u.getQoi();
      }
      if (count < WINDOW) {
        latencies[count] = r.getLatency().getTotalMs();
      }
      count++;
      engineMs +=
          r.getLatency().getDecodeMs()
              + r.getLatency().getControllerMs()
              + r.getLatency().getEmbedMs()
              + r.getLatency().getLayersMs()
              + r.getLatency().getFusionMs();
      out.collect(r);
    } else {
      deadLetters.count(in.deadLetter.getReasonCode());
      ctx.output(DEAD_LETTERS, in.deadLetter);
    }
    long now = System.currentTimeMillis();
    if (now - windowStart >= intervalMs && count > 0) {
      ctx.output(TELEMETRY, telemetry(now));
      count = 0;
      engineMs = 0;
      windowStart = now;
    }
  }

  private Telemetry telemetry(long now) {
    int n = Math.min(count, WINDOW);
    double[] sorted = Arrays.copyOf(latencies, n);
    Arrays.sort(sorted);
    Runtime rt = Runtime.getRuntime();
    // Without a GPU reading, utilisation is the engine's busy share of the interval.
    double utilisation = Math.min(1.0, engineMs / Math.max(1, now - windowStart));
    return Telemetry.newBuilder()
        .setPoolId(poolId)
        .setHostId(hostId)
        .setTime(Instant.ofEpochMilli(now))
        .setGpuUtilization(utilisation)
        .setMemoryUsedMb((rt.totalMemory() - rt.freeMemory()) / 1048576.0)
        .setMemoryTotalMb(rt.maxMemory() / 1048576.0)
        .setTemperatureC(0)
        .setThrottled(false)
        .setInferenceP50Ms(Percentiles.nearestRank(sorted, 0.50))
        .setInferenceP99Ms(Percentiles.nearestRank(sorted, 0.99))
        .setQueueDepth(EngineService.queueDepthOfAll())
        .setConsumerLag(0)
        .build();
  }
}
