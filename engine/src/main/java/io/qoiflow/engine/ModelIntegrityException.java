package io.qoiflow.engine;

/** A model directory that must not be served: a file is missing or its sha256 does not match. */
public final class ModelIntegrityException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final String file;

  public ModelIntegrityException(String file, String message) {
    super(message);
    this.file = file;
  }

  /** The offending file, relative to the model directory. */
  public String file() {
    return file;
  }
}
