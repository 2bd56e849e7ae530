package io.qoiflow.benchmarks;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.qoiflow.engine.Percentiles;
import io.qoiflow.local.LocalKafkaBroker;
import io.qoiflow.records.FusionResult;
import io.qoiflow.records.LabelledSample;
import io.qoiflow.records.LatencyBreakdown;
import io.qoiflow.records.Modality;
import io.qoiflow.records.SensorFrame;
import io.qoiflow.schemas.SensorContract;
import io.qoiflow.schemas.SingleObjectSerde;
import io.qoiflow.schemas.Topics;
import io.qoiflow.simulator.CorruptionSpec;
import io.qoiflow.simulator.Simulator;
import io.qoiflow.topology.JobConfig;
import io.qoiflow.topology.JobEnvironment;
import io.qoiflow.topology.KafkaIo;
import io.qoiflow.topology.QoiFlowJob;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The whole job, Kafka → Flink → ONNX Runtime → Kafka, on a real local broker and a Flink
 * MiniCluster in this JVM, at fixed budgets. Two kinds of run per budget:
 *
 * <ul>
 *   <li><b>backlog</b>: every FrameSet of K rigs is in Kafka before the job starts; the job runs
 *       with bounded sources to completion. FrameSets/s and CPU per FrameSet are taken between the
 *       first and the last result the sink writes (so job start-up and the final commit are out).
 *   <li><b>paced</b>: an unbounded job; once it answers, FrameSets are produced at a fixed rate (a
 *       fraction of that budget's backlog throughput) with capture time = their scheduled send
 *       time, so a producer that falls behind counts against latency. Latency = the wall time at
 *       which a {@code read_committed} consumer first sees the result − capture time; also
 *       reported: the time a {@code read_uncommitted} consumer first sees it (written by the sink,
 *       before the checkpoint commits its transaction).
 * </ul>
 *
 * The job's self-telemetry goes to a discarding sink and no telemetry is produced, so no budget
 * pattern fires and the budget stays at {@code --initial-budget}; each result's budget is checked.
 */
public final class E2eBench {
  private static final Logger LOG = LoggerFactory.getLogger(E2eBench.class);

  /** Frames of one rig and capture time less than this apart would join into one set. */
  private static final long MIN_RIG_SPACING_MS = 50;

  /** How the bench runs. */
  public record Settings(
      Path model,
      int rigs,
      int samplesPerRig,
      long seed,
      String corruption,
      List<Integer> budgets,
      String policy,
      int parallelism,
      int partitions,
      long checkpointIntervalMs,
      int maxBatch,
      long maxBatchDelayMs,
      double pacedLoad,
      double pacedRate,
      double pacedSeconds,
      double warmupSeconds) {}

  /** A backlog run's figures. */
  record Backlog(
      int results,
      double framesetsPerS,
      double cpuMsPerFrameSet,
      double engineThreadCpuMsPerFrameSet,
      double brokerCpuMsPerFrameSet,
      String window,
      Map<String, Double> stagesMs,
      Map<String, Double> cpuByThread,
      long wrongBudget,
      long fusedShort,
      double wallS) {}

  /** A paced run's figures. */
  record Paced(
      double ratePerS,
      int measured,
      int answered,
      double p50Ms,
      double p99Ms,
      double p50WrittenMs,
      double p99WrittenMs,
      double maxMs,
      Map<String, Double> whereMs,
      long wrongBudget,
      long fusedShort,
      int rigs) {}

  private final Settings s;
  private final ObjectMapper om;
  private final List<LabelledSample> samples = new ArrayList<>();
  private LocalKafkaBroker broker;
  private Path checkpointDir;
  private int runIndex;

  public E2eBench(Settings settings, ObjectMapper om) {
    this.s = settings;
    this.om = om;
  }

  /** Runs everything; the broker is stopped on return. */
  public ObjectNode run() throws Exception {
    // In capture-time order across rigs, as rigs send: rigs share partitions, and a partition that
    // went back in event time would make its frames late.
    List<Simulator> sims = new ArrayList<>();
    for (int r = 0; r < s.rigs(); r++) {
      sims.add(new Simulator(s.seed() + r, CorruptionSpec.parse(s.corruption()), "rig-" + r));
    }
    for (int i = 0; i < s.samplesPerRig(); i++) {
      for (Simulator sim : sims) {
        LabelledSample ls = sim.next();
        if (!ls.getFrames().isEmpty()) {
          samples.add(ls);
        }
      }
    }
    ObjectNode root = om.createObjectNode();
    checkpointDir = Files.createTempDirectory("qoiflow-bench-checkpoints");
    broker = LocalKafkaBroker.start();
    try {
      broker.createTopics(Topics.all(s.partitions()));
      try (KafkaProducer<byte[], byte[]> p = producer(false)) {
        SingleObjectSerde<SensorFrame> serde = SingleObjectSerde.forClass(SensorFrame.class);
        for (LabelledSample ls : samples) {
          for (SensorFrame f : ls.getFrames()) {
            send(p, serde, f);
          }
        }
        p.flush();
      }
      // Every backlog run first: a backlog job reads its topics from the start, so the paced
      // runs' frames must not be there yet.
      Map<Integer, Backlog> backlogs = new HashMap<>();
      for (int pct : s.budgets()) {
        backlogs.put(pct, backlog(s.policy(), pct / 100.0));
      }
      Backlog full = backlog("full", 1.0);
      var rows = root.putArray("rows");
      Map<Integer, Paced> paced = new HashMap<>();
      for (int pct : s.budgets()) {
        Backlog b = backlogs.get(pct);
        double rate = s.pacedRate() > 0 ? s.pacedRate() : s.pacedLoad() * b.framesetsPerS();
        Paced pc = paced(s.policy(), pct / 100.0, rate);
        paced.put(pct, pc);
        ObjectNode row = rows.addObject();
        row.put("budget_pct", pct);
        row.put("framesets_per_s", b.framesetsPerS());
        row.put("p50_ms", pc.p50Ms());
        row.put("p99_ms", pc.p99Ms());
        putDetails(row, b, pc);
      }
      root.put("full_depth_framesets_per_s", full.framesetsPerS());
      ObjectNode fullNode = root.putObject("full_depth");
      fullNode.put("policy", "full");
      fullNode.put("framesets_per_s", full.framesetsPerS());
      putBacklog(fullNode, full);
      if (backlogs.containsKey(33)) {
        root.put(
            "speedup_b33_vs_full_depth", backlogs.get(33).framesetsPerS() / full.framesetsPerS());
        Paced p33 = paced.get(33);
        ObjectNode at80 = root.putObject("latency_at_load_b33");
        at80.put("load_fraction_of_capacity", p33.ratePerS() / backlogs.get(33).framesetsPerS());
        at80.put("rate_per_s", p33.ratePerS());
        at80.put("p50_ms", p33.p50Ms());
        at80.put("p99_ms", p33.p99Ms());
        at80.put("p99_over_p50", p33.p99Ms() / p33.p50Ms());
        at80.put("p50_written_ms", p33.p50WrittenMs());
        at80.put("p99_written_ms", p33.p99WrittenMs());
        at80.put("p99_over_p50_written", p33.p99WrittenMs() / p33.p50WrittenMs());
      }
    } finally {
      broker.close();
      try (var files = Files.walk(checkpointDir)) {
        files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
      }
    }
    root.put("framesets_per_run", samples.size());
    return root;
  }

  private void putDetails(ObjectNode row, Backlog b, Paced pc) {
    putBacklog(row, b);
    ObjectNode p = row.putObject("paced");
    p.put("rate_per_s", pc.ratePerS());
    p.put("rigs", pc.rigs());
    p.put("measured", pc.measured());
    p.put("answered", pc.answered());
    p.put("p50_written_ms", pc.p50WrittenMs());
    p.put("p99_written_ms", pc.p99WrittenMs());
    p.put("max_ms", pc.maxMs());
    p.put("wrong_budget", pc.wrongBudget());
    p.put("fused_short", pc.fusedShort());
    ObjectNode w = p.putObject("where_ms");
    pc.whereMs().forEach(w::put);
  }

  private static void putBacklog(ObjectNode row, Backlog b) {
    row.put("cpu_ms_per_frameset", b.cpuMsPerFrameSet());
    row.put("engine_thread_cpu_ms_per_frameset", b.engineThreadCpuMsPerFrameSet());
    row.put("broker_cpu_ms_per_frameset", b.brokerCpuMsPerFrameSet());
    ObjectNode st = row.putObject("engine_stages_ms_per_frameset");
    b.stagesMs().forEach(st::put);
    ObjectNode th = row.putObject("cpu_ms_per_frameset_by_thread");
    b.cpuByThread().forEach(th::put);
    row.put("engine_busy_share", b.framesetsPerS() * b.stagesMs().get("engine_total") / 1000);
    row.put("results", b.results());
    row.put("wrong_budget", b.wrongBudget());
    row.put("fused_short", b.fusedShort());
    row.put("job_wall_s", b.wallS());
    row.put("throughput_window", b.window());
  }

  private JobConfig config(String group, String policy, double budget, boolean bounded) {
    return JobConfig.fromArgs(
        new String[] {
          "--bootstrap", broker.bootstrapServers(),
          "--model", s.model().toString(),
          "--provider", "cpu",
          "--policy", policy,
          "--initial-budget", String.valueOf(budget),
          "--group-id", group,
          "--transactional-id-prefix", group,
          "--bounded", String.valueOf(bounded),
          "--checkpoint-interval-ms", String.valueOf(s.checkpointIntervalMs()),
          "--max-batch", String.valueOf(s.maxBatch()),
          "--max-batch-delay-ms", String.valueOf(s.maxBatchDelayMs())
        });
  }

  private StreamExecutionEnvironment job(JobConfig config) {
    // A restart would replay input and distort every figure: fail the run instead.
    Configuration noRestart = new Configuration();
    noRestart.set(RestartStrategyOptions.RESTART_STRATEGY, "none");
    StreamExecutionEnvironment env =
        JobEnvironment.local(config, s.parallelism(), checkpointDir, noRestart);
    KafkaIo io = new KafkaIo(config, QoiFlowJob.contract(config));
    QoiFlowJob.Outputs real = io.outputs();
    // Self-telemetry discarded: nothing closes the budget loop, so the budget stays put.
    QoiFlowJob.defineWorkflow(
        env,
        config,
        io.inputs(env),
        new QoiFlowJob.Outputs(
            real.results(),
            real.deadLetters(),
            real.budget(),
            QoiFlowJob.Output.sink(new DiscardingSink<>())));
    return env;
  }

  private Backlog backlog(String policy, double budget) throws Exception {
    String group = "bench-" + (runIndex++);
    LOG.info("backlog run {}: policy {} budget {}", group, policy, budget);
    JobConfig config = config(group, policy, budget, true);
    Map<TopicPartition, Long> from = ResultWatcher.endOffsets(broker.bootstrapServers());
    Map<TopicPartition, Long> deadFrom =
        ResultWatcher.endOffsets(broker.bootstrapServers(), Topics.DEADLETTER);
    try (ResultWatcher w = new ResultWatcher(broker.bootstrapServers(), from, broker.pid())) {
      ResultWatcher.CpuSnapshot start = w.snapshot();
      job(config).execute("qoiflow-bench-" + group);
      ResultWatcher.CpuSnapshot end = w.snapshot();
      double wallS = (end.wallNanos() - start.wallNanos()) / 1e9;
      if (!w.awaitWritten(samples.size(), Duration.ofSeconds(30))
          || !w.awaitCommitted(samples.size(), Duration.ofSeconds(30))) {
        throw new IllegalStateException(
            group
                + ": "
                + w.writtenCount()
                + " results written, "
                + w.committedCount()
                + " committed, of "
                + samples.size()
                + " FrameSets; dead letters by reason: "
                + ResultWatcher.deadLetterReasons(broker.bootstrapServers(), deadFrom));
      }
      // Let the watcher's last poll settle so its last snapshot follows the last result.
      Thread.sleep(200);
      ResultWatcher.CpuSnapshot a = w.first();
      ResultWatcher.CpuSnapshot b = w.last();
      int n = w.lastCount() - w.firstCount();
      boolean window = n >= Math.max(20, samples.size() / 4);
      if (!window) {
        // Too few results after the first poll to time (a tiny run): the whole job instead,
        // start-up included, so the figure can only be too low.
        a = start;
        b = end;
        n = samples.size();
      }
      double seconds = (b.wallNanos() - a.wallNanos()) / 1e9;
      Map<String, Double> stages = stageMeans(w.results().values());
      return new Backlog(
          w.writtenCount(),
          n / seconds,
          (b.processNs() - a.processNs()) / 1e6 / n,
          a.engineThreadNs() < 0 || b.engineThreadNs() < 0
              ? Double.NaN
              : (b.engineThreadNs() - a.engineThreadNs()) / 1e6 / n,
          a.brokerNs() < 0 ? Double.NaN : (b.brokerNs() - a.brokerNs()) / 1e6 / n,
          window ? "results" : "whole job",
          stages,
          w.cpuMsPerFrameSetByThread(),
          wrongBudget(w.results().values(), budget),
          fusedShort(w.results().values()),
          wallS);
    }
  }

  private Paced paced(String policy, double budget, double rate) throws Exception {
    String group = "bench-" + (runIndex++);
    LOG.info("paced run {}: policy {} budget {} at {}/s", group, policy, budget, rate);
    JobConfig config = config(group, policy, budget, false);
    startAtEnd(group);
    Map<TopicPartition, Long> from = ResultWatcher.endOffsets(broker.bootstrapServers());
    int rigs = (int) Math.max(s.rigs(), Math.ceil(rate * MIN_RIG_SPACING_MS / 1000.0));
    SingleObjectSerde<SensorFrame> serde = SingleObjectSerde.forClass(SensorFrame.class);
    try (ResultWatcher w = new ResultWatcher(broker.bootstrapServers(), from, broker.pid());
        KafkaProducer<byte[], byte[]> p = producer(true)) {
      JobClient job = job(config).executeAsync("qoiflow-bench-" + group);
      try {
        // One probe FrameSet until it comes back committed: the job is up, the engine loaded.
        long probeT = System.currentTimeMillis();
        for (SensorFrame f : samples.get(0).getFrames()) {
          send(p, serde, rewrite(f, "probe", probeT, 0));
        }
        p.flush();
        if (!w.awaitCommitted(1, Duration.ofSeconds(120))) {
          throw new IllegalStateException(group + ": the probe FrameSet never came back");
        }
        long warmup = Math.round(s.warmupSeconds() * rate);
        long measured = Math.max(1, Math.round(s.pacedSeconds() * rate));
        long t0 = System.nanoTime();
        long wall0 = System.currentTimeMillis();
        List<String> keys = new ArrayList<>();
        for (long i = 0; i < warmup + measured; i++) {
          long due = t0 + (long) (i * 1e9 / rate);
          long wait = due - System.nanoTime();
          if (wait > 0) {
            LockSupport.parkNanos(wait);
          }
          long capture = wall0 + (long) (i * 1000.0 / rate);
          String rig = "rig-p" + (i % rigs);
          LabelledSample ls = samples.get((int) (i % samples.size()));
          for (SensorFrame f : ls.getFrames()) {
            send(p, serde, rewrite(f, rig, capture, i / rigs + 1));
          }
          if (i >= warmup) {
            keys.add(ResultWatcher.key(rig, capture));
          }
        }
        p.flush();
        long expected = 1 + warmup + measured;
        w.awaitCommitted((int) expected, Duration.ofMillis(30_000 + 3 * s.checkpointIntervalMs()));
        Thread.sleep(200);
        double[] committed = latencies(keys, w.committedAt());
        double[] written = latencies(keys, w.writtenAt());
        List<FusionResult> measuredResults = new ArrayList<>();
        double ingest = 0;
        double commitWait = 0;
        int both = 0;
        for (String k : keys) {
          FusionResult r = w.results().get(k);
          Long wt = w.writtenAt().get(k);
          Long ct = w.committedAt().get(k);
          if (r != null && wt != null && ct != null) {
            measuredResults.add(r);
            long capture = r.getCaptureTime().toEpochMilli();
            ingest += wt - capture - r.getLatency().getTotalMs();
            commitWait += ct - wt;
            both++;
          }
        }
        Map<String, Double> where = new LinkedHashMap<>();
        where.put("kafka_in_join_handoff_sink_write", both == 0 ? Double.NaN : ingest / both);
        Map<String, Double> stages = stageMeans(measuredResults);
        stages.forEach(where::put);
        where.put("commit_wait", both == 0 ? Double.NaN : commitWait / both);
        return new Paced(
            rate,
            keys.size(),
            committed.length,
            Percentiles.nearestRank(committed, 0.50),
            Percentiles.nearestRank(committed, 0.99),
            Percentiles.nearestRank(written, 0.50),
            Percentiles.nearestRank(written, 0.99),
            committed.length == 0 ? Double.NaN : committed[committed.length - 1],
            where,
            wrongBudget(measuredResults, budget),
            fusedShort(measuredResults),
            rigs);
      } finally {
        job.cancel().get(60, TimeUnit.SECONDS);
        try {
          job.getJobExecutionResult().get(60, TimeUnit.SECONDS);
        } catch (Exception e) {
          // Cancelled: the result future fails, as expected.
        }
      }
    }
  }

  /** Commits the group's offsets at the end of every input topic, so a new job reads only new. */
  private void startAtEnd(String group) throws Exception {
    Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
    Properties props = new Properties();
    props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
    try (Admin admin = Admin.create(props)) {
      Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
      for (var e : Topics.all(s.partitions()).entrySet()) {
        if (SensorContract.frameTopics().contains(e.getKey())
            || e.getKey().equals(Topics.QA_QUESTIONS)
            || e.getKey().equals(Topics.TELEMETRY)) {
          for (int part = 0; part < e.getValue(); part++) {
            latest.put(new TopicPartition(e.getKey(), part), OffsetSpec.latest());
          }
        }
      }
      admin
          .listOffsets(latest)
          .all()
          .get(30, TimeUnit.SECONDS)
          .forEach((tp, info) -> offsets.put(tp, new OffsetAndMetadata(info.offset())));
      admin.alterConsumerGroupOffsets(group, offsets).all().get(30, TimeUnit.SECONDS);
    }
  }

  private static SensorFrame rewrite(SensorFrame f, String rig, long captureMs, long sequence) {
    return new SensorFrame(
        rig,
        f.getModality(),
        Instant.ofEpochMilli(captureMs),
        sequence,
        f.getShape(),
        f.getDtype(),
        f.getPayload(),
        f.getMetadata());
  }

  private static double[] latencies(List<String> keys, Map<String, Long> seenAt) {
    double[] out =
        keys.stream()
            .filter(seenAt::containsKey)
            .mapToDouble(k -> seenAt.get(k) - Long.parseLong(k.substring(k.lastIndexOf('@') + 1)))
            .toArray();
    Arrays.sort(out);
    return out;
  }

  /** Mean per FrameSet of the latency breakdown each result carries. */
  private static Map<String, Double> stageMeans(Collection<FusionResult> results) {
    double queue = 0;
    double decode = 0;
    double controller = 0;
    double embed = 0;
    double layers = 0;
    double fusion = 0;
    for (FusionResult r : results) {
      LatencyBreakdown l = r.getLatency();
      queue += l.getQueueMs();
      decode += l.getDecodeMs();
      controller += l.getControllerMs();
      embed += l.getEmbedMs();
      layers += l.getLayersMs();
      fusion += l.getFusionMs();
    }
    int n = Math.max(1, results.size());
    Map<String, Double> m = new LinkedHashMap<>();
    m.put("queue", queue / n);
    m.put("decode", decode / n);
    m.put("controller", controller / n);
    m.put("embed", embed / n);
    m.put("layers", layers / n);
    m.put("fusion", fusion / n);
    m.put("engine_total", (decode + controller + embed + layers + fusion) / n);
    return m;
  }

  /** Results that lack a modality whose frame was sent for their set. */
  private long fusedShort(Collection<FusionResult> results) {
    Map<String, Set<Modality>> sent = new HashMap<>();
    for (LabelledSample ls : samples) {
      for (SensorFrame f : ls.getFrames()) {
        sent.computeIfAbsent(
                ResultWatcher.key(f.getRigId(), f.getCaptureTime().toEpochMilli()),
                k -> EnumSet.noneOf(Modality.class))
            .add(f.getModality());
      }
    }
    return results.stream()
        .filter(
            r -> {
              Set<Modality> s =
                  sent.get(ResultWatcher.key(r.getRigId(), r.getCaptureTime().toEpochMilli()));
              return s != null && r.getMissingModalities().stream().anyMatch(s::contains);
            })
        .count();
  }

  private static long wrongBudget(Collection<FusionResult> results, double budget) {
    return results.stream().filter(r -> Math.abs(r.getBudgetFraction() - budget) > 1e-9).count();
  }

  private KafkaProducer<byte[], byte[]> producer(boolean lowLatency) {
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, 8 << 20);
    p.put(ProducerConfig.LINGER_MS_CONFIG, lowLatency ? 0 : 20);
    p.put(ProducerConfig.BATCH_SIZE_CONFIG, 1 << 20);
    return new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
  }

  private static void send(
      KafkaProducer<byte[], byte[]> p, SingleObjectSerde<SensorFrame> serde, SensorFrame f) {
    String topic = SensorContract.topic(f.getModality());
    p.send(
        new ProducerRecord<>(
            topic,
            null,
            f.getCaptureTime().toEpochMilli(),
            f.getRigId().getBytes(StandardCharsets.UTF_8),
            serde.encode(f)));
  }
}
