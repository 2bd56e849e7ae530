package io.qoiflow.topology;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.qoiflow.engine.ModelLocator;
import io.qoiflow.records.LabelledSample;
import io.qoiflow.records.SensorFrame;
import io.qoiflow.schemas.FrameContract;
import io.qoiflow.schemas.RecordValidator;
import io.qoiflow.simulator.CorruptionSpec;
import io.qoiflow.simulator.Simulator;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The job's frame contract comes from a model's manifest; the frames come from the simulator. Every
 * committed model must accept every simulator frame, whatever the corruption, or the job would
 * dead-letter a whole modality and silently run without it.
 */
class FrameContractMatchesSimulatorTest {

  static Stream<Path> committedModels() throws IOException {
    try (Stream<Path> dirs = Files.list(ModelLocator.repoRoot().resolve("model-artifacts"))) {
      return dirs
          .filter(d -> Files.isRegularFile(d.resolve("manifest.json")))
          .filter(FrameContractMatchesSimulatorTest::isAdmn)
          .sorted()
          .toList()
          .stream();
    }
  }

  /** The fusion models the job runs (the QA model, kind {@code mpnp-qa}, reads two modalities). */
  private static boolean isAdmn(Path dir) {
    try {
      return new ObjectMapper()
          .readTree(dir.resolve("manifest.json").toFile())
          .path("kind")
          .asText("admn")
          .equals("admn");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @ParameterizedTest
  @MethodSource("committedModels")
  void everySimulatorFrameIsInContract(Path model) {
    RecordValidator validator =
        new RecordValidator(
            FrameContract.fromManifest(model.resolve("manifest.json"), 1 << 20, Long.MAX_VALUE));
    Simulator sim = new Simulator(7, CorruptionSpec.parse("random"), "rig-0");
    List<String> rejected = new ArrayList<>();
    EnumSet<io.qoiflow.records.Modality> seen = EnumSet.noneOf(io.qoiflow.records.Modality.class);
    for (int i = 0; i < 40; i++) {
      LabelledSample s = sim.next();
      for (SensorFrame f : s.getFrames()) {
        seen.add(f.getModality());
        RecordValidator.Rejection r = validator.validateFrame(f, f.getModality(), 0);
        if (r != null) {
          rejected.add(f.getModality() + ": " + r.reasonCode() + " " + r.message());
        }
      }
    }
    assertThat(seen).as("all five modalities were rendered").hasSize(5);
    assertThat(rejected).as(model.getFileName() + " rejects simulator frames").isEmpty();
  }
}
