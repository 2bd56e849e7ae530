package io.qoiflow.schemas;

import java.io.IOException;

/**
 * A Kafka record value that is not a valid single-object-encoded record of the expected type. Each
 * subclass carries a stable {@link #reasonCode()} that the pipeline writes into dead letters.
 */
public abstract class WireFormatException extends IOException {
  private static final long serialVersionUID = 1L;

  protected WireFormatException(String message, Throwable cause) {
    super(message, cause);
  }

  /** Machine-readable reason, used as the dead letter's {@code reasonCode}. */
  public abstract String reasonCode();

  /** The two marker bytes are not {@code C3 01}: not single-object encoded at all. */
  public static final class BadMarker extends WireFormatException {
    private static final long serialVersionUID = 1L;

    public BadMarker(String message) {
      super(message, null);
    }

    @Override
    public String reasonCode() {
      return "bad-marker";
    }
  }

  /** The schema fingerprint is neither the current schema's nor a known older version's. */
  public static final class UnknownFingerprint extends WireFormatException {
    private static final long serialVersionUID = 1L;
    private final long fingerprint;

    public UnknownFingerprint(long fingerprint, String expectedType) {
      super(
          String.format(
              "unknown schema fingerprint %016x for %s (not the current or any known older version)",
              fingerprint, expectedType),
          null);
      this.fingerprint = fingerprint;
    }

    public long fingerprint() {
      return fingerprint;
    }

    @Override
    public String reasonCode() {
      return "unknown-fingerprint";
    }
  }

  /** The header is complete but the body ends before the record does. */
  public static final class Truncated extends WireFormatException {
    private static final long serialVersionUID = 1L;

    public Truncated(String message, Throwable cause) {
      super(message, cause);
    }

    @Override
    public String reasonCode() {
      return "truncated";
    }
  }

  /** The body does not decode as the schema (bad union index, negative length, trailing bytes). */
  public static final class CorruptBody extends WireFormatException {
    private static final long serialVersionUID = 1L;

    public CorruptBody(String message, Throwable cause) {
      super(message, cause);
    }

    @Override
    public String reasonCode() {
      return "corrupt-body";
    }
  }
}
