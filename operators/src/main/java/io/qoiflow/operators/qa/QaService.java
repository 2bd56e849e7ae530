package io.qoiflow.operators.qa;

import io.qoiflow.engine.ExecutionProvider;
import io.qoiflow.engine.qa.QaEngine;
import java.io.Serializable;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One QA engine and one worker thread per configuration per JVM, shared by every QA subtask there
 * and reference-counted (as {@code EngineService} for ADMN). Decoding runs on the worker, never on
 * a Flink task thread.
 */
public final class QaService {
  private static final Logger LOG = LoggerFactory.getLogger(QaService.class);
  private static final Map<Config, QaService> SHARED = new HashMap<>();

  /**
   * @param modelDir QA model folder (manifest.json of kind mpnp-qa)
   * @param provider cpu, cuda or auto
   */
  public record Config(String modelDir, String provider) implements Serializable {}

  private final Config config;
  private final QaEngine engine;
  private final ExecutorService worker;
  private int references;

  private QaService(Config config) {
    this.config = config;
    this.engine =
        QaEngine.open(Path.of(config.modelDir()), ExecutionProvider.parse(config.provider()));
    this.worker =
        Executors.newSingleThreadExecutor(
            r -> {
              Thread t = new Thread(r, "qoiflow-qa");
              t.setDaemon(true);
              return t;
            });
    LOG.info("QA engine {} on {}", engine.version(), engine.provider());
  }

  public static synchronized QaService acquire(Config config) {
    QaService s = SHARED.computeIfAbsent(config, QaService::new);
    s.references++;
    return s;
  }

  public void release() {
    synchronized (QaService.class) {
      if (--references > 0) {
        return;
      }
      SHARED.remove(config);
    }
    worker.shutdownNow();
    engine.close();
  }

  public QaEngine engine() {
    return engine;
  }

  /** Runs {@code work} on the QA worker thread. */
  public <T> CompletableFuture<T> submit(Supplier<T> work) {
    return CompletableFuture.supplyAsync(work, worker);
  }
}
