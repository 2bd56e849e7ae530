package io.qoiflow.topology;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Finds the default exported model: {@code model-artifacts/admn-sim-v1} (the trained model), else
 * {@code model-artifacts/admn-smoke}, under the repository root ({@code -Dqoiflow.home}, set by
 * {@code ./qoiflow}, or the nearest parent of the working directory holding model-artifacts/).
 */
public final class ModelLocator {
  public static final String[] DEFAULT_MODELS = {"admn-sim-v1", "admn-smoke"};
  public static final String DEFAULT_QA_MODEL = "mpnp-sim-v1";

  private ModelLocator() {}

  public static Path defaultModel() {
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

  /** The committed question-answering model, if there is one. */
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
