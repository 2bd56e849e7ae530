package io.qoiflow.e2e;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.qoiflow.records.Modality;
import io.qoiflow.simulator.Frames;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * The model folder the cluster job gets. docs/MODEL_FORMAT.md says the manifest's {@code inputs}
 * repeat the wire contract of SensorFrame (camera UINT8, depth UINT16, ...), and the job's {@code
 * FrameContract} checks frames against them. If the shipped manifest states another dtype (for
 * example the graphs' float32 tensor type), every such frame would be dead-lettered as {@code
 * bad-dtype}; then the cluster tests run on a copy whose {@code inputs} dtypes are the wire dtypes,
 * and say so in the summary. {@code BadInputTest} fails on the shipped manifest meanwhile.
 */
record ModelUnderTest(Path dir, List<String> patched) {
  static ModelUnderTest prepare(Path shipped, Path work) throws IOException {
    ObjectMapper json = new ObjectMapper();
    ObjectNode manifest = (ObjectNode) json.readTree(shipped.resolve("manifest.json").toFile());
    List<String> patched = new ArrayList<>();
    for (Modality m : Modality.values()) {
      String key = m.name().toLowerCase(Locale.ROOT);
      ObjectNode input = (ObjectNode) manifest.path("inputs").path(key);
      String wire = Frames.dtype(m).name().toLowerCase(Locale.ROOT);
      if (!input.isMissingNode() && !wire.equalsIgnoreCase(input.path("dtype").asText())) {
        patched.add(key + " " + input.path("dtype").asText() + "->" + wire);
        input.put("dtype", wire);
      }
    }
    if (patched.isEmpty()) {
      return new ModelUnderTest(shipped, patched);
    }
    Path copy = work.resolve("model-" + shipped.getFileName());
    try (Stream<Path> files = Files.walk(shipped)) {
      for (Path f : (Iterable<Path>) files::iterator) {
        Path to = copy.resolve(shipped.relativize(f).toString());
        if (Files.isDirectory(f)) {
          Files.createDirectories(to);
        } else {
          Files.copy(f, to);
        }
      }
    }
    json.writerWithDefaultPrettyPrinter()
        .writeValue(copy.resolve("manifest.json").toFile(), manifest);
    return new ModelUnderTest(copy, patched);
  }
}
