package io.qoiflow.e2e;

import io.qoiflow.records.DType;
import io.qoiflow.records.Modality;
import io.qoiflow.records.SensorFrame;
import io.qoiflow.schemas.SingleObjectSerde;
import io.qoiflow.schemas.Topics;
import io.qoiflow.simulator.Simulator;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * Bad input of many kinds, each a Kafka record with the reason code the job must give it in {@code
 * deadletter} (docs/TOPOLOGY.md). Records are crafted from a valid simulator frame so that each
 * breaks exactly one rule; each gets its own rig id, so its bytes identify its dead letter.
 */
public final class BadInput {
  /** One bad record and the reason it must be dead-lettered with. */
  public record Case(String kind, String expectedReason, ProducerRecord<byte[], byte[]> record) {
    public String fingerprint() {
      return digest(record.value());
    }
  }

  private BadInput() {}

  private static final SingleObjectSerde<SensorFrame> SERDE =
      SingleObjectSerde.forClass(SensorFrame.class);

  /**
   * Cases that the source's deserializer rejects, with valid-looking capture time {@code timeMs}
   * where the rule is not about time. {@code template} is any valid frame of a FLOAT32 modality.
   */
  public static List<Case> sourceCases(SensorFrame template, long timeMs) {
    if (template.getDtype() != DType.FLOAT32) {
      throw new IllegalArgumentException("template must be a FLOAT32 frame: " + template);
    }
    List<Case> cases = new ArrayList<>();
    String topic = Workload.topicOf(template);

    byte[] valid = SERDE.encode(frame(template, "bad-truncated", timeMs));
    cases.add(c("truncated Avro body", "truncated", topic, Arrays.copyOf(valid, valid.length / 2)));

    byte[] fingerprint = SERDE.encode(frame(template, "bad-fingerprint", timeMs));
    for (int i = 2; i < SingleObjectSerde.HEADER_LENGTH; i++) {
      fingerprint[i] = (byte) ~fingerprint[i];
    }
    cases.add(c("unknown schema fingerprint", "unknown-fingerprint", topic, fingerprint));

    byte[] marker = SERDE.encode(frame(template, "bad-marker", timeMs));
    marker[1] = 0x02;
    cases.add(c("wrong marker bytes", "bad-marker", topic, marker));

    byte[] trailing = SERDE.encode(frame(template, "bad-trailing", timeMs));
    trailing = Arrays.copyOf(trailing, trailing.length + 3);
    cases.add(c("trailing bytes after the record", "corrupt-body", topic, trailing));

    // Same element count, other dimensions: only the shape is wrong.
    List<Integer> shape = template.getShape();
    List<Integer> wrongShape = new ArrayList<>(shape);
    int last = wrongShape.size() - 1;
    wrongShape.set(last - 1, shape.get(last - 1) * 2);
    wrongShape.set(last, shape.get(last) / 2);
    SensorFrame badShape = frame(template, "bad-shape", timeMs);
    badShape.setShape(wrongShape);
    cases.add(c("wrong shape", "bad-shape", topic, SERDE.encode(badShape)));

    SensorFrame badDtype = frame(template, "bad-dtype", timeMs);
    badDtype.setDtype(DType.FLOAT16);
    cases.add(c("wrong dtype", "bad-dtype", topic, SERDE.encode(badDtype)));

    SensorFrame nan = frame(template, "bad-nan", timeMs);
    ByteBuffer p = copy(template.getPayload());
    p.order(ByteOrder.LITTLE_ENDIAN).putFloat(4 * 7, Float.NaN).putFloat(4 * 100, Float.NaN);
    nan.setPayload(p);
    cases.add(c("NaN in payload", "non-finite", topic, SERDE.encode(nan)));

    SensorFrame inf = frame(template, "bad-inf", timeMs);
    ByteBuffer q = copy(template.getPayload());
    q.order(ByteOrder.LITTLE_ENDIAN).putFloat(4 * 3, Float.POSITIVE_INFINITY);
    inf.setPayload(q);
    cases.add(c("infinity in payload", "non-finite", topic, SERDE.encode(inf)));

    SensorFrame oversized = frame(template, "bad-oversized", timeMs);
    oversized.setPayload(ByteBuffer.allocate(2 << 20));
    cases.add(c("oversized payload (2 MiB)", "oversized", topic, SERDE.encode(oversized)));

    SensorFrame empty = frame(template, "bad-empty", timeMs);
    empty.setPayload(ByteBuffer.allocate(0));
    cases.add(c("empty payload", "empty-payload", topic, SERDE.encode(empty)));

    cases.add(
        c(
            "unknown modality enum index",
            "unknown-modality",
            topic,
            unknownModality(template, timeMs)));

    SensorFrame future = frame(template, "bad-future", System.currentTimeMillis() + 86_400_000L);
    cases.add(c("timestamp a day in the future", "future-timestamp", topic, SERDE.encode(future)));

    SensorFrame negative = frame(template, "bad-negative", -1_000);
    cases.add(c("negative timestamp", "negative-timestamp", topic, SERDE.encode(negative)));

    SensorFrame wrongTopic = frame(template, "bad-topic", timeMs);
    String otherTopic =
        topic.equals(Topics.FRAMES_AUDIO) ? Topics.FRAMES_LIDAR : Topics.FRAMES_AUDIO;
    cases.add(
        c(
            "frame on another modality's topic",
            "wrong-topic",
            otherTopic,
            SERDE.encode(wrongTopic)));

    SensorFrame noRig = frame(template, "", timeMs);
    cases.add(c("empty rig id", "bad-field", topic, SERDE.encode(noRig)));
    return cases;
  }

  /** A valid frame sent a second time right after the first: the join drops it as duplicate. */
  public static Case duplicate(ProducerRecord<byte[], byte[]> original) {
    return new Case(
        "duplicate frame",
        "duplicate",
        new ProducerRecord<>(
            original.topic(), null, original.timestamp(), original.key(), original.value()));
  }

  /** A valid frame of a new rig, captured at the simulator's epoch, long behind the watermark. */
  public static Case late(SensorFrame template) {
    SensorFrame late = frame(template, "bad-late", Simulator.EPOCH_MS);
    return c("late frame", "late", Workload.topicOf(template), SERDE.encode(late));
  }

  /**
   * The frame with the modality's Avro enum index (right after the rigId string) replaced by one
   * past the last symbol; header and fingerprint stay those of the current schema.
   */
  static byte[] unknownModality(SensorFrame template, long timeMs) {
    byte[] bytes = SERDE.encode(frame(template, "bad-modality", timeMs));
    int rigLength = "bad-modality".getBytes(StandardCharsets.UTF_8).length;
    int at = SingleObjectSerde.HEADER_LENGTH + 1 + rigLength; // 1-byte zig-zag length (< 64)
    int index = Modality.values().length + 4;
    bytes[at] = (byte) (index << 1); // zig-zag of a small positive int
    return bytes;
  }

  private static SensorFrame frame(SensorFrame template, String rig, long timeMs) {
    return SensorFrame.newBuilder(template)
        .setRigId(rig)
        .setCaptureTime(Instant.ofEpochMilli(timeMs))
        .setPayload(copy(template.getPayload()))
        .setShape(new ArrayList<>(template.getShape()))
        .build();
  }

  private static ByteBuffer copy(ByteBuffer b) {
    ByteBuffer d = b.duplicate();
    d.rewind();
    ByteBuffer out = ByteBuffer.allocate(d.remaining());
    out.put(d);
    out.flip();
    return out;
  }

  private static Case c(String kind, String reason, String topic, byte[] value) {
    return new Case(kind, reason, new ProducerRecord<>(topic, null, null, null, value));
  }

  /** SHA-256 of record bytes, to find a record's dead letter by its original bytes. */
  public static String digest(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  public static String digest(ByteBuffer b) {
    ByteBuffer d = b.duplicate();
    byte[] bytes = new byte[d.remaining()];
    d.get(bytes);
    return digest(bytes);
  }
}
