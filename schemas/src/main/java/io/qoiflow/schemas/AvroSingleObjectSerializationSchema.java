package io.qoiflow.schemas;

import org.apache.avro.specific.SpecificRecordBase;
import org.apache.flink.api.common.serialization.SerializationSchema;

/** Flink {@link SerializationSchema} writing the project's single-object Avro wire format. */
public final class AvroSingleObjectSerializationSchema<T extends SpecificRecordBase>
    implements SerializationSchema<T> {
  private static final long serialVersionUID = 1L;
  private final SingleObjectSerde<T> serde;

  public AvroSingleObjectSerializationSchema(Class<T> recordClass) {
    this.serde = SingleObjectSerde.forClass(recordClass);
  }

  @Override
  public byte[] serialize(T element) {
    return serde.encode(element);
  }
}
