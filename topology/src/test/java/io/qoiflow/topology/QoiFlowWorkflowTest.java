package io.qoiflow.topology;

import static io.qoiflow.topology.TelemetryFixtures.telemetry;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.assertj.core.groups.Tuple.tuple;

import io.qoiflow.engine.EngineSample;
import io.qoiflow.engine.InferenceEngine;
import io.qoiflow.engine.ModelLocator;
import io.qoiflow.engine.Policy;
import io.qoiflow.engine.SampleResult;
import io.qoiflow.operators.deadletter.Outcome;
import io.qoiflow.operators.functions.ValidatingDeserializer;
import io.qoiflow.records.BudgetDecision;
import io.qoiflow.records.DeadLetter;
import io.qoiflow.records.FusionResult;
import io.qoiflow.records.LabelledSample;
import io.qoiflow.records.Modality;
import io.qoiflow.records.ModalityUsage;
import io.qoiflow.records.QaQuestion;
import io.qoiflow.records.SensorFrame;
import io.qoiflow.records.Telemetry;
import io.qoiflow.schemas.RecordValidator;
import io.qoiflow.schemas.RejectReason;
import io.qoiflow.schemas.SensorContract;
import io.qoiflow.schemas.SingleObjectSerde;
import io.qoiflow.schemas.Topics;
import io.qoiflow.simulator.CorruptionSpec;
import io.qoiflow.simulator.Simulator;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.avro.specific.SpecificRecordBase;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.flink.util.CloseableIterator;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The whole job through {@link QoiFlowJob#defineWorkflow}, without a broker: simulator frames as
 * bounded sources (encoded and checked by the job's own {@link ValidatingDeserializer}, event time
 * by {@link KafkaIo}'s watermark strategy), every output collected to the test. Real Flink
 * MiniCluster, real ONNX Runtime on the shipped model. The real-broker version of the same job is
 * {@link QoiFlowJobIntegrationTest}.
 */
class QoiFlowWorkflowTest {
  private static final int RIGS = 2;
  private static final int SAMPLES_PER_RIG = 24;
  private static final double BUDGET = 0.33;

  /** Position agreement with the engine alone; batch composition changes float rounding only. */
  private static final double POSITION_TOLERANCE_CM = 1e-3;

  @RegisterExtension
  static final MiniClusterExtension MINI_CLUSTER =
      new MiniClusterExtension(
          new MiniClusterResourceConfiguration.Builder()
              .setNumberTaskManagers(1)
              .setNumberSlotsPerTaskManager(4)
              .build());

  private static Path model;

  @BeforeAll
  static void locateModel() {
    model = ModelLocator.defaultModel();
  }

  @Test
  void everyFrameSetGivesOneResultWithinBudgetEqualToTheEngineAlone() throws Exception {
    List<LabelledSample> samples = new ArrayList<>();
    for (int r = 0; r < RIGS; r++) {
      Simulator sim = new Simulator(100 + r, CorruptionSpec.parse("random"), "rig-" + r);
      for (int i = 0; i < SAMPLES_PER_RIG; i++) {
        LabelledSample s = sim.next();
        if (!s.getFrames().isEmpty()) {
          samples.add(s);
        }
      }
    }
    List<SensorFrame> frames = new ArrayList<>();
    samples.forEach(s -> frames.addAll(s.getFrames()));
    // A camera frame whose shape breaks the manifest's contract, at a time no sample uses.
    SensorFrame good = samples.get(0).getFrames().get(0);
    SensorFrame badShape =
        SensorFrame.newBuilder(good)
            .setModality(Modality.CAMERA)
            .setCaptureTime(Instant.ofEpochMilli(1))
            .setShape(List.of(1, 2, 3))
            .build();
    frames.add(badShape);

    JobConfig config = config("--initial-budget", String.valueOf(BUDGET));
    Collected out = run(config, frames, List.of());

    assertThat(out.results)
        .as("one result per FrameSet; dead letters: %s", reasons(out.deadLetters))
        .hasSize(samples.size());
    Map<String, FusionResult> byKey = new HashMap<>();
    out.results.forEach(r -> byKey.put(key(r.getRigId(), r.getCaptureTime()), r));
    assertThat(byKey).as("no FrameSet twice").hasSize(samples.size());

    assertThat(out.deadLetters)
        .extracting(DeadLetter::getReasonCode)
        .containsExactly(RejectReason.BAD_SHAPE);
    DeadLetter dead = out.deadLetters.get(0);
    assertThat(dead.getSourceTopic()).isEqualTo(Topics.FRAMES_CAMERA);
    assertThat(dead.getOriginalBytes().array())
        .isEqualTo(SingleObjectSerde.forClass(SensorFrame.class).encode(badShape));

    assertThat(out.budget).as("no telemetry, so no budget decision").isEmpty();
    for (FusionResult r : out.results) {
      int layers = r.getModalities().stream().mapToInt(m -> m.getLayers().size()).sum();
      assertThat(layers).isPositive().isLessThanOrEqualTo(r.getBudgetLayers());
      assertThat(r.getBudgetFraction()).isEqualTo(BUDGET);
    }

    // The same samples through the engine alone: the job adds no error of its own.
    List<EngineSample> batch = new ArrayList<>();
    samples.forEach(s -> batch.add(EngineSample.of(s.getFrames(), BUDGET)));
    List<SampleResult> direct;
    try (InferenceEngine engine = InferenceEngine.open(model)) {
      direct = engine.infer(batch, Policy.UNIVERSAL);
    }
    for (int i = 0; i < samples.size(); i++) {
      SensorFrame first = samples.get(i).getFrames().get(0);
      FusionResult job = byKey.get(key(first.getRigId(), first.getCaptureTime()));
      SampleResult engine = direct.get(i);
      assertThat(job).as("result of %s", key(first.getRigId(), first.getCaptureTime())).isNotNull();
      assertThat(job.getXCm()).isCloseTo(engine.xCm(), within(POSITION_TOLERANCE_CM));
      assertThat(job.getYCm()).isCloseTo(engine.yCm(), within(POSITION_TOLERANCE_CM));
      assertThat(job.getClassIndex()).isEqualTo(engine.classIndex());
      assertThat(job.getBudgetLayers()).isEqualTo(engine.budgetLayers());
      List<ModalityUsage> usage = job.getModalities();
      for (int m = 0; m < usage.size(); m++) {
        assertThat(usage.get(m).getPresent()).isEqualTo(engine.present()[m]);
        assertThat(usage.get(m).getLayers()).isEqualTo(engine.layerList(m));
      }
    }
  }

  @Test
  void theBudgetFollowsATelemetryScenario() throws Exception {
    long t0 = Instant.now().toEpochMilli() - 60_000;
    List<Telemetry> scenario = new ArrayList<>();
    for (int s = 0; s < 3; s++) {
      scenario.add(telemetry(t0 + s * 1000L, 0.97, false, 70)); // saturated: step down
    }
    scenario.add(telemetry(t0 + 4000, 0.6, true, 80)); // throttled ...
    scenario.add(telemetry(t0 + 5000, 0.6, false, 90)); // ... then hot: step down

    Collected out = run(config("--initial-budget", "1.0"), List.of(), scenario);

    assertThat(out.budget)
        .extracting(BudgetDecision::getReason, BudgetDecision::getBudgetFraction)
        .containsExactly(
            tuple("sustained-high-utilisation", 0.67), tuple("throttle-then-hot", 0.5));
    assertThat(out.results).isEmpty();
    assertThat(out.deadLetters).isEmpty();
  }

  /** Everything the job wrote. */
  private record Collected(
      List<FusionResult> results,
      List<DeadLetter> deadLetters,
      List<BudgetDecision> budget,
      List<Telemetry> telemetry) {}

  /** The job on bounded inputs, each output collected; returns once the job has finished. */
  private static Collected run(
      JobConfig config, List<SensorFrame> frames, List<Telemetry> telemetry) throws Exception {
    StreamExecutionEnvironment env = JobEnvironment.create(config);
    // A failure ends the test with its cause instead of restarting the job behind the collectors.
    Configuration noRestart = new Configuration();
    noRestart.set(RestartStrategyOptions.RESTART_STRATEGY, "none");
    env.configure(noRestart);
    env.setParallelism(2);
    DataStream.Collector<FusionResult> results = new DataStream.Collector<>();
    DataStream.Collector<DeadLetter> deadLetters = new DataStream.Collector<>();
    DataStream.Collector<BudgetDecision> budget = new DataStream.Collector<>();
    DataStream.Collector<Telemetry> selfTelemetry = new DataStream.Collector<>();
    QoiFlowJob.defineWorkflow(
        env,
        config,
        boundedInputs(env, config, frames, telemetry),
        new QoiFlowJob.Outputs(
            QoiFlowJob.Output.collect(results),
            QoiFlowJob.Output.collect(deadLetters),
            QoiFlowJob.Output.collect(budget),
            QoiFlowJob.Output.collect(selfTelemetry)));
    JobClient job = env.executeAsync("qoiflow-workflow-test");
    Collected out =
        new Collected(drain(results), drain(deadLetters), drain(budget), drain(selfTelemetry));
    job.getJobExecutionResult().get();
    return out;
  }

  /**
   * What {@link KafkaIo#inputs} makes of the topics, from lists: one source per frame topic, each
   * record encoded and put through the job's validating deserializer, in capture-time order.
   */
  private static QoiFlowJob.Inputs boundedInputs(
      StreamExecutionEnvironment env,
      JobConfig config,
      List<SensorFrame> frames,
      List<Telemetry> telemetry) {
    KafkaIo io = new KafkaIo(config, QoiFlowJob.contract(config));
    RecordValidator validator = new RecordValidator(QoiFlowJob.contract(config));
    DataStream<Outcome<SensorFrame>> frameStream = null;
    for (String topic : SensorContract.frameTopics()) {
      List<SensorFrame> ofTopic =
          frames.stream()
              .filter(f -> SensorContract.topic(f.getModality()).equals(topic))
              .sorted(Comparator.comparing(SensorFrame::getCaptureTime))
              .toList();
      DataStream<Outcome<SensorFrame>> s =
          bounded(
                  env,
                  outcomes(ValidatingDeserializer.frames(validator), ofTopic, topic),
                  Outcome.typeInfo(SensorFrame.class))
              .assignTimestampsAndWatermarks(
                  io.watermarks(topic, f -> f.getCaptureTime().toEpochMilli(), KafkaIo.JOIN_INPUTS))
              .name("bounded " + topic);
      frameStream = frameStream == null ? s : frameStream.union(s);
    }
    DataStream<Outcome<QaQuestion>> questions =
        bounded(env, List.<Outcome<QaQuestion>>of(), Outcome.typeInfo(QaQuestion.class))
            .assignTimestampsAndWatermarks(
                io.watermarks(
                    Topics.QA_QUESTIONS,
                    q -> q.getAskedTime().toEpochMilli(),
                    KafkaIo.JOIN_INPUTS));
    DataStream<Outcome<Telemetry>> telemetryStream =
        bounded(
                env,
                outcomes(ValidatingDeserializer.telemetry(validator), telemetry, Topics.TELEMETRY),
                Outcome.typeInfo(Telemetry.class))
            .assignTimestampsAndWatermarks(
                io.watermarks(Topics.TELEMETRY, t -> t.getTime().toEpochMilli(), null));
    return new QoiFlowJob.Inputs(frameStream, questions, telemetryStream);
  }

  /**
   * A bounded source of {@code records}. {@code fromData} cannot be empty (its generator would
   * still ask for element 0), so an empty input is one placeholder that is filtered out.
   */
  private static <T extends SpecificRecordBase> DataStream<Outcome<T>> bounded(
      StreamExecutionEnvironment env, List<Outcome<T>> records, TypeInformation<Outcome<T>> type) {
    if (!records.isEmpty()) {
      return env.fromData(records, type);
    }
    return env.fromData(List.of(new Outcome<T>()), type).filter(o -> false).returns(type);
  }

  /** Records as the job's sources would read them: encoded, then decoded and checked. */
  @SuppressWarnings("unchecked")
  private static <T extends SpecificRecordBase> List<Outcome<T>> outcomes(
      ValidatingDeserializer<T> deserializer, List<T> records, String topic) {
    List<Outcome<T>> out = new ArrayList<>(records.size());
    for (int i = 0; i < records.size(); i++) {
      T r = records.get(i);
      byte[] value = SingleObjectSerde.forClass((Class<T>) r.getClass()).encode(r);
      out.add(deserializer.decode(value, topic, 0, i));
    }
    return out;
  }

  private static <T> List<T> drain(DataStream.Collector<T> collector) throws Exception {
    List<T> out = new ArrayList<>();
    try (CloseableIterator<T> it = collector.getOutput()) {
      it.forEachRemaining(out::add);
    }
    return out;
  }

  private static JobConfig config(String... extra) {
    List<String> args =
        new ArrayList<>(
            List.of(
                // Never contacted: defineWorkflow gets its inputs and outputs from the test.
                "--bootstrap",
                "unused:9092",
                "--model",
                model.toString(),
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

  private static List<String> reasons(List<DeadLetter> dead) {
    return dead.stream().map(d -> d.getReasonCode() + ": " + d.getMessage()).toList();
  }

  private static String key(String rig, Instant t) {
    return rig + "@" + t.toEpochMilli();
  }
}
