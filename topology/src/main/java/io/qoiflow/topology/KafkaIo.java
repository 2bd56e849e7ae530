package io.qoiflow.topology;

import io.qoiflow.operators.deadletter.Outcome;
import io.qoiflow.operators.functions.ValidatingDeserializer;
import io.qoiflow.records.BudgetDecision;
import io.qoiflow.records.DeadLetter;
import io.qoiflow.records.FusionResult;
import io.qoiflow.records.QaAnswer;
import io.qoiflow.records.QaQuestion;
import io.qoiflow.records.SensorFrame;
import io.qoiflow.records.Telemetry;
import io.qoiflow.schemas.AvroSingleObjectSerializationSchema;
import io.qoiflow.schemas.FrameContract;
import io.qoiflow.schemas.RecordValidator;
import io.qoiflow.schemas.SensorContract;
import io.qoiflow.schemas.Topics;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import org.apache.avro.specific.SpecificRecordBase;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.serialization.SerializationSchema;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.KafkaSourceBuilder;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.consumer.OffsetResetStrategy;

/** The job's real Kafka sources (one per input topic) and exactly-once sinks. */
public final class KafkaIo {
  private final JobConfig config;
  private final RecordValidator validator;

  public KafkaIo(JobConfig config, FrameContract contract) {
    this.config = config;
    this.validator = new RecordValidator(contract);
  }

  public QoiFlowJob.Inputs inputs(StreamExecutionEnvironment env) {
    DataStream<Outcome<SensorFrame>> frames = null;
    for (String topic : SensorContract.frameTopics()) {
      DataStream<Outcome<SensorFrame>> s =
          env.fromSource(
                  source(topic, ValidatingDeserializer.frames(validator)),
                  watermarks(topic, f -> f.getCaptureTime().toEpochMilli(), JOIN_INPUTS),
                  "kafka " + topic)
              .uid("source-" + topic);
      frames = frames == null ? s : frames.union(s);
    }
    DataStream<Outcome<QaQuestion>> questions =
        env.fromSource(
                source(Topics.QA_QUESTIONS, ValidatingDeserializer.questions(validator)),
                watermarks(Topics.QA_QUESTIONS, q -> q.getAskedTime().toEpochMilli(), JOIN_INPUTS),
                "kafka " + Topics.QA_QUESTIONS)
            .uid("source-" + Topics.QA_QUESTIONS);
    DataStream<Outcome<Telemetry>> telemetry =
        env.fromSource(
                source(Topics.TELEMETRY, ValidatingDeserializer.telemetry(validator)),
                watermarks(Topics.TELEMETRY, t -> t.getTime().toEpochMilli(), null),
                "kafka " + Topics.TELEMETRY)
            .uid("source-" + Topics.TELEMETRY);
    return new QoiFlowJob.Inputs(frames, questions, telemetry);
  }

  public QoiFlowJob.Outputs outputs() {
    return new QoiFlowJob.Outputs(
        sink(Topics.RESULTS_FUSION, FusionResult.class, r -> r.getRigId(), "results"),
        sink(Topics.DEADLETTER, DeadLetter.class, d -> d.getReasonCode(), "deadletter"),
        sink(Topics.BUDGET, BudgetDecision.class, b -> b.getPoolId(), "budget"),
        sink(Topics.TELEMETRY, Telemetry.class, t -> t.getPoolId(), "telemetry"),
        sink(Topics.RESULTS_QA, QaAnswer.class, a -> a.getRigId(), "answers"));
  }

  /**
   * Event time from the valid record; a rejected record carries no timestamp the watermark could
   * follow, so a wild timestamp in bad input never moves event time.
   *
   * <p>On unbounded input a split that stops sending is marked idle, so that event time goes on
   * when a partition or a whole modality stops; {@link CaughtUpIdleness} does so only for a split
   * that had caught up with the clock, never for one still reading a backlog. With {@code
   * --alignment-max-drift-ms} > 0 the inputs of the join (five frame topics and the questions) also
   * share a watermark alignment group, so that none runs ahead of the slowest by more than that
   * while a backlog is read (the join then holds seconds, not minutes, of pending sets). It is off
   * by default: in Flink 2.2 the coordinator keeps a failed subtask's last reported watermark
   * (FLINK-40505), and in the e2e run the restored frame sources read nothing for 100 s after a
   * TaskManager kill.
   *
   * <p>On bounded input (tests, benchmarks) there is neither: every split ends with the final
   * watermark itself, and a reader that is merely slow to start must not be taken for idle while
   * another source's finished splits have pushed the watermark to the end.
   */
  <T extends SpecificRecordBase> WatermarkStrategy<Outcome<T>> watermarks(
      String topic, SerializableTime<T> time, String alignmentGroup) {
    Duration outOfOrderness = Duration.ofMillis(config.outOfOrdernessMs());
    Duration stalled = Duration.ofMillis(Math.max(config.idlenessMs(), config.stalledIdlenessMs()));
    WatermarkStrategy<Outcome<T>> strategy =
        config.bounded() || config.idlenessMs() <= 0
            ? WatermarkStrategy.forBoundedOutOfOrderness(outOfOrderness)
            : WatermarkStrategy.forGenerator(
                CaughtUpIdleness.supplier(
                    topic,
                    outOfOrderness,
                    Duration.ofMillis(config.idlenessMs()),
                    stalled,
                    topic.startsWith("frames.")
                        ? stalled
                        : Duration.ofMillis(config.idlenessMs())));
    strategy =
        strategy.withTimestampAssigner((o, ts) -> o.isValid() ? time.of(o.value) : Long.MIN_VALUE);
    if (alignmentGroup != null && !config.bounded() && config.alignmentMaxDriftMs() > 0) {
      strategy =
          strategy.withWatermarkAlignment(
              alignmentGroup,
              Duration.ofMillis(config.alignmentMaxDriftMs()),
              Duration.ofMillis(ALIGNMENT_UPDATE_MS));
    }
    return strategy;
  }

  /** The join's inputs: the five frame topics and the questions. */
  static final String JOIN_INPUTS = "join-inputs";

  /** How often the sources of an alignment group report their watermarks and learn the limit. */
  static final long ALIGNMENT_UPDATE_MS = 200;

  /** The event time of a record. */
  @FunctionalInterface
  interface SerializableTime<T> extends java.io.Serializable {
    long of(T record);
  }

  <T extends SpecificRecordBase> KafkaSource<Outcome<T>> source(
      String topic, ValidatingDeserializer<T> deserializer) {
    KafkaSourceBuilder<Outcome<T>> b =
        KafkaSource.<Outcome<T>>builder()
            .setBootstrapServers(config.bootstrap())
            .setTopics(Topics.prefixed(config.topicPrefix(), topic))
            .setGroupId(config.groupId())
            .setStartingOffsets(OffsetsInitializer.committedOffsets(OffsetResetStrategy.EARLIEST))
            .setDeserializer(deserializer)
            .setProperty("isolation.level", "read_committed")
            .setProperty("max.partition.fetch.bytes", String.valueOf(8 << 20))
            .setProperty("partition.discovery.interval.ms", "10000")
            .setProperty("commit.offsets.on.checkpoint", "true")
            // The user's client properties (security, SASL, SSL, tuning) over the defaults above.
            .setProperties(config.kafka().toProperties());
    if (config.bounded()) {
      b.setBounded(OffsetsInitializer.latest());
    }
    return b.build();
  }

  <T extends SpecificRecordBase> QoiFlowJob.Output<T> sink(
      String topic, Class<T> type, SerializableKey<T> keyOf, String name) {
    return QoiFlowJob.Output.sink(kafkaSink(topic, type, keyOf, name));
  }

  private <T extends SpecificRecordBase> KafkaSink<T> kafkaSink(
      String topic, Class<T> type, SerializableKey<T> keyOf, String name) {
    return KafkaSink.<T>builder()
        .setBootstrapServers(config.bootstrap())
        .setRecordSerializer(
            KafkaRecordSerializationSchema.<T>builder()
                .setTopic(Topics.prefixed(config.topicPrefix(), topic))
                .setKeySerializationSchema(
                    (SerializationSchema<T>) r -> keyOf.of(r).getBytes(StandardCharsets.UTF_8))
                .setValueSerializationSchema(new AvroSingleObjectSerializationSchema<>(type))
                .build())
        .setDeliveryGuarantee(DeliveryGuarantee.EXACTLY_ONCE)
        .setTransactionalIdPrefix(config.transactionalIdPrefix() + "-" + name)
        .setKafkaProducerConfig(
            // The user's client properties over the defaults: a broker whose
            // transaction.max.timeout.ms is below 10 min needs --kafka.transaction.timeout.ms.
            config
                .kafka()
                .over(
                    Map.of(
                        "transaction.timeout.ms",
                        "600000",
                        "max.request.size",
                        String.valueOf(8 << 20))))
        .build();
  }

  /** A record's Kafka key. */
  @FunctionalInterface
  interface SerializableKey<T> extends java.io.Serializable {
    String of(T record);
  }
}
