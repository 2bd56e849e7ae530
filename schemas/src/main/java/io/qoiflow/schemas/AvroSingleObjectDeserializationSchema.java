package io.qoiflow.schemas;

import java.io.IOException;
import org.apache.avro.specific.SpecificRecordBase;
import org.apache.flink.api.common.serialization.DeserializationSchema;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.formats.avro.typeutils.AvroTypeInfo;

/**
 * Flink {@link DeserializationSchema} reading the single-object Avro wire format. It throws a
 * {@link WireFormatException} on bad input, so use it only on topics the job itself writes; the
 * external input topics are read with a dead-letter-aware deserializer in {@code operators}.
 */
public final class AvroSingleObjectDeserializationSchema<T extends SpecificRecordBase>
    implements DeserializationSchema<T> {
  private static final long serialVersionUID = 1L;
  private final SingleObjectSerde<T> serde;

  public AvroSingleObjectDeserializationSchema(Class<T> recordClass) {
    this.serde = SingleObjectSerde.forClass(recordClass);
  }

  @Override
  public T deserialize(byte[] message) throws IOException {
    return serde.decode(message);
  }

  @Override
  public boolean isEndOfStream(T nextElement) {
    return false;
  }

  @Override
  public TypeInformation<T> getProducedType() {
    return new AvroTypeInfo<>(serde.recordClass());
  }
}
