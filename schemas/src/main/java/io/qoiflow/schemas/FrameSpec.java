package io.qoiflow.schemas;

import com.fasterxml.jackson.databind.JsonNode;
import io.qoiflow.records.DType;
import io.qoiflow.records.Modality;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Shape (without the batch axis) and element type of one modality's frames, as a model manifest's
 * {@code inputs} state them: the one type for both the engine's inputs and the job's frame
 * contract.
 */
public record FrameSpec(int[] shape, DType dtype) implements Serializable {
  public int elements() {
    return SensorContract.elements(shape);
  }

  public long payloadBytes() {
    return (long) elements() * SensorContract.bytesPer(dtype);
  }

  /**
   * Reads a manifest's {@code inputs}: {@code {modality: {shape: [...], dtype: ...}}}; a leading
   * batch axis ({@code "B"} or -1, four dimensions in all) is dropped.
   */
  public static Map<Modality, FrameSpec> readInputs(JsonNode inputs) {
    if (inputs == null || !inputs.isObject() || inputs.isEmpty()) {
      throw new IllegalArgumentException("manifest has no `inputs` object");
    }
    Map<Modality, FrameSpec> specs = new EnumMap<>(Modality.class);
    for (Iterator<Map.Entry<String, JsonNode>> it = inputs.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      Modality modality = Modality.valueOf(e.getKey().toUpperCase(Locale.ROOT));
      List<Integer> dims = new ArrayList<>();
      e.getValue().path("shape").forEach(d -> dims.add(d.asInt()));
      if (dims.size() == 4) {
        dims.remove(0);
      }
      int[] shape = dims.stream().mapToInt(Integer::intValue).toArray();
      DType dtype = DType.valueOf(e.getValue().path("dtype").asText().toUpperCase(Locale.ROOT));
      specs.put(modality, new FrameSpec(shape, dtype));
    }
    return specs;
  }

  @Override
  public String toString() {
    return Arrays.toString(shape) + " " + dtype;
  }
}
