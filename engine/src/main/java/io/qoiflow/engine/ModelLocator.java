package io.qoiflow.engine;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The one place that finds exported models. The default model: {@code -Dqoiflow.model.dir} when
 * set, else {@code model-artifacts/admn-sim-v2} (the trained model), else {@code
 * model-artifacts/admn-smoke}, under the repository root ({@code -Dqoiflow.home}, set by {@code
 * ./qoiflow}, or the nearest parent of the working directory holding model-artifacts/ and pom.xml).
 * The CLI, the benches and the tests all ask here.
 */
public final class ModelLocator {
  public static final String[] DEFAULT_MODELS = {"admn-sim-v2", "admn-smoke"};
  public static final String DEFAULT_QA_MODEL = "mpnp-sim-v2";

  private ModelLocator() {}

  public static Path defaultModel() {
    String override = System.getProperty("qoiflow.model.dir");
    if (override != null && !override.isBlank()) {
      Path p = Path.of(override);
      if (!Files.isRegularFile(p.resolve("manifest.json"))) {
        throw new IllegalStateException(
            "-Dqoiflow.model.dir=" + override + " has no manifest.json");
      }
      return p;
    }
    Path root = repoRoot();
    for (String name : DEFAULT_MODELS) {
      Path p = root.resolve("model-artifacts").resolve(name);
      if (Files.isRegularFile(p.resolve("manifest.json"))) {
        return p;
      }
    }
    throw new IllegalStateException(
        "no exported model under " + root.resolve("model-artifacts") + "; pass --model DIR");
  }

  /** The committed question-answering model ({@value #DEFAULT_QA_MODEL}), if there is one. */
  public static Optional<Path> defaultQaModel() {
    Path p = repoRoot().resolve("model-artifacts").resolve(DEFAULT_QA_MODEL);
    return Files.isRegularFile(p.resolve("manifest.json")) ? Optional.of(p) : Optional.empty();
  }

  public static Path repoRoot() {
    String home = System.getProperty("qoiflow.home");
    if (home != null && !home.isBlank()) {
      return Path.of(home);
    }
    Path p = Path.of("").toAbsolutePath();
    while (p != null) {
      if (Files.isDirectory(p.resolve("model-artifacts"))
          && Files.isRegularFile(p.resolve("pom.xml"))) {
        return p;
      }
      p = p.getParent();
    }
    throw new IllegalStateException(
        "cannot find the QoIFlow repository from the working directory");
  }
}
