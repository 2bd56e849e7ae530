package io.qoiflow.operators.functions;

import io.qoiflow.operators.deadletter.Outcome;
import io.qoiflow.records.DeadLetter;
import io.qoiflow.records.Modality;
import io.qoiflow.records.QaQuestion;
import io.qoiflow.records.SensorFrame;
import io.qoiflow.records.Telemetry;
import io.qoiflow.schemas.DeadLetters;
import io.qoiflow.schemas.RecordValidator;
import io.qoiflow.schemas.RejectReason;
import io.qoiflow.schemas.SensorContract;
import io.qoiflow.schemas.SingleObjectSerde;
import io.qoiflow.schemas.WireFormatException;
import java.io.IOException;
import java.io.Serializable;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.specific.SpecificRecordBase;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * Reads an input topic without ever failing the job: every Kafka record becomes a {@link Outcome}
 * holding either a valid record or a {@link DeadLetter} with the original bytes, the source
 * coordinates and a reason. Decoding and the contract check happen here, before watermarking, so a
 * record with a wild timestamp can never drag the watermark along.
 */
public final class ValidatingDeserializer<T extends SpecificRecordBase>
    implements KafkaRecordDeserializationSchema<Outcome<T>> {
  private static final long serialVersionUID = 1L;

  /** The contract check of one record type; null means valid. */
  @FunctionalInterface
  public interface Check<T> extends Serializable {
    RecordValidator.Rejection check(T record, String topic, long nowMs);
  }

  private final SingleObjectSerde<T> serde;
  private final Check<T> check;

  public ValidatingDeserializer(Class<T> recordClass, Check<T> check) {
    this.serde = SingleObjectSerde.forClass(recordClass);
    this.check = check;
  }

  /** Frames: the topic name's suffix names the modality ({@code frames.camera}). */
  public static ValidatingDeserializer<SensorFrame> frames(RecordValidator validator) {
    return new ValidatingDeserializer<>(
        SensorFrame.class,
        (frame, topic, now) ->
            validator.validateFrame(frame, SensorContract.modalityOfTopic(topic), now));
  }

  public static ValidatingDeserializer<Telemetry> telemetry(RecordValidator validator) {
    return new ValidatingDeserializer<>(
        Telemetry.class, (t, topic, now) -> validator.validateTelemetry(t, now));
  }

  public static ValidatingDeserializer<QaQuestion> questions(RecordValidator validator) {
    return new ValidatingDeserializer<>(
        QaQuestion.class, (q, topic, now) -> validator.validateQuestion(q, now));
  }

  @Override
  public void deserialize(ConsumerRecord<byte[], byte[]> record, Collector<Outcome<T>> out) {
    out.collect(decode(record.value(), record.topic(), record.partition(), record.offset()));
  }

  /** Decodes and checks one record value; never throws. */
  public Outcome<T> decode(byte[] value, String topic, int partition, long offset) {
    long now = System.currentTimeMillis();
    T decoded;
    try {
      decoded = serde.decode(value);
    } catch (WireFormatException e) {
      String reason = e.reasonCode();
      if (e instanceof WireFormatException.CorruptBody && hasUnknownModality(value)) {
        reason = RejectReason.UNKNOWN_MODALITY;
      }
      return Outcome.rejected(
          DeadLetters.of(value, topic, partition, offset, reason, e.getMessage(), now));
    }
    RecordValidator.Rejection rejection;
    try {
      rejection = check.check(decoded, topic, now);
    } catch (RuntimeException e) {
      rejection = new RecordValidator.Rejection(RejectReason.BAD_FIELD, String.valueOf(e));
    }
    if (rejection != null) {
      return Outcome.rejected(
          DeadLetters.of(
              value, topic, partition, offset, rejection.reasonCode(), rejection.message(), now));
    }
    return Outcome.ok(decoded);
  }

  /**
   * A SensorFrame whose modality enum index is outside the known symbols fails Avro decoding as a
   * whole; peek at that field (after the rigId string) to give it its own reason.
   */
  private boolean hasUnknownModality(byte[] value) {
    if (serde.recordClass() != SensorFrame.class
        || value.length <= SingleObjectSerde.HEADER_LENGTH) {
      return false;
    }
    try {
      BinaryDecoder d =
          DecoderFactory.get()
              .binaryDecoder(
                  value,
                  SingleObjectSerde.HEADER_LENGTH,
                  value.length - SingleObjectSerde.HEADER_LENGTH,
                  null);
      d.skipString();
      int index = d.readEnum();
      return index < 0 || index >= Modality.values().length;
    } catch (IOException | RuntimeException e) {
      return false;
    }
  }

  @Override
  public TypeInformation<Outcome<T>> getProducedType() {
    return Outcome.typeInfo(serde.recordClass());
  }
}
