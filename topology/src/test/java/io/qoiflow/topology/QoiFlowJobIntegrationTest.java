package io.qoiflow.topology;

import static io.qoiflow.topology.TelemetryFixtures.telemetry;
import static org.assertj.core.api.Assertions.assertThat;

import io.qoiflow.engine.EngineSample;
import io.qoiflow.engine.InferenceEngine;
import io.qoiflow.engine.ModelLocator;
import io.qoiflow.engine.Policy;
import io.qoiflow.engine.SampleResult;
import io.qoiflow.local.LocalKafkaBroker;
import io.qoiflow.records.BudgetDecision;
import io.qoiflow.records.DeadLetter;
import io.qoiflow.records.FusionResult;
import io.qoiflow.records.LabelledSample;
import io.qoiflow.records.SensorFrame;
import io.qoiflow.records.Telemetry;
import io.qoiflow.schemas.SensorContract;
import io.qoiflow.schemas.SingleObjectSerde;
import io.qoiflow.schemas.Topics;
import io.qoiflow.simulator.CorruptionSpec;
import io.qoiflow.simulator.Simulator;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole job on a Flink MiniCluster against a real Kafka broker process, with the real engine
 * and exported model, on simulator samples. Bounded sources, so each job runs to completion.
 */
class QoiFlowJobIntegrationTest {
  private static final int RIGS = 2;
  private static final int SAMPLES_PER_RIG = 24;
  private static final double BUDGET = 0.33;

  @RegisterExtension
  static final MiniClusterExtension MINI_CLUSTER =
      new MiniClusterExtension(
          new MiniClusterResourceConfiguration.Builder()
              .setNumberTaskManagers(1)
              .setNumberSlotsPerTaskManager(4)
              .build());

  private static LocalKafkaBroker broker;
  private static Path model;

  /** A fresh broker per test, so one test's telemetry never steers another's budget. */
  @BeforeEach
  void startBroker() {
    model = ModelLocator.defaultModel();
    broker = LocalKafkaBroker.start();
  }

  @AfterEach
  void stopBroker() {
    if (broker != null) {
      broker.close();
    }
  }

  private static JobConfig config(String group, String... extra) {
    List<String> args =
        new ArrayList<>(
            List.of(
                "--bootstrap",
                broker.bootstrapServers(),
                "--model",
                model.toString(),
                "--group-id",
                group,
                "--transactional-id-prefix",
                group,
                "--bounded",
                "true",
                "--policy",
                "universal",
                "--checkpoint-interval-ms",
                "1000",
                "--max-future-skew-ms",
                String.valueOf(Long.MAX_VALUE / 4)));
    args.addAll(List.of(extra));
    return JobConfig.fromArgs(args.toArray(String[]::new));
  }

  private static void runJob(JobConfig config) throws Exception {
    StreamExecutionEnvironment env = JobEnvironment.create(config);
    env.setParallelism(2);
    QoiFlowJob.defineKafkaWorkflow(env, config);
    env.execute("qoiflow-it");
  }

  @Test
  void everyFrameSetGivesExactlyOneResultAsAccurateAsTheEngineAlone() throws Exception {
    broker.createTopics(Topics.all(2));

    // Samples of each rig, produced to the modality topics; the same samples through the engine.
    List<LabelledSample> samples = new ArrayList<>();
    Map<String, LabelledSample> byKey = new HashMap<>();
    for (int r = 0; r < RIGS; r++) {
      Simulator sim = new Simulator(100 + r, CorruptionSpec.parse("random"), "rig-" + r);
      for (int i = 0; i < SAMPLES_PER_RIG; i++) {
        LabelledSample s = sim.next();
        if (!s.getFrames().isEmpty()) {
          samples.add(s);
          SensorFrame first = s.getFrames().get(0);
          byKey.put(key(first.getRigId(), first.getCaptureTime().toEpochMilli()), s);
        }
      }
    }
    SingleObjectSerde<SensorFrame> serde = SingleObjectSerde.forClass(SensorFrame.class);
    try (KafkaProducer<byte[], byte[]> producer = BrokerIo.producer(broker.bootstrapServers())) {
      for (LabelledSample s : samples) {
        for (SensorFrame f : s.getFrames()) {
          String topic = SensorContract.topic(f.getModality());
          producer.send(
              BrokerIo.record(
                  topic, f.getRigId(), f.getCaptureTime().toEpochMilli(), serde.encode(f)));
        }
      }
      // Bad input around the good: it must leave as dead letters and leave the rest unaffected.
      producer.send(BrokerIo.record(Topics.FRAMES_CAMERA, "rig-0", 0, new byte[] {1, 2, 3}));
      producer.send(BrokerIo.record(Topics.FRAMES_DEPTH, "rig-0", 0, new byte[0]));
      producer.flush();
    }

    runJob(config("acc-group", "--initial-budget", String.valueOf(BUDGET)));

    List<FusionResult> results =
        BrokerIo.readAll(broker.bootstrapServers(), Topics.RESULTS_FUSION, FusionResult.class);
    List<DeadLetter> dead =
        BrokerIo.readAll(broker.bootstrapServers(), Topics.DEADLETTER, DeadLetter.class);

    assertThat(results)
        .as(
            "one result per FrameSet; dead letters: %s",
            dead.stream().map(d -> d.getReasonCode() + ": " + d.getMessage()).toList())
        .hasSize(samples.size());
    assertThat(results.stream().map(r -> key(r.getRigId(), r.getCaptureTime().toEpochMilli())))
        .doesNotHaveDuplicates()
        .containsExactlyInAnyOrderElementsOf(byKey.keySet());
    // Exactly the two bad records, nothing of the good input.
    assertThat(dead)
        .extracting(DeadLetter::getReasonCode)
        .containsExactly("bad-marker", "bad-marker");
    for (FusionResult r : results) {
      int layers = r.getModalities().stream().mapToInt(m -> m.getLayers().size()).sum();
      assertThat(layers).isLessThanOrEqualTo(r.getBudgetLayers());
      assertThat(r.getBudgetFraction()).isEqualTo(BUDGET);
    }

    double jobError = 0;
    for (FusionResult r : results) {
      LabelledSample s = byKey.get(key(r.getRigId(), r.getCaptureTime().toEpochMilli()));
      jobError += error(r.getXCm(), r.getYCm(), s);
    }
    jobError /= results.size();

    double engineError = 0;
    try (InferenceEngine engine = InferenceEngine.open(model)) {
      List<EngineSample> batch = new ArrayList<>();
      for (LabelledSample s : samples) {
        batch.add(EngineSample.of(s.getFrames(), BUDGET));
      }
      List<SampleResult> direct = engine.infer(batch, Policy.UNIVERSAL);
      for (int i = 0; i < samples.size(); i++) {
        engineError += error(direct.get(i).xCm(), direct.get(i).yCm(), samples.get(i));
      }
    }
    engineError /= samples.size();
    assertThat(jobError)
        .isCloseTo(engineError, org.assertj.core.data.Percentage.withPercentage(10));
  }

  @Test
  void theBudgetFollowsATelemetryScenario() throws Exception {
    broker.createTopics(Topics.all(2));
    long t0 = Instant.now().toEpochMilli() - 60_000;
    SingleObjectSerde<Telemetry> serde = SingleObjectSerde.forClass(Telemetry.class);
    List<Telemetry> scenario = new ArrayList<>();
    for (int s = 0; s < 3; s++) {
      scenario.add(telemetry(t0 + s * 1000L, 0.97, false, 70)); // saturated: step down
    }
    scenario.add(telemetry(t0 + 4000, 0.6, true, 80)); // throttled ...
    scenario.add(telemetry(t0 + 5000, 0.6, false, 90)); // ... then hot: step down
    try (KafkaProducer<byte[], byte[]> producer = BrokerIo.producer(broker.bootstrapServers())) {
      for (Telemetry t : scenario) {
        producer.send(
            BrokerIo.record(
                Topics.TELEMETRY, "pool-0", t.getTime().toEpochMilli(), serde.encode(t)));
      }
      producer.flush();
    }

    runJob(config("budget-group", "--initial-budget", "1.0"));

    List<BudgetDecision> decisions =
        BrokerIo.readAll(broker.bootstrapServers(), Topics.BUDGET, BudgetDecision.class);
    assertThat(decisions)
        .extracting(BudgetDecision::getReason, BudgetDecision::getBudgetFraction)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple("sustained-high-utilisation", 0.67),
            org.assertj.core.groups.Tuple.tuple("throttle-then-hot", 0.5));
  }

  /**
   * The job's sources and sinks on a SCRAM-SHA-256 listener, configured by {@code --kafka.*}
   * arguments alone: the telemetry scenario's budget decisions arrive as on a plain broker. (The
   * test's own producer and reader use the broker's PLAINTEXT listener.)
   */
  @Test
  void theJobRunsOnASaslScramListener(@TempDir Path tmp) throws Exception {
    broker.close();
    broker = LocalKafkaBroker.start(tmp.resolve("kafka"), LocalKafkaBroker.ScramUser.generate());
    broker.createTopics(Topics.all(2));
    long t0 = Instant.now().toEpochMilli() - 60_000;
    SingleObjectSerde<Telemetry> serde = SingleObjectSerde.forClass(Telemetry.class);
    try (KafkaProducer<byte[], byte[]> producer = BrokerIo.producer(broker.bootstrapServers())) {
      for (int s = 0; s < 3; s++) {
        Telemetry t = telemetry(t0 + s * 1000L, 0.97, false, 70);
        producer.send(
            BrokerIo.record(
                Topics.TELEMETRY, "pool-0", t.getTime().toEpochMilli(), serde.encode(t)));
      }
      producer.flush();
    }
    // Only --kafka.* arguments: bootstrap.servers is the SCRAM listener's port.
    List<String> args = new ArrayList<>();
    broker
        .scramClientProperties(broker.scramUser())
        .asMap()
        .forEach((k, v) -> args.addAll(List.of("--kafka." + k, v)));
    args.addAll(
        List.of(
            "--model", model.toString(),
            "--group-id", "scram-group",
            "--transactional-id-prefix", "scram-group",
            "--bounded", "true",
            "--checkpoint-interval-ms", "1000",
            "--max-future-skew-ms", String.valueOf(Long.MAX_VALUE / 4),
            "--initial-budget", "1.0"));
    JobConfig config = JobConfig.fromArgs(args.toArray(String[]::new));
    assertThat(config.bootstrap()).isNotEqualTo(broker.bootstrapServers());
    assertThat(config.kafka().asMap())
        .containsEntry("security.protocol", "SASL_PLAINTEXT")
        .containsEntry("sasl.mechanism", "SCRAM-SHA-256");

    runJob(config);

    List<BudgetDecision> decisions =
        BrokerIo.readAll(broker.bootstrapServers(), Topics.BUDGET, BudgetDecision.class);
    assertThat(decisions)
        .extracting(BudgetDecision::getReason, BudgetDecision::getBudgetFraction)
        .containsExactly(org.assertj.core.groups.Tuple.tuple("sustained-high-utilisation", 0.67));
  }

  private static double error(double x, double y, LabelledSample s) {
    return Math.hypot(x - s.getTruth().getTarget().getXCm(), y - s.getTruth().getTarget().getYCm());
  }

  private static String key(String rig, long t) {
    return rig + "@" + t;
  }
}
