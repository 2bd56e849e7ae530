package io.qoiflow.engine;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtLoggingLevel;
import ai.onnxruntime.OrtProvider;
import ai.onnxruntime.OrtSession;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The process-wide ONNX Runtime environment with one global intra-op thread pool, spinning off,
 * shared by every session (per-session spinning pools slow a chain of ~30 small sessions on two
 * cores about tenfold), and session creation with the CUDA → CPU fallback.
 *
 * <p>The environment is created once and never closed (ORT allows one per process). If some other
 * code created it first without a global pool, sessions get their own single-thread pools with
 * spinning off instead, and that is logged once.
 */
public final class OrtRuntime {
  private static final Logger LOG = LoggerFactory.getLogger(OrtRuntime.class);

  /** How many times a CUDA fallback was logged in this JVM: 0 or 1. */
  static final AtomicInteger CUDA_FALLBACK_LOGS = new AtomicInteger();

  private static final AtomicBoolean FALLBACK_LOGGED = new AtomicBoolean();

  private static volatile OrtRuntime instance;

  private final OrtEnvironment env;
  private final boolean globalPool;
  private final int threads;

  private OrtRuntime(OrtEnvironment env, boolean globalPool, int threads) {
    this.env = env;
    this.globalPool = globalPool;
    this.threads = threads;
  }

  /**
   * The shared runtime. The intra-op thread count of the global pool is taken from the system
   * property {@code qoiflow.ort.threads} on first use. The default is 1: the graphs are small (one
   * transformer block each), so splitting an op across threads costs more in wake-ups than it
   * gains, and parallelism comes from concurrent {@code infer} calls (one per Flink slot) instead.
   * Measured in docs/BENCHMARKS.md.
   */
  public static OrtRuntime get() {
    OrtRuntime r = instance;
    if (r == null) {
      synchronized (OrtRuntime.class) {
        r = instance;
        if (r == null) {
          r = create();
          instance = r;
        }
      }
    }
    return r;
  }

  private static OrtRuntime create() {
    int threads = Integer.getInteger("qoiflow.ort.threads", 1);
    try (OrtEnvironment.ThreadingOptions opts = new OrtEnvironment.ThreadingOptions()) {
      opts.setGlobalIntraOpNumThreads(threads);
      opts.setGlobalInterOpNumThreads(1);
      opts.setGlobalSpinControl(false);
      OrtEnvironment env =
          OrtEnvironment.getEnvironment(OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR, "qoiflow", opts);
      LOG.info(
          "ONNX Runtime {}: global thread pool of {} threads, spinning off; providers {}",
          env.getVersion(),
          threads,
          OrtEnvironment.getAvailableProviders());
      return new OrtRuntime(env, true, threads);
    } catch (IllegalStateException e) {
      // An environment already exists without our global pool.
      LOG.warn(
          "ONNX Runtime environment was created elsewhere without a global thread pool ({});"
              + " sessions use 1 intra-op thread each with spinning off",
          e.getMessage());
      return new OrtRuntime(OrtEnvironment.getEnvironment(), false, 1);
    } catch (OrtException e) {
      throw new IllegalStateException("cannot create the ONNX Runtime environment", e);
    }
  }

  public OrtEnvironment env() {
    return env;
  }

  public boolean usesGlobalPool() {
    return globalPool;
  }

  public int threads() {
    return threads;
  }

  /** Cached result of the CUDA probe: "" = usable, else the reason; null = not probed yet. */
  private static volatile String cudaProbe;

  /**
   * Whether CUDA can be added to a session here: tries it once per JVM on throw-away options (so
   * ORT's own error line for a missing CUDA library appears once, too). Returns the error message
   * when it cannot, null when it can.
   */
  static String cudaUnavailableReason() {
    String r = cudaProbe;
    if (r == null) {
      synchronized (OrtRuntime.class) {
        r = cudaProbe;
        if (r == null) {
          r = probeCuda();
          cudaProbe = r;
        }
      }
    }
    return r.isEmpty() ? null : r;
  }

  private static String probeCuda() {
    if (!OrtEnvironment.getAvailableProviders().contains(OrtProvider.CUDA)) {
      return "this ONNX Runtime build has no CUDA provider (build with -Pcuda for onnxruntime_gpu)";
    }
    get(); // the environment must exist before a provider library is loaded
    try (OrtSession.SessionOptions o = new OrtSession.SessionOptions()) {
      o.addCUDA(0);
      return "";
    } catch (OrtException | RuntimeException | LinkageError e) {
      return e.getClass().getSimpleName() + ": " + e.getMessage();
    }
  }

  /**
   * Resolves the provider actually used: CUDA if requested (or AUTO) and CUDA can be added,
   * otherwise CPU, logging the fallback once per resolution.
   */
  public static ExecutionProvider resolve(ExecutionProvider requested) {
    if (requested == ExecutionProvider.CPU) {
      return ExecutionProvider.CPU;
    }
    String reason = cudaUnavailableReason();
    if (reason == null) {
      return ExecutionProvider.CUDA;
    }
    // Log once per JVM: every engine and session after the first falls back silently.
    if (FALLBACK_LOGGED.compareAndSet(false, true)) {
      CUDA_FALLBACK_LOGS.incrementAndGet();
      LOG.warn(
          "execution provider {}: CUDA cannot be added ({}); falling back to CPU",
          requested.name().toLowerCase(java.util.Locale.ROOT),
          reason);
    } else {
      LOG.debug("execution provider {}: CUDA fallback to CPU", requested);
    }
    return ExecutionProvider.CPU;
  }

  /** Options for one session: the shared pool (or 1 thread, no spinning) and the provider. */
  OrtSession.SessionOptions options(ExecutionProvider resolved) throws OrtException {
    OrtSession.SessionOptions o = new OrtSession.SessionOptions();
    try {
      o.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
      if (globalPool) {
        o.disablePerSessionThreads();
      } else {
        o.setIntraOpNumThreads(1);
        o.setInterOpNumThreads(1);
        o.addConfigEntry("session.intra_op.allow_spinning", "0");
        o.addConfigEntry("session.inter_op.allow_spinning", "0");
      }
      if (resolved == ExecutionProvider.CUDA) {
        o.addCUDA(0);
      }
      return o;
    } catch (OrtException | RuntimeException e) {
      o.close();
      throw e;
    }
  }

  public OrtSession open(Path file, ExecutionProvider resolved) throws OrtException {
    try (OrtSession.SessionOptions o = options(resolved)) {
      return env.createSession(file.toString(), o);
    }
  }
}
