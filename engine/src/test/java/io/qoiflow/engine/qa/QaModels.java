package io.qoiflow.engine.qa;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;

/**
 * The committed QA model, {@code model-artifacts/mpnp-sim-v1}; missing is a failure, not a skip.
 */
final class QaModels {
  private QaModels() {}

  static Path modelDir() {
    Path p = Paths.get("").toAbsolutePath();
    while (p != null) {
      Path m = p.resolve("model-artifacts").resolve("mpnp-sim-v1");
      if (Files.isRegularFile(m.resolve("manifest.json"))) {
        return m;
      }
      p = p.getParent();
    }
    throw new AssertionError("no model-artifacts/mpnp-sim-v1/manifest.json above the working dir");
  }
}
