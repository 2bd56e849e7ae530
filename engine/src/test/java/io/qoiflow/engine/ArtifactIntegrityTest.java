package io.qoiflow.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A model directory whose files do not match the manifest's sha256 is refused. */
class ArtifactIntegrityTest {

  private static Path copyModel(Path to) throws IOException {
    Path from = ModelLocator.defaultModel();
    try (Stream<Path> files = Files.walk(from)) {
      files.forEach(
          p -> {
            try {
              Path dst = to.resolve(from.relativize(p).toString());
              if (Files.isDirectory(p)) {
                Files.createDirectories(dst);
              } else {
                Files.copy(p, dst);
              }
            } catch (IOException e) {
              throw new UncheckedIOException(e);
            }
          });
    }
    return to;
  }

  @Test
  void untouchedCopyLoads(@TempDir Path tmp) throws IOException {
    Path dir = copyModel(tmp.resolve("model"));
    assertThat(ModelManifest.load(dir).graphs()).isNotEmpty();
  }

  @Test
  void oneFlippedByteInALayerGraphIsRefusedNamingTheFile(@TempDir Path tmp) throws IOException {
    Path dir = copyModel(tmp.resolve("model"));
    ModelManifest mf = ModelManifest.load(dir);
    String file = mf.graph(mf.layerKey(2, mf.layersPerModality() - 1)).file();
    byte[] bytes = Files.readAllBytes(dir.resolve(file));
    bytes[bytes.length / 2] ^= 0x01;
    Files.write(dir.resolve(file), bytes);

    assertThatThrownBy(() -> InferenceEngine.open(dir, ExecutionProvider.CPU))
        .isInstanceOf(ModelIntegrityException.class)
        .hasMessageContaining(file)
        .hasMessageContaining("sha256")
        .satisfies(e -> assertThat(((ModelIntegrityException) e).file()).isEqualTo(file));
  }

  @Test
  void aMissingGraphFileIsRefusedNamingTheFile(@TempDir Path tmp) throws IOException {
    Path dir = copyModel(tmp.resolve("model"));
    String file = ModelManifest.load(dir).graph("fusion").file();
    Files.delete(dir.resolve(file));
    assertThatThrownBy(() -> ModelManifest.load(dir))
        .isInstanceOf(ModelIntegrityException.class)
        .hasMessageContaining(file);
  }
}
