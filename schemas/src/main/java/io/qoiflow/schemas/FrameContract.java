package io.qoiflow.schemas;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.qoiflow.records.Modality;
import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Collections;
import java.util.EnumMap;
import java.util.Map;

/**
 * What a valid frame of each modality looks like: shape and dtype, as the model's manifest states
 * them (the manifest is the one source of truth; nothing here is hard-coded), plus limits.
 */
public final class FrameContract implements Serializable {
  private static final long serialVersionUID = 1L;

  private final EnumMap<Modality, FrameSpec> specs;
  private final int maxPayloadBytes;
  private final long maxFutureSkewMs;

  public FrameContract(Map<Modality, FrameSpec> specs, int maxPayloadBytes, long maxFutureSkewMs) {
    this.specs = new EnumMap<>(specs);
    this.maxPayloadBytes = maxPayloadBytes;
    this.maxFutureSkewMs = maxFutureSkewMs;
  }

  /** The contract of a model's manifest ({@code inputs}, read by {@link FrameSpec#readInputs}). */
  public static FrameContract fromManifest(Path manifest, int maxPayloadBytes, long maxFutureMs) {
    try {
      JsonNode root = new ObjectMapper().readTree(manifest.toFile());
      return new FrameContract(
          FrameSpec.readInputs(root.path("inputs")), maxPayloadBytes, maxFutureMs);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + manifest, e);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(manifest + ": " + e.getMessage(), e);
    }
  }

  public Map<Modality, FrameSpec> specs() {
    return Collections.unmodifiableMap(specs);
  }

  public FrameSpec spec(Modality modality) {
    return specs.get(modality);
  }

  public boolean expects(Modality modality) {
    return specs.containsKey(modality);
  }

  public int maxPayloadBytes() {
    return maxPayloadBytes;
  }

  public long maxFutureSkewMs() {
    return maxFutureSkewMs;
  }
}
