package io.qoiflow.schemas;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.qoiflow.records.DeadLetter;
import io.qoiflow.records.Modality;
import io.qoiflow.records.SensorFrame;
import io.qoiflow.records.Telemetry;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificRecordBase;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class SingleObjectSerdeTest {

  static List<SpecificRecordBase> records() {
    return RecordFixtures.all();
  }

  @ParameterizedTest(name = "{index}: {0}")
  @MethodSource("records")
  @SuppressWarnings({"unchecked", "rawtypes"})
  void everyRecordRoundTrips(SpecificRecordBase record) throws Exception {
    SingleObjectSerde serde = SingleObjectSerde.forClass(record.getClass());
    byte[] bytes = serde.encode(record);

    assertThat(bytes[0]).isEqualTo((byte) 0xC3);
    assertThat(bytes[1]).isEqualTo((byte) 0x01);
    assertThat(serde.decode(bytes)).isEqualTo(record);
  }

  @Test
  void headerCarriesTheSchemaFingerprintLittleEndian() {
    SingleObjectSerde<SensorFrame> serde = SingleObjectSerde.forClass(SensorFrame.class);
    byte[] bytes = serde.encode(RecordFixtures.frame(Modality.CAMERA));
    long fp = SingleObjectSerde.fingerprint(SensorFrame.getClassSchema());
    byte[] expected =
        ByteBuffer.allocate(8).order(java.nio.ByteOrder.LITTLE_ENDIAN).putLong(fp).array();
    assertThat(Arrays.copyOfRange(bytes, 2, 10)).isEqualTo(expected);
  }

  @Test
  void compatibleWithAvrosOwnSingleObjectEncoder() throws Exception {
    SensorFrame frame = RecordFixtures.frame(Modality.DEPTH);
    byte[] avros = SensorFrame.getEncoder().encode(frame).array();
    SingleObjectSerde<SensorFrame> serde = SingleObjectSerde.forClass(SensorFrame.class);
    assertThat(serde.encode(frame)).isEqualTo(avros);
    assertThat(serde.decode(avros)).isEqualTo(frame);
  }

  @Test
  void wrongMarkerIsTyped() {
    SingleObjectSerde<SensorFrame> serde = SingleObjectSerde.forClass(SensorFrame.class);
    byte[] bytes = serde.encode(RecordFixtures.frame(Modality.CAMERA));
    bytes[0] = 0x00;
    assertThatThrownBy(() -> serde.decode(bytes))
        .isInstanceOf(WireFormatException.BadMarker.class)
        .extracting(e -> ((WireFormatException) e).reasonCode())
        .isEqualTo("bad-marker");
    assertThatThrownBy(() -> serde.decode(new byte[0]))
        .isInstanceOf(WireFormatException.BadMarker.class);
    assertThatThrownBy(() -> serde.decode("{\"json\":true}".getBytes()))
        .isInstanceOf(WireFormatException.BadMarker.class);
  }

  @Test
  void unknownFingerprintIsTyped() {
    SingleObjectSerde<SensorFrame> serde = SingleObjectSerde.forClass(SensorFrame.class);
    byte[] bytes = serde.encode(RecordFixtures.frame(Modality.CAMERA));
    bytes[5] ^= 0x5A;
    assertThatThrownBy(() -> serde.decode(bytes))
        .isInstanceOf(WireFormatException.UnknownFingerprint.class)
        .extracting(e -> ((WireFormatException) e).reasonCode())
        .isEqualTo("unknown-fingerprint");
  }

  @Test
  void aRecordOfAnotherTypeHasAnUnknownFingerprint() {
    byte[] telemetry =
        SingleObjectSerde.forClass(Telemetry.class).encode((Telemetry) RecordFixtures.all().get(3));
    assertThatThrownBy(() -> SingleObjectSerde.forClass(SensorFrame.class).decode(telemetry))
        .isInstanceOf(WireFormatException.UnknownFingerprint.class);
  }

  @Test
  void truncatedBodyIsTyped() {
    SingleObjectSerde<SensorFrame> serde = SingleObjectSerde.forClass(SensorFrame.class);
    byte[] bytes = serde.encode(RecordFixtures.frame(Modality.CAMERA));
    for (int cut : new int[] {5, 10, 14, bytes.length - 1}) {
      byte[] truncated = Arrays.copyOf(bytes, cut);
      assertThatThrownBy(() -> serde.decode(truncated))
          .as("cut at %d of %d", cut, bytes.length)
          .isInstanceOf(WireFormatException.Truncated.class)
          .extracting(e -> ((WireFormatException) e).reasonCode())
          .isEqualTo("truncated");
    }
  }

  @Test
  void trailingGarbageIsACorruptBody() {
    SingleObjectSerde<DeadLetter> serde = SingleObjectSerde.forClass(DeadLetter.class);
    byte[] bytes = serde.encode((DeadLetter) RecordFixtures.all().get(7));
    byte[] longer = Arrays.copyOf(bytes, bytes.length + 3);
    assertThatThrownBy(() -> serde.decode(longer))
        .isInstanceOf(WireFormatException.CorruptBody.class)
        .extracting(e -> ((WireFormatException) e).reasonCode())
        .isEqualTo("corrupt-body");
  }

  @Test
  void serdeSurvivesJavaSerialization() throws Exception {
    SingleObjectSerde<SensorFrame> serde = SingleObjectSerde.forClass(SensorFrame.class);
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    try (var out = new java.io.ObjectOutputStream(buf)) {
      out.writeObject(serde);
    }
    @SuppressWarnings("unchecked")
    SingleObjectSerde<SensorFrame> copy =
        (SingleObjectSerde<SensorFrame>)
            new java.io.ObjectInputStream(new java.io.ByteArrayInputStream(buf.toByteArray()))
                .readObject();
    SensorFrame frame = RecordFixtures.frame(Modality.AUDIO);
    assertThat(copy.decode(serde.encode(frame))).isEqualTo(frame);
  }

  /** A frame written by the v1 schema (before `metadata`) is read by the current one. */
  @Test
  void recordWrittenByOlderSchemaVersionIsRead() throws Exception {
    Schema v1;
    try (InputStream in = getClass().getResourceAsStream("/avro-history/SensorFrame.v1.avsc")) {
      v1 = new Schema.Parser().parse(in);
    }
    assertThat(SingleObjectSerde.fingerprint(v1))
        .isNotEqualTo(SingleObjectSerde.fingerprint(SensorFrame.getClassSchema()));

    GenericRecord old = new GenericData.Record(v1);
    old.put("rigId", "rig-old");
    old.put("modality", new GenericData.EnumSymbol(v1.getField("modality").schema(), "MMWAVE"));
    old.put("captureTime", 1_600_000_000_000L);
    old.put("sequence", 5L);
    old.put("shape", List.of(1, 2));
    old.put("dtype", new GenericData.EnumSymbol(v1.getField("dtype").schema(), "FLOAT32"));
    old.put("payload", ByteBuffer.wrap(new byte[8]));

    ByteArrayOutputStream out = new ByteArrayOutputStream();
    long fp = SingleObjectSerde.fingerprint(v1);
    out.write(new byte[] {(byte) 0xC3, 0x01});
    out.write(ByteBuffer.allocate(8).order(java.nio.ByteOrder.LITTLE_ENDIAN).putLong(fp).array());
    BinaryEncoder enc = EncoderFactory.get().directBinaryEncoder(out, null);
    new GenericDatumWriter<GenericRecord>(v1).write(old, enc);
    enc.flush();

    SensorFrame read = SingleObjectSerde.forClass(SensorFrame.class).decode(out.toByteArray());
    assertThat(read.getRigId()).isEqualTo("rig-old");
    assertThat(read.getModality()).isEqualTo(Modality.MMWAVE);
    assertThat(read.getShape()).containsExactly(1, 2);
    assertThat(read.getMetadata()).isEqualTo(Map.of());
  }

  /**
   * Every older schema version in the history index can be read by the current schema, and a record
   * written with it decodes through the serde with the new fields at their defaults.
   */
  @Test
  void everyHistoricVersionIsReadWithTheNewFieldsAtTheirDefaults() throws Exception {
    for (SpecificRecordBase current : RecordFixtures.all()) {
      for (Schema older : SingleObjectSerde.historyOf(current.getSchema().getFullName())) {
        assertThat(
                org.apache.avro.SchemaCompatibility.checkReaderWriterCompatibility(
                        current.getSchema(), older)
                    .getType())
            .as(older.getFullName() + ": " + older.getDoc())
            .isEqualTo(org.apache.avro.SchemaCompatibility.SchemaCompatibilityType.COMPATIBLE);
        // The fields a v1 writer knew, from today's fixture (new fields are appended, so the
        // positions of the old ones are unchanged), in v1's binary layout.
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(new byte[] {(byte) 0xC3, 0x01});
        out.write(
            ByteBuffer.allocate(8)
                .order(java.nio.ByteOrder.LITTLE_ENDIAN)
                .putLong(SingleObjectSerde.fingerprint(older))
                .array());
        BinaryEncoder enc = EncoderFactory.get().directBinaryEncoder(out, null);
        org.apache.avro.specific.SpecificData model =
            org.apache.avro.specific.SpecificData.getForClass(current.getClass());
        new org.apache.avro.specific.SpecificDatumWriter<SpecificRecordBase>(older, model)
            .write(current, enc);
        enc.flush();
        @SuppressWarnings("unchecked")
        SingleObjectSerde<SpecificRecordBase> serde =
            (SingleObjectSerde<SpecificRecordBase>) SingleObjectSerde.forClass(current.getClass());
        SpecificRecordBase read = serde.decode(out.toByteArray());
        for (Schema.Field f : current.getSchema().getFields()) {
          Object expected =
              older.getField(f.name()) != null ? current.get(f.name()) : model.getDefaultValue(f);
          assertThat(read.get(f.name()))
              .as(older.getFullName() + "." + f.name())
              .isEqualTo(expected);
        }
      }
    }
  }
}
