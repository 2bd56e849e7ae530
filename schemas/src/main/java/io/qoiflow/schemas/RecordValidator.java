package io.qoiflow.schemas;

import io.qoiflow.records.DType;
import io.qoiflow.records.Modality;
import io.qoiflow.records.QaQuestion;
import io.qoiflow.records.SensorFrame;
import io.qoiflow.records.Telemetry;
import java.io.Serializable;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Out-of-contract checks on decoded records. Returns null for a valid record, or a {@link
 * Rejection} with a reason code from {@link RejectReason}. The order of checks is fixed so that a
 * record breaking several rules always gets the same reason.
 */
public final class RecordValidator implements Serializable {
  private static final long serialVersionUID = 1L;

  /**
   * The rig ids the job accepts (frames and questions): 1 to 64 of ASCII letters, digits, dot,
   * underscore and hyphen. Rig ids reach Kafka keys, transactional state, metric labels and the
   * dashboard; this bound keeps markup and control characters out of all of them.
   */
  public static final Pattern RIG_ID = Pattern.compile("[A-Za-z0-9._-]{1,64}");

  /** Why a record is out of contract. */
  public record Rejection(String reasonCode, String message) {}

  private final FrameContract contract;

  public RecordValidator(FrameContract contract) {
    this.contract = contract;
  }

  public FrameContract contract() {
    return contract;
  }

  /**
   * @param topicModality the modality of the topic the frame came from, or null if not known
   */
  public Rejection validateFrame(SensorFrame f, Modality topicModality, long nowMs) {
    Rejection time = checkTime(f.getCaptureTime().toEpochMilli(), nowMs);
    if (time != null) {
      return time;
    }
    if (f.getRigId() == null || f.getRigId().isBlank()) {
      return new Rejection(RejectReason.BAD_FIELD, "empty rigId");
    }
    Rejection rig = checkRigId(f.getRigId());
    if (rig != null) {
      return rig;
    }
    Modality m = f.getModality();
    if (!contract.expects(m)) {
      return new Rejection(
          RejectReason.UNKNOWN_MODALITY,
          m + " is not a modality of the model " + contract.specs().keySet());
    }
    if (topicModality != null && topicModality != m) {
      return new Rejection(
          RejectReason.WRONG_TOPIC, m + " frame on the " + topicModality + " topic");
    }
    ByteBuffer payload = f.getPayload();
    int bytes = payload == null ? 0 : payload.remaining();
    if (bytes == 0) {
      return new Rejection(RejectReason.EMPTY_PAYLOAD, "payload has no bytes");
    }
    if (bytes > contract.maxPayloadBytes()) {
      return new Rejection(
          RejectReason.OVERSIZED,
          "payload of " + bytes + " bytes exceeds " + contract.maxPayloadBytes());
    }
    FrameSpec spec = contract.spec(m);
    if (f.getDtype() != spec.dtype()) {
      return new Rejection(
          RejectReason.BAD_DTYPE, m + " frames are " + spec.dtype() + ", got " + f.getDtype());
    }
    List<Integer> shape = f.getShape();
    if (!sameShape(shape, spec.shape())) {
      return new Rejection(RejectReason.BAD_SHAPE, m + " frames are " + spec + ", got " + shape);
    }
    if (bytes != spec.payloadBytes()) {
      return new Rejection(
          RejectReason.BAD_SHAPE,
          "payload has " + bytes + " bytes, shape " + shape + " needs " + spec.payloadBytes());
    }
    if (!allFinite(payload, f.getDtype())) {
      return new Rejection(RejectReason.NON_FINITE, m + " payload holds NaN or infinity");
    }
    return null;
  }

  public Rejection validateTelemetry(Telemetry t, long nowMs) {
    Rejection time = checkTime(t.getTime().toEpochMilli(), nowMs);
    if (time != null) {
      return time;
    }
    double[] values = {
      t.getGpuUtilization(),
      t.getMemoryUsedMb(),
      t.getMemoryTotalMb(),
      t.getTemperatureC(),
      t.getInferenceP50Ms(),
      t.getInferenceP99Ms()
    };
    for (double v : values) {
      if (!Double.isFinite(v)) {
        return new Rejection(RejectReason.NON_FINITE, "telemetry holds NaN or infinity");
      }
    }
    if (t.getPoolId() == null || t.getPoolId().isBlank()) {
      return new Rejection(RejectReason.BAD_FIELD, "empty poolId");
    }
    if (t.getGpuUtilization() < 0 || t.getGpuUtilization() > 1.0001) {
      return new Rejection(RejectReason.BAD_FIELD, "gpuUtilization outside [0, 1]");
    }
    return null;
  }

  public Rejection validateQuestion(QaQuestion q, long nowMs) {
    Rejection time = checkTime(q.getAskedTime().toEpochMilli(), nowMs);
    if (time != null) {
      return time;
    }
    if (q.getRigId() == null
        || q.getRigId().isBlank()
        || q.getText() == null
        || q.getText().isBlank()) {
      return new Rejection(RejectReason.BAD_FIELD, "question without rigId or text");
    }
    return checkRigId(q.getRigId());
  }

  /** Null when the rig id matches {@link #RIG_ID}; the message never echoes the raw id. */
  private static Rejection checkRigId(String rigId) {
    if (RIG_ID.matcher(rigId).matches()) {
      return null;
    }
    return new Rejection(
        RejectReason.BAD_RIG_ID,
        "rigId of "
            + rigId.length()
            + " chars does not match "
            + RIG_ID.pattern()
            + " (markup, spaces and control characters are refused)");
  }

  private Rejection checkTime(long t, long nowMs) {
    if (t < 0) {
      return new Rejection(RejectReason.NEGATIVE_TIMESTAMP, "timestamp " + t + " is negative");
    }
    if (t > nowMs + contract.maxFutureSkewMs()) {
      return new Rejection(
          RejectReason.FUTURE_TIMESTAMP,
          "timestamp " + t + " is " + (t - nowMs) + " ms in the future");
    }
    return null;
  }

  private static boolean sameShape(List<Integer> shape, int[] expected) {
    if (shape == null || shape.size() != expected.length) {
      return false;
    }
    for (int i = 0; i < expected.length; i++) {
      if (shape.get(i) != expected[i]) {
        return false;
      }
    }
    return true;
  }

  private static boolean allFinite(ByteBuffer payload, DType dtype) {
    ByteBuffer b = payload.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    switch (dtype) {
      case FLOAT32 -> {
        while (b.remaining() >= 4) {
          if (!Float.isFinite(b.getFloat())) {
            return false;
          }
        }
        return true;
      }
      case FLOAT16 -> {
        while (b.remaining() >= 2) {
          // Exponent bits all ones: infinity or NaN in IEEE 754 half precision.
          if ((b.getShort() & 0x7C00) == 0x7C00) {
            return false;
          }
        }
        return true;
      }
      default -> {
        return true;
      }
    }
  }
}
