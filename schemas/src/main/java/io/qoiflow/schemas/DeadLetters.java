package io.qoiflow.schemas;

import io.qoiflow.records.DeadLetter;
import java.nio.ByteBuffer;
import java.time.Instant;

/** The one way to make a {@link DeadLetter}: the original bytes, where they came from and why. */
public final class DeadLetters {
  private DeadLetters() {}

  /**
   * @param value the record value as read, or null for a record made inside the job
   * @param topic the source topic, or null for none
   * @param partition the source partition, -1 for none
   * @param offset the source offset, -1 for none
   * @param reason a {@link RejectReason} or {@link WireFormatException#reasonCode()} code
   * @param message what was wrong; null for the reason code itself
   */
  public static DeadLetter of(
      byte[] value,
      String topic,
      int partition,
      long offset,
      String reason,
      String message,
      long nowMs) {
    return DeadLetter.newBuilder()
        .setOriginalBytes(value == null ? null : ByteBuffer.wrap(value))
        .setSourceTopic(topic == null ? "" : topic)
        .setSourcePartition(partition)
        .setSourceOffset(offset)
        .setReasonCode(reason)
        .setMessage(message == null ? reason : message)
        .setTime(Instant.ofEpochMilli(nowMs))
        .build();
  }
}
