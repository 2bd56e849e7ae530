package io.qoiflow.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.qoiflow.engine.ModelLocator;
import io.qoiflow.local.JvmProcess;
import io.qoiflow.local.LocalKafkaBroker;
import io.qoiflow.records.DeadLetter;
import io.qoiflow.records.FusionResult;
import io.qoiflow.records.LabelledSample;
import io.qoiflow.records.Modality;
import io.qoiflow.records.SensorFrame;
import io.qoiflow.schemas.Topics;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.flink.runtime.checkpoint.OperatorState;
import org.apache.flink.runtime.checkpoint.metadata.CheckpointMetadata;
import org.apache.flink.runtime.state.KeyGroupRangeAssignment;
import org.apache.flink.state.api.OperatorIdentifier;
import org.apache.flink.state.api.runtime.SavepointLoader;
import org.apache.flink.state.api.runtime.metadata.SavepointMetadataV2;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.utils.Utils;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The job scaled out (issue 19): a standalone cluster of one JobManager and two TaskManager JVMs of
 * two slots each, topics of four partitions, the job at parallelism 4, against the real broker,
 * with the real engine. Its own cluster, because {@link QoiFlowClusterE2ETest}'s scenarios share
 * one TaskManager and a job at parallelism 2.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ScaleOutE2ETest {
  private static final Logger LOG = LoggerFactory.getLogger(ScaleOutE2ETest.class);
  private static final String ENTRY = "io.qoiflow.topology.QoiFlowJob";
  private static final int TASK_MANAGERS = 2;
  private static final int SLOTS = 2;
  private static final int PARTITIONS = 4;
  private static final int PARALLELISM = TASK_MANAGERS * SLOTS;
  private static final long CHECKPOINT_MS = 2_000;
  private static final long STALLED_IDLENESS_MS = 60_000;

  /** Flink's default for a job that sets none (and this one sets none): 128 key groups. */
  private static final int MAX_PARALLELISM = 128;

  private final Map<String, List<String>> summary = new LinkedHashMap<>();
  private final long runStart = System.currentTimeMillis();
  private Path work;
  private Path model;
  private LocalKafkaBroker broker;
  private FlinkCluster cluster;
  private String jarId;
  private String jobId;
  private String txPrefix;
  private TopicCollector<FusionResult> results;
  private TopicCollector<DeadLetter> deadLetters;
  private long nextIndex;
  private long seed = 5000;

  @BeforeAll
  void startEverything() throws Exception {
    work = Files.createTempDirectory("qoiflow-scale-");
    model = ModelLocator.defaultModel();
    long t0 = System.currentTimeMillis();
    try {
      broker = LocalKafkaBroker.start(work.resolve("kafka"));
      broker.createTopics(Topics.all(PARTITIONS));
      cluster = FlinkCluster.start(work.resolve("flink"), SLOTS, TASK_MANAGERS);
      long clusterUp = System.currentTimeMillis();
      jarId = cluster.rest().uploadJar(Path.of(System.getProperty("qoiflow.job.jar")));
      txPrefix = "scale-" + UUID.randomUUID().toString().substring(0, 8);
      jobId = submit(PARALLELISM, null);
      cluster.rest().awaitRunning(jobId, 240);
      results =
          new TopicCollector<>(
              broker.bootstrapServers(), Topics.RESULTS_FUSION, FusionResult.class);
      deadLetters =
          new TopicCollector<>(broker.bootstrapServers(), Topics.DEADLETTER, DeadLetter.class);
      note(
          "setup",
          String.format(
              Locale.ROOT,
              "broker + JobManager + %d TaskManagers × %d slots up in %.1f s; job at parallelism %d"
                  + " running %.1f s later; %d partitions per topic; load average %s",
              TASK_MANAGERS,
              SLOTS,
              (clusterUp - t0) / 1000.0,
              PARALLELISM,
              (System.currentTimeMillis() - clusterUp) / 1000.0,
              PARTITIONS,
              loadAverage()));
    } catch (Throwable e) {
      tearDown();
      throw e;
    }
  }

  private String submit(int parallelism, String savepoint) {
    List<String> args =
        List.of(
            "--bootstrap",
            broker.bootstrapServers(),
            "--model",
            model.toString(),
            "--group-id",
            "scale",
            "--transactional-id-prefix",
            txPrefix,
            "--checkpoint-interval-ms",
            String.valueOf(CHECKPOINT_MS),
            "--policy",
            "universal",
            // A restored frame split that has read nothing is taken for idle only after this long
            // (default 10 s): on this shared machine restored readers took longer than 10 s to
            // deliver their first frames after a rescale, and their frames then came late.
            "--stalled-idleness-ms",
            String.valueOf(STALLED_IDLENESS_MS));
    return cluster.rest().runJar(jarId, ENTRY, args, parallelism, savepoint);
  }

  @AfterAll
  void tearDown() {
    StringBuilder text = new StringBuilder();
    text.append(
        String.format(
            Locale.ROOT,
            "QoIFlow scale-out e2e — %s, total %.0f s%n",
            java.time.Instant.now(),
            (System.currentTimeMillis() - runStart) / 1000.0));
    summary.forEach(
        (k, lines) -> {
          text.append("- ").append(k).append(":\n");
          lines.forEach(l -> text.append("    ").append(l).append('\n'));
        });
    System.out.println("\n===== QoIFlow scale-out e2e summary =====\n" + text + "=====");
    try {
      Files.createDirectories(Path.of("target"));
      Files.writeString(Path.of("target", "scale-summary.md"), text, StandardCharsets.UTF_8);
    } catch (IOException e) {
      LOG.warn("cannot write the summary", e);
    }
    E2eHarness.closeAll(results, deadLetters, cluster, broker);
    E2eHarness.keepLogsAndDelete(work, Path.of("target", "e2e-logs-scale"));
  }

  private void note(String scenario, String line) {
    summary.computeIfAbsent(scenario, k -> new ArrayList<>()).add(line);
    LOG.info("[{}] {}", scenario, line);
  }

  private static String loadAverage() {
    try {
      return Files.readString(Path.of("/proc/loadavg")).trim();
    } catch (IOException e) {
      return "?";
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Helpers

  /**
   * The fewest rigs {@code prefix-0..n-1} (at least {@code PARALLELISM}) such that every partition
   * of the frame topics gets a rig (frames are keyed by rig id: Kafka's default partitioner) and
   * every join subtask at each of {@code parallelisms} gets at least two rigs (keyed by rig id:
   * Flink's key groups), so every subtask has work and no partition holds the watermark back.
   */
  static int rigsCovering(String prefix, int... parallelisms) {
    for (int n = PARALLELISM; n <= 64; n++) {
      Set<Integer> partitions = new HashSet<>();
      boolean covered = true;
      for (int p : parallelisms) {
        int[] perSubtask = new int[p];
        for (int r = 0; r < n; r++) {
          perSubtask[
              KeyGroupRangeAssignment.assignKeyToParallelOperator(
                  prefix + "-" + r, MAX_PARALLELISM, p)]++;
        }
        for (int c : perSubtask) {
          covered &= c >= 2;
        }
      }
      for (int r = 0; r < n; r++) {
        byte[] key = (prefix + "-" + r).getBytes(StandardCharsets.UTF_8);
        partitions.add(Utils.toPositive(Utils.murmur2(key)) % PARTITIONS);
      }
      if (covered && partitions.size() == PARTITIONS) {
        return n;
      }
    }
    throw new IllegalStateException("no rig count up to 64 covers every subtask for " + prefix);
  }

  private Workload workload(String prefix, int rigs, int ticks) {
    Workload w = Workload.of(prefix, rigs, nextIndex, ticks, seed);
    seed += 100;
    nextIndex += ticks + Workload.TAIL;
    return w;
  }

  private static String key(FusionResult r) {
    return Workload.key(r.getRigId(), r.getCaptureTime().toEpochMilli());
  }

  /** Missing, duplicated and fused-short results of a workload, and its rigs' dead letters. */
  private record Delivery(
      int expected,
      int delivered,
      int missing,
      int duplicated,
      int fusedShort,
      int deadLetters,
      Map<String, Long> deadLettersByReason) {
    String line() {
      return String.format(
          Locale.ROOT,
          "%d FrameSets: %d results, %d missing, %d duplicated, %d fused with fewer modalities than"
              + " were sent, %d dead letters of its rigs %s",
          expected,
          delivered,
          missing,
          duplicated,
          fusedShort,
          deadLetters,
          deadLettersByReason);
    }

    void assertExactlyOnceAndWhole() {
      assertThat(missing).as("missing results: " + line()).isZero();
      assertThat(duplicated).as("duplicated results: " + line()).isZero();
      assertThat(fusedShort).as("sets fused short: " + line()).isZero();
      assertThat(deadLetters).as("dead letters: " + line()).isZero();
    }
  }

  /**
   * Waits until every expected result is visible, then two more completed checkpoints (a late
   * duplicate would be committed by then), and counts.
   */
  private Delivery delivery(Workload w, String prefix, int timeoutS) {
    Set<String> expected = w.expected().keySet();
    results.await(r -> expected.contains(key(r)), expected.size(), timeoutS * 1000L);
    long cp = cluster.rest().completedCheckpoints(jobId);
    cluster.rest().awaitCheckpoints(jobId, cp, 2, 120);
    Map<String, Integer> counts = new HashMap<>();
    for (FusionResult r : results.values(r -> r.getRigId().startsWith(prefix + "-"))) {
      counts.merge(key(r), 1, Integer::sum);
    }
    int missing = (int) expected.stream().filter(k -> !counts.containsKey(k)).count();
    int duplicated = counts.values().stream().mapToInt(c -> c - 1).sum();
    Map<String, LabelledSample> sent = w.expected();
    int fusedShort = 0;
    for (FusionResult r : results.values(r -> sent.containsKey(key(r)))) {
      Set<Modality> present = new HashSet<>();
      r.getModalities().stream()
          .filter(m -> m.getPresent())
          .forEach(m -> present.add(m.getModality()));
      if (!present.containsAll(
          sent.get(key(r)).getFrames().stream().map(SensorFrame::getModality).toList())) {
        fusedShort++;
      }
    }
    int dead = 0;
    Map<String, Long> byReason = new TreeMap<>();
    for (DeadLetter dl : deadLetters.values(dl -> dl.getOriginalBytes() != null)) {
      String rig = E2eHarness.rigOf(dl);
      if (rig != null && rig.startsWith(prefix + "-")) {
        dead++;
        byReason.merge(dl.getReasonCode(), 1L, Long::sum);
      }
    }
    return new Delivery(
        expected.size(),
        expected.size() - missing,
        missing,
        duplicated,
        fusedShort,
        dead,
        byReason);
  }

  /** The job vertex whose name contains {@code part}. */
  private String vertexId(String part) {
    for (JsonNode v : cluster.rest().get("/jobs/" + jobId).path("vertices")) {
      if (v.path("name").asText().contains(part)) {
        return v.path("id").asText();
      }
    }
    throw new IllegalStateException("no vertex named *" + part + "* in job " + jobId);
  }

  /** Subtasks of a vertex per TaskManager id. */
  private Map<String, Integer> subtasksPerTaskManager(String vertexId) {
    Map<String, Integer> by = new TreeMap<>();
    for (JsonNode s :
        cluster.rest().get("/jobs/" + jobId + "/vertices/" + vertexId).path("subtasks")) {
      String tm = s.path("taskmanager-id").asText(s.path("endpoint").asText("?"));
      by.merge(tm, 1, Integer::sum);
    }
    return by;
  }

  /** Records each subtask of a vertex has read so far (the REST metric fetcher lags seconds). */
  private List<Long> recordsInPerSubtask(String vertexId) {
    List<Long> out = new ArrayList<>();
    for (JsonNode s :
        cluster.rest().get("/jobs/" + jobId + "/vertices/" + vertexId).path("subtasks")) {
      out.add(s.path("metrics").path("read-records").asLong(0));
    }
    return out;
  }

  /** Engines the TaskManager JVM opened (EngineService logs one line per engine it creates). */
  private static long enginesOpened(JvmProcess taskManager) {
    try {
      return Files.readAllLines(taskManager.logFile(), StandardCharsets.UTF_8).stream()
          .filter(l -> l.contains("EngineService") && l.contains(" engine for "))
          .count();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // 1. Parallelism 4 on two TaskManagers

  @Test
  @Order(1)
  void parallelismFourOnTwoTaskManagersGivesEachResultOnceEqualToTheEngineAlone() {
    String scenario = "1. parallelism 4 on 2 TaskManagers";
    int rigs = rigsCovering("p", PARALLELISM);
    Workload w = workload("p", rigs, 30);
    long t0 = System.currentTimeMillis();
    try (KafkaProducer<byte[], byte[]> p = Workload.producer(broker.bootstrapServers())) {
      w.produce(p, 4, null);
    }
    Delivery d = delivery(w, "p", 300);
    double seconds = (System.currentTimeMillis() - t0) / 1000.0;
    note(
        scenario,
        String.format(
            Locale.ROOT,
            "%d rigs over %d partitions, 4 ticks/s: %s (%.0f s from first frame to the last"
                + " checkpoint after the last result; load average %s)",
            rigs,
            PARTITIONS,
            d.line(),
            seconds,
            loadAverage()));
    d.assertExactlyOnceAndWhole();

    Map<String, LabelledSample> samples = w.expected();
    Map<String, FusionResult> byKey = new HashMap<>();
    for (FusionResult r : results.values(r -> samples.containsKey(key(r)))) {
      byKey.put(key(r), r);
    }
    List<String> disagreements = EngineAgreement.disagreements(model, samples, byKey);
    note(
        scenario,
        String.format(
            Locale.ROOT,
            "%d/%d results equal to the engine alone's on the same sample at the same budget"
                + " (class, layers per modality, position within %.0e cm)",
            samples.size() - disagreements.size(),
            samples.size(),
            EngineAgreement.POSITION_TOLERANCE_CM));
    assertThat(disagreements).as("results that differ from the engine alone").isEmpty();

    // Where the inference subtasks run, that each had work, and how many engines each JVM opened.
    String inference = vertexId("adaptive-depth inference");
    Map<String, Integer> placement = subtasksPerTaskManager(inference);
    List<Long> recordsIn =
        await("every inference subtask's read-records metric > 0")
            .atMost(Duration.ofSeconds(60))
            .pollInterval(Duration.ofSeconds(1))
            .until(() -> recordsInPerSubtask(inference), l -> l.stream().allMatch(n -> n > 0));
    List<JvmProcess> tms = cluster.liveTaskManagers();
    List<String> perTm = new ArrayList<>();
    for (JvmProcess tm : tms) {
      perTm.add(
          String.format(
              Locale.ROOT,
              "pid %d: %d engine(s) opened, RSS %d MiB",
              tm.pid(),
              enginesOpened(tm),
              FlinkCluster.rssMb(tm)));
    }
    note(
        scenario,
        "inference subtasks per TaskManager "
            + placement.values()
            + ", records in per subtask "
            + recordsIn
            + "; "
            + String.join("; ", perTm)
            + " (process size 2048 MiB each)");
    assertThat(tms).hasSize(TASK_MANAGERS);
    assertThat(placement)
        .hasSize(TASK_MANAGERS)
        .allSatisfy((tm, n) -> assertThat(n).isEqualTo(SLOTS));
    for (JvmProcess tm : tms) {
      assertThat(enginesOpened(tm)).as("engines opened in TaskManager " + tm.pid()).isEqualTo(1);
      assertThat(FlinkCluster.rssMb(tm))
          .as("TaskManager RSS (MiB) within process size + 1 GiB")
          .isBetween(1L, 2048L + 1024L);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // 2. Rescaling from savepoints: 4 -> 2 -> 4 -> 2, mid-stream

  /** Operator state size in a savepoint of the operator with {@code uid}, 0 when none. */
  private static long stateSize(String savepoint, String uid) throws IOException {
    CheckpointMetadata m = SavepointLoader.loadSavepointMetadata(savepoint);
    SavepointMetadataV2 metadata =
        new SavepointMetadataV2(
            m.getCheckpointId(),
            m.getOperatorStates().stream()
                .mapToInt(OperatorState::getMaxParallelism)
                .max()
                .orElse(1),
            m.getMasterStates(),
            m.getOperatorStates());
    try {
      return metadata.getOperatorState(OperatorIdentifier.forUid(uid)).getStateSize();
    } catch (IOException notInSavepoint) {
      return 0;
    }
  }

  private int parallelismOf(String vertexPart) {
    for (JsonNode v : cluster.rest().get("/jobs/" + jobId).path("vertices")) {
      if (v.path("name").asText().contains(vertexPart)) {
        return v.path("parallelism").asInt();
      }
    }
    throw new IllegalStateException("no vertex *" + vertexPart + "*");
  }

  @Test
  @Order(2)
  void rescalingThroughSavepointsMidStreamLosesAndDuplicatesNothing() throws Exception {
    String scenario = "2. rescale 4 -> 2 -> 4 -> 2 from savepoints";
    int rigs = rigsCovering("r", 2, PARALLELISM);
    Workload w = workload("r", rigs, 5000);
    List<Throwable> failures = new CopyOnWriteArrayList<>();
    List<String> steps = new ArrayList<>();
    Set<Double> budgets = new HashSet<>();
    try (KafkaProducer<byte[], byte[]> p = Workload.producer(broker.bootstrapServers())) {
      Thread producer = w.produceInBackground(p, 2, failures);
      for (int target : new int[] {2, PARALLELISM, 2}) {
        // Mid-stream: results of this workload flowing and a checkpoint since the last resume.
        long seen = results.values(r -> r.getRigId().startsWith("r-")).size();
        results.await(r -> r.getRigId().startsWith("r-"), seen + 5, 180_000);
        long cp = cluster.rest().completedCheckpoints(jobId);
        cluster.rest().awaitCheckpoints(jobId, cp, 1, 120);
        assertThat(w.done()).as("still streaming before rescale to " + target).isFalse();
        int from = parallelismOf("adaptive-depth inference");
        long t0 = System.currentTimeMillis();
        String savepoint = cluster.rest().stopWithSavepoint(jobId, cluster.savepointDir(), 240);
        long joinState = stateSize(savepoint, "join-frames");
        long budgetState = stateSize(savepoint, "attach-budget");
        jobId = submit(target, savepoint);
        cluster.rest().awaitRunning(jobId, 240);
        long visible = results.values(r -> r.getRigId().startsWith("r-")).size();
        results.await(r -> r.getRigId().startsWith("r-"), visible + 1, 180_000);
        double s = (System.currentTimeMillis() - t0) / 1000.0;
        assertThat(parallelismOf("adaptive-depth inference")).isEqualTo(target);
        assertThat(parallelismOf("join")).isEqualTo(target);
        steps.add(
            String.format(
                Locale.ROOT,
                "%d -> %d: stop-with-savepoint to new results in %.1f s; savepoint state join-frames"
                    + " %d B, attach-budget %d B; load %s",
                from,
                target,
                s,
                joinState,
                budgetState,
                loadAverage()));
        assertThat(joinState).as("join state (sets being joined) in the savepoint").isPositive();
      }
      assertThat(w.done()).as("still streaming after the last rescale").isFalse();
      w.stop();
      producer.join(300_000);
    }
    assertThat(failures).isEmpty();
    Delivery d = delivery(w, "r", 300);
    for (FusionResult r : results.values(r -> r.getRigId().startsWith("r-"))) {
      budgets.add(r.getBudgetFraction());
    }
    steps.forEach(l -> note(scenario, l));
    note(
        scenario,
        String.format(
            Locale.ROOT,
            "%d rigs at 2 ticks/s across the rescales: %s; budgets of its results %s",
            rigs,
            d.line(),
            budgets));
    d.assertExactlyOnceAndWhole();
    // The test sends no telemetry, but the job reports its own inference latency to the CEP, so
    // on a busy cluster (each rescale's catch-up) the budget can step: each result's budget must
    // be one of the levels, whichever was in force (seen in CI: 0.25, 0.33, 0.5).
    Set<Double> levels = new HashSet<>();
    for (double f : io.qoiflow.operators.functions.BudgetLevels.defaults().fractions()) {
      levels.add(f);
    }
    assertThat(budgets).as("budgets of the results are budget levels").isNotEmpty();
    assertThat(levels).as("budget levels").containsAll(budgets);
  }
}
