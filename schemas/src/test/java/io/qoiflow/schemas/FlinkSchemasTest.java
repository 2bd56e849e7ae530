package io.qoiflow.schemas;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.qoiflow.records.Modality;
import io.qoiflow.records.SensorFrame;
import org.apache.flink.formats.avro.typeutils.AvroTypeInfo;
import org.junit.jupiter.api.Test;

class FlinkSchemasTest {
  @Test
  void flinkSchemasUseTheWireFormatAndAvroTypeInfo() throws Exception {
    var ser = new AvroSingleObjectSerializationSchema<>(SensorFrame.class);
    var de = new AvroSingleObjectDeserializationSchema<>(SensorFrame.class);
    SensorFrame frame = RecordFixtures.frame(Modality.CAMERA);

    assertThat(de.deserialize(ser.serialize(frame))).isEqualTo(frame);
    assertThat(de.getProducedType()).isInstanceOf(AvroTypeInfo.class);
    assertThatThrownBy(() -> de.deserialize(new byte[] {1, 2, 3}))
        .isInstanceOf(WireFormatException.BadMarker.class);
  }
}
