package io.qoiflow.schemas;

/**
 * Reason codes written into {@code DeadLetter.reasonCode}. Wire-format reasons come from {@code
 * WireFormatException.reasonCode()}; these are the contract and pipeline reasons.
 */
public final class RejectReason {
  public static final String BAD_SHAPE = "bad-shape";
  public static final String BAD_DTYPE = "bad-dtype";
  public static final String NON_FINITE = "non-finite";
  public static final String OVERSIZED = "oversized";
  public static final String EMPTY_PAYLOAD = "empty-payload";
  public static final String UNKNOWN_MODALITY = "unknown-modality";
  public static final String WRONG_TOPIC = "wrong-topic";
  public static final String FUTURE_TIMESTAMP = "future-timestamp";
  public static final String NEGATIVE_TIMESTAMP = "negative-timestamp";
  public static final String BAD_FIELD = "bad-field";

  /**
   * A rig id outside {@link RecordValidator#RIG_ID}: rig ids travel into keys, metric labels and
   * the dashboard, so anything but a short plain identifier (markup, quotes, spaces) is refused.
   */
  public static final String BAD_RIG_ID = "bad-rig-id";

  public static final String DUPLICATE = "duplicate";
  public static final String LATE = "late";
  public static final String LATE_QUESTION = "late-question";
  public static final String UNMATCHED_QUESTION = "unmatched-question";
  public static final String INFERENCE_TIMEOUT = "inference-timeout";
  public static final String INFERENCE_ERROR = "inference-error";
  public static final String OVERLOADED = "overloaded";

  private RejectReason() {}
}
