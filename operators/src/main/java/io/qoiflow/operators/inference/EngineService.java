package io.qoiflow.operators.inference;

import io.qoiflow.engine.EngineSample;
import io.qoiflow.engine.ExecutionProvider;
import io.qoiflow.engine.InferenceEngine;
import io.qoiflow.engine.Policy;
import io.qoiflow.engine.SampleResult;
import java.io.Serializable;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One inference engine and micro-batcher per configuration per JVM (so per TaskManager, per job
 * classloader), shared by every async-inference subtask there and reference-counted: the ONNX
 * sessions and their memory exist once however many slots run the operator.
 */
public final class EngineService {
  private static final Logger LOG = LoggerFactory.getLogger(EngineService.class);
  private static final Map<Config, EngineService> SHARED = new HashMap<>();

  /**
   * @param modelDir model folder with manifest.json
   * @param provider cpu, cuda or auto
   * @param policy admn, universal, ae, naive, static or full
   * @param maxBatch largest batch the batcher forms
   * @param maxDelayMs longest a request waits for its batch to fill
   */
  public record Config(
      String modelDir, String provider, String policy, int maxBatch, long maxDelayMs)
      implements Serializable {}

  private final Config config;
  private final InferenceEngine engine;
  private final Policy policy;
  private final MicroBatcher<EngineSample, SampleResult> batcher;
  private int references;
  private volatile int lastBatchSize;
  private volatile double lastQueueMs;

  private EngineService(Config config) {
    this.config = config;
    this.engine =
        InferenceEngine.open(
            Path.of(config.modelDir()), ExecutionProvider.parse(config.provider()));
    this.policy = Policy.valueOf(config.policy().toUpperCase(Locale.ROOT));
    // Fail at start, not at the first batch, when the model lacks the chosen policy.
    if (policy.needsManifestEntry() && engine.manifest().policy(policy.key()).isEmpty()) {
      engine.close();
      throw new IllegalArgumentException(
          "model " + engine.manifest().name() + " has no '" + policy.key() + "' policy");
    }
    this.batcher =
        new MicroBatcher<>(
            "qoiflow-inference",
            batch -> engine.infer(batch, policy),
            config.maxBatch(),
            config.maxDelayMs(),
            (size, queueMs, runMs) -> {
              lastBatchSize = size;
              lastQueueMs = queueMs;
            });
    LOG.info(
        "engine for {} on {} with policy {} (batch ≤ {}, ≤ {} ms)",
        engine.manifest().version(),
        engine.provider(),
        policy,
        config.maxBatch(),
        config.maxDelayMs());
  }

  /** The JVM's shared service for {@code config}, created on first use. */
  public static synchronized EngineService acquire(Config config) {
    EngineService s = SHARED.computeIfAbsent(config, EngineService::new);
    s.references++;
    return s;
  }

  /** Gives back one reference; the last one closes the batcher and the engine. */
  public void release() {
    synchronized (EngineService.class) {
      if (--references > 0) {
        return;
      }
      SHARED.remove(config);
    }
    batcher.close();
    engine.close();
  }

  /** Total requests waiting in every service of this JVM. */
  public static synchronized int queueDepthOfAll() {
    int n = 0;
    for (EngineService s : SHARED.values()) {
      n += s.batcher.queueDepth();
    }
    return n;
  }

  public CompletableFuture<SampleResult> submit(EngineSample sample) {
    return batcher.submit(sample);
  }

  public InferenceEngine engine() {
    return engine;
  }

  public Policy policy() {
    return policy;
  }

  public int queueDepth() {
    return batcher.queueDepth();
  }

  public int lastBatchSize() {
    return lastBatchSize;
  }

  public double lastQueueMs() {
    return lastQueueMs;
  }
}
