package io.qoiflow.schemas;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.qoiflow.records.DType;
import io.qoiflow.records.Modality;
import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collections;
import java.util.EnumMap;
import java.util.Iterator;
import java.util.Locale;
import java.util.Map;

/**
 * What a valid frame of each modality looks like: shape and dtype, as the model's manifest states
 * them (the manifest is the one source of truth; nothing here is hard-coded), plus limits.
 */
public final class FrameContract implements Serializable {
  private static final long serialVersionUID = 1L;

  /** Shape and element type of one modality's frames. */
  public record Spec(int[] shape, DType dtype) implements Serializable {
    public long elements() {
      long n = 1;
      for (int d : shape) {
        n *= d;
      }
      return n;
    }

    public long payloadBytes() {
      return elements() * bytesPer(dtype);
    }

    @Override
    public String toString() {
      return Arrays.toString(shape) + " " + dtype;
    }
  }

  private final EnumMap<Modality, Spec> specs;
  private final int maxPayloadBytes;
  private final long maxFutureSkewMs;

  public FrameContract(Map<Modality, Spec> specs, int maxPayloadBytes, long maxFutureSkewMs) {
    this.specs = new EnumMap<>(specs);
    this.maxPayloadBytes = maxPayloadBytes;
    this.maxFutureSkewMs = maxFutureSkewMs;
  }

  /** Reads {@code inputs} of a model manifest: {@code {modality: {shape: [...], dtype: ...}}}. */
  public static FrameContract fromManifest(Path manifest, int maxPayloadBytes, long maxFutureMs) {
    try {
      JsonNode inputs = new ObjectMapper().readTree(manifest.toFile()).path("inputs");
      if (!inputs.isObject() || inputs.isEmpty()) {
        throw new IllegalArgumentException(manifest + " has no `inputs` object");
      }
      EnumMap<Modality, Spec> specs = new EnumMap<>(Modality.class);
      for (Iterator<Map.Entry<String, JsonNode>> it = inputs.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        Modality modality = Modality.valueOf(e.getKey().toUpperCase(Locale.ROOT));
        JsonNode shapeNode = e.getValue().path("shape");
        int[] shape = new int[shapeNode.size()];
        for (int i = 0; i < shape.length; i++) {
          shape[i] = shapeNode.get(i).asInt();
        }
        DType dtype = DType.valueOf(e.getValue().path("dtype").asText().toUpperCase(Locale.ROOT));
        specs.put(modality, new Spec(shape, dtype));
      }
      return new FrameContract(specs, maxPayloadBytes, maxFutureMs);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + manifest, e);
    }
  }

  public Map<Modality, Spec> specs() {
    return Collections.unmodifiableMap(specs);
  }

  public Spec spec(Modality modality) {
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

  public static int bytesPer(DType dtype) {
    return switch (dtype) {
      case UINT8 -> 1;
      case UINT16, FLOAT16 -> 2;
      case FLOAT32 -> 4;
    };
  }
}
