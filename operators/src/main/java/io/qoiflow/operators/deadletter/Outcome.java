package io.qoiflow.operators.deadletter;

import io.qoiflow.records.DeadLetter;
import java.util.Map;
import java.util.Objects;
import org.apache.avro.specific.SpecificRecordBase;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.formats.avro.typeutils.AvroTypeInfo;

/**
 * The outcome of reading one Kafka record: exactly one of a valid {@code value} or a {@code
 * deadLetter} explaining why it is not one. Lets sources carry bad input downstream as data instead
 * of failing the job.
 */
public class Outcome<T extends SpecificRecordBase> {
  /** The valid record, or null. */
  public T value;

  /** Why the record was rejected, or null. */
  public DeadLetter deadLetter;

  /** For Flink's POJO serializer. */
  public Outcome() {}

  public static <T extends SpecificRecordBase> Outcome<T> ok(T value) {
    Outcome<T> d = new Outcome<>();
    d.value = Objects.requireNonNull(value);
    return d;
  }

  public static <T extends SpecificRecordBase> Outcome<T> rejected(DeadLetter deadLetter) {
    Outcome<T> d = new Outcome<>();
    d.deadLetter = Objects.requireNonNull(deadLetter);
    return d;
  }

  public boolean isValid() {
    return value != null;
  }

  /** Flink type information without reflection on the erased type parameter. */
  @SuppressWarnings({"unchecked", "rawtypes"})
  public static <T extends SpecificRecordBase> TypeInformation<Outcome<T>> typeInfo(
      Class<T> valueClass) {
    return (TypeInformation)
        Types.POJO(
            Outcome.class,
            Map.of(
                "value", new AvroTypeInfo<>(valueClass),
                "deadLetter", new AvroTypeInfo<>(DeadLetter.class)));
  }

  @Override
  public String toString() {
    return isValid() ? "Outcome[" + value + "]" : "Rejected[" + deadLetter.getReasonCode() + "]";
  }
}
