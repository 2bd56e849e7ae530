package io.qoiflow.engine;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;

/**
 * The real exported model the engine tests run on: {@code -Dqoiflow.model.dir=DIR} if given, else
 * {@code model-artifacts/admn-sim-v1} (the final model) if it exists, else {@code
 * model-artifacts/admn-smoke}. No model at all is a test failure, never a skip.
 */
final class TestModels {
  private TestModels() {}

  static Path modelDir() {
    String override = System.getProperty("qoiflow.model.dir");
    if (override != null && !override.isBlank()) {
      Path p = Paths.get(override);
      if (!Files.isRegularFile(p.resolve("manifest.json"))) {
        throw new AssertionError("-Dqoiflow.model.dir=" + override + " has no manifest.json");
      }
      return p;
    }
    Path root = repoRoot();
    for (String name : new String[] {"admn-sim-v1", "admn-smoke"}) {
      Path p = root.resolve("model-artifacts").resolve(name);
      if (Files.isRegularFile(p.resolve("manifest.json"))) {
        return p;
      }
    }
    throw new AssertionError(
        "no exported model: expected model-artifacts/admn-sim-v1 or model-artifacts/admn-smoke"
            + " under "
            + root);
  }

  static Path repoRoot() {
    Path p = Paths.get("").toAbsolutePath();
    while (p != null) {
      if (Files.isDirectory(p.resolve("model-artifacts"))
          && Files.isRegularFile(p.resolve("pom.xml"))) {
        return p;
      }
      p = p.getParent();
    }
    throw new AssertionError(
        "cannot find the repository root from " + Paths.get("").toAbsolutePath());
  }
}
