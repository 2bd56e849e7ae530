package io.qoiflow.engine;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.qoiflow.records.Modality;
import io.qoiflow.records.SensorFrame;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLongArray;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The ADMN inference engine: controller → per-sample layer set within the budget → per-modality
 * embed → each chosen layer on the sub-batch that chose it (gather, run, scatter) → fusion and
 * heads on the batch. Plain Java, no Flink.
 *
 * <p>Thread-safe: {@link #infer} may be called from several threads at once (ORT sessions are
 * thread-safe and the engine keeps no per-call state in fields). One engine per process and model
 * is enough; every session uses the process-wide ORT thread pool. {@link #close()} releases the
 * sessions; it must not race with {@code infer}.
 */
public final class InferenceEngine implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(InferenceEngine.class);

  private final ModelManifest manifest;
  private final OrtEnvironment env;
  private final ExecutionProvider provider;
  private final int m;
  private final int lm;
  private final Modality[] modalities;
  private final int[][] inputShapes;
  private final Map<String, OrtSession> sessions = new LinkedHashMap<>();
  private final Map<String, String> singleInputName = new HashMap<>();
  private final AtomicLongArray layerRuns;
  private final AtomicLongArray graphRuns;
  private final Map<String, Integer> graphIndex = new HashMap<>();

  private InferenceEngine(ModelManifest manifest, ExecutionProvider requested) {
    this.manifest = manifest;
    OrtRuntime rt = OrtRuntime.get();
    this.env = rt.env();
    this.provider = OrtRuntime.resolve(requested);
    this.m = manifest.modalityCount();
    this.lm = manifest.layersPerModality();
    this.modalities = new Modality[m];
    this.inputShapes = new int[m][];
    for (int i = 0; i < m; i++) {
      String name = manifest.modalities().get(i);
      modalities[i] = Modality.valueOf(name.toUpperCase(Locale.ROOT));
      inputShapes[i] = manifest.input(name).shape();
    }
    this.layerRuns = new AtomicLongArray(m * lm);
    this.graphRuns = new AtomicLongArray(manifest.graphs().size());
    int gi = 0;
    try {
      for (ModelManifest.Graph g : manifest.graphs().values()) {
        OrtSession s = rt.open(manifest.dir().resolve(g.file()), provider);
        sessions.put(g.key(), s);
        graphIndex.put(g.key(), gi++);
        if (s.getNumInputs() == 1) {
          singleInputName.put(g.key(), s.getInputNames().iterator().next());
        }
      }
      for (int i = 0; i < m; i++) {
        requireSession(manifest.embedKey(i));
        for (int l = 0; l < lm; l++) {
          requireSession(manifest.layerKey(i, l));
        }
      }
      requireSession("fusion");
    } catch (OrtException | RuntimeException e) {
      closeSessions();
      throw e instanceof RuntimeException re
          ? re
          : new IllegalStateException("cannot open the model's graphs: " + e.getMessage(), e);
    }
    LOG.info(
        "engine {}: {} sessions on {}{}, {} modalities × {} layers",
        manifest.version(),
        sessions.size(),
        provider,
        requested != provider ? " (requested " + requested + ")" : "",
        m,
        lm);
  }

  /**
   * Opens a model directory: reads manifest.json, verifies the sha256 of every listed file
   * (throwing {@link ModelIntegrityException} naming the file on a mismatch) and opens one session
   * per graph on the resolved execution provider.
   */
  public static InferenceEngine open(Path modelDir, ExecutionProvider provider) {
    return new InferenceEngine(ModelManifest.load(modelDir), provider);
  }

  public static InferenceEngine open(Path modelDir) {
    return open(modelDir, ExecutionProvider.CPU);
  }

  private void requireSession(String key) {
    if (!sessions.containsKey(key)) {
      throw new IllegalArgumentException("manifest lacks graph " + key);
    }
  }

  public ModelManifest manifest() {
    return manifest;
  }

  /** The provider the sessions really run on (CPU after a CUDA fallback). */
  public ExecutionProvider provider() {
    return provider;
  }

  /** How many times layer {@code layer} of modality index {@code modality} has run (any batch). */
  public long layerRuns(int modality, int layer) {
    return layerRuns.get(modality * lm + layer);
  }

  /** Run counts of every layer, global layer index order. */
  public long[] layerRunCounts() {
    long[] out = new long[m * lm];
    for (int i = 0; i < out.length; i++) {
      out[i] = layerRuns.get(i);
    }
    return out;
  }

  /** How many session.run calls a graph has had. */
  public long graphRuns(String key) {
    Integer i = graphIndex.get(key);
    return i == null ? 0 : graphRuns.get(i);
  }

  /** The budget L a sample runs under for a policy. */
  public int budgetLayers(Policy policy, double fraction) {
    return policy == Policy.FULL ? manifest.totalLayers() : manifest.layersForFraction(fraction);
  }

  /** The controller graph a policy uses for a budget of {@code layers} (null: no controller). */
  public String controllerGraph(Policy policy, int layers) {
    if (!policy.usesController()) {
      return null;
    }
    ModelManifest.PolicySpec spec =
        manifest
            .policy(policy.key())
            .orElseThrow(
                () ->
                    new IllegalArgumentException(
                        "model " + manifest.name() + " has no '" + policy.key() + "' policy"));
    if (spec.graph() != null) {
      return spec.graph();
    }
    // Per-budget controllers: the one trained for this L, else the nearest (ties: larger).
    String best = null;
    int bestDist = Integer.MAX_VALUE;
    int bestL = -1;
    for (Map.Entry<Integer, String> e : spec.graphsByBudget().entrySet()) {
      int l = manifest.layersForPct(e.getKey());
      int d = Math.abs(l - layers);
      if (d < bestDist || (d == bestDist && l > bestL)) {
        best = e.getValue();
        bestDist = d;
        bestL = l;
      }
    }
    if (best == null) {
      throw new IllegalArgumentException("policy " + policy.key() + " lists no controller graph");
    }
    return best;
  }

  /**
   * The {@code static} policy's layers per modality (manifest modality order) for a budget of
   * {@code layers}: the allocation of the largest budget key whose layer count is at most {@code
   * layers} (the smallest key when all are above; {@link LayerSelector#allocation} then cuts it to
   * the budget). Modalities the allocation does not name get 1 layer.
   */
  public int[] staticAllocation(int layers) {
    ModelManifest.PolicySpec spec =
        manifest
            .policy(Policy.STATIC.key())
            .orElseThrow(
                () ->
                    new IllegalArgumentException(
                        "model " + manifest.name() + " has no 'static' policy"));
    Map<String, Integer> best = null;
    int bestL = Integer.MIN_VALUE;
    Map<String, Integer> smallest = null;
    int smallestL = Integer.MAX_VALUE;
    for (Map.Entry<Integer, Map<String, Integer>> e : spec.allocationsByBudget().entrySet()) {
      int l = manifest.layersForPct(e.getKey());
      if (l <= layers && l > bestL) {
        best = e.getValue();
        bestL = l;
      }
      if (l < smallestL) {
        smallest = e.getValue();
        smallestL = l;
      }
    }
    if (best == null) {
      best = smallest;
    }
    if (best == null) {
      throw new IllegalArgumentException("policy static lists no allocation");
    }
    int[] counts = new int[m];
    for (int i = 0; i < m; i++) {
      counts[i] = best.getOrDefault(manifest.modalities().get(i), 1);
    }
    return counts;
  }

  /**
   * Checks that a sample can be inferred (every frame's shape, dtype and payload length fit the
   * model, at least one modality present) without running anything; throws {@link
   * FrameDecoder.BadFrameException} with the reason otherwise. Lets a caller drop a bad sample
   * before it joins a batch.
   */
  public void validate(EngineSample sample) {
    boolean any = false;
    for (int i = 0; i < m; i++) {
      SensorFrame f = sample.frame(modalities[i]);
      if (f != null) {
        FrameDecoder.decode(f, inputShapes[i]);
        any = true;
      }
    }
    if (!any) {
      throw new FrameDecoder.BadFrameException("sample has no frame of any modality");
    }
  }

  /**
   * Infers a batch; results in batch order. A frame that does not fit the model throws {@link
   * FrameDecoder.BadFrameException} naming the sample's index before any graph runs.
   */
  public List<SampleResult> infer(List<EngineSample> batch, Policy policy) {
    try {
      return run(batch, policy);
    } catch (OrtException e) {
      throw new IllegalStateException("ONNX Runtime failed: " + e.getMessage(), e);
    }
  }

  private List<SampleResult> run(List<EngineSample> batch, Policy policy) throws OrtException {
    final int b = batch.size();
    if (b == 0) {
      return List.of();
    }
    long t0 = System.nanoTime();
    // ---- decode: full-batch raw frames per modality (zeros where missing) ----
    boolean[][] present = new boolean[b][m];
    float[][] frames = new float[m][];
    int[] budget = new int[b];
    for (int i = 0; i < m; i++) {
      frames[i] = new float[b * FrameDecoder.elements(inputShapes[i])];
    }
    for (int s = 0; s < b; s++) {
      EngineSample sample = batch.get(s);
      budget[s] = budgetLayers(policy, sample.budgetFraction());
      for (int i = 0; i < m; i++) {
        SensorFrame f = sample.frame(modalities[i]);
        if (f != null) {
          int e = FrameDecoder.elements(inputShapes[i]);
          try {
            FrameDecoder.decodeInto(f, inputShapes[i], frames[i], s * e);
          } catch (FrameDecoder.BadFrameException ex) {
            throw new FrameDecoder.BadFrameException("sample " + s + ": " + ex.getMessage());
          }
          present[s][i] = true;
        }
      }
    }
    long t1 = System.nanoTime();

    // ---- controller and layer selection ----
    boolean[][] chosen = new boolean[b][];
    float[][] qoi = new float[b][];
    String[] controllerOf = new String[b];
    // The controller does not depend on the embeds: with `overlap` it runs on a helper thread
    // while this thread runs the embed graphs.
    Future<Long> controllerTask = null;
    long controllerNanos = 0;
    if (policy.usesController()) {
      Map<String, List<Integer>> groups = new TreeMap<>();
      for (int s = 0; s < b; s++) {
        controllerOf[s] = controllerGraph(policy, budget[s]);
        groups.computeIfAbsent(controllerOf[s], k -> new ArrayList<>()).add(s);
      }
      Callable<Long> task =
          () -> {
            long c0 = System.nanoTime();
            for (Map.Entry<String, List<Integer>> g : groups.entrySet()) {
              runController(g.getKey(), g.getValue(), batch, frames, present, chosen, qoi, budget);
            }
            return System.nanoTime() - c0;
          };
      if (overlap) {
        controllerTask = CONTROLLER_POOL.submit(task);
      } else {
        controllerNanos = callUnchecked(task);
      }
    } else {
      for (int s = 0; s < b; s++) {
        chosen[s] =
            switch (policy) {
              case FULL -> LayerSelector.full(present[s], lm);
              case STATIC ->
                  LayerSelector.allocation(staticAllocation(budget[s]), present[s], budget[s], lm);
              default -> LayerSelector.naive(present[s], budget[s], lm);
            };
        qoi[s] = new float[m];
        Arrays.fill(qoi[s], Float.NaN);
      }
    }
    long t2 = System.nanoTime();

    // ---- per modality: embed on the sub-batch that has it, then each chosen layer on the
    // samples that chose it (gather, run, scatter). While consecutive layers run on the same
    // rows, the output tensor feeds the next layer directly, without a copy through Java. ----
    float[][] hidden = new float[m][];
    int[][] rows = new int[m][];
    int[] tokens = new int[m];
    int[] dims = new int[m];
    int[] ran = new int[b];
    long embedNanos = 0;
    long layersNanos = 0;
    OrtSession.Result[] embedOut = new OrtSession.Result[m];
    try {
      for (int i = 0; i < m; i++) {
        int[] idx = presentRows(present, i);
        rows[i] = idx;
        if (idx.length == 0) {
          continue;
        }
        String key = manifest.embedKey(i);
        int e = FrameDecoder.elements(inputShapes[i]);
        float[] in = gather(frames[i], e, idx, idx.length);
        try (OnnxTensor t =
            OnnxTensor.createTensor(
                env, FloatBuffer.wrap(in), prepend(idx.length, inputShapes[i]))) {
          embedOut[i] = runGraph(key, Map.of(singleInputName.get(key), t));
        }
      }
      embedNanos = System.nanoTime() - t2;
      if (controllerTask != null) {
        controllerNanos = await(controllerTask);
        controllerTask = null;
      }
      for (int s = 0; s < b; s++) {
        int n = LayerSelector.count(chosen[s]);
        if (n > budget[s]) {
          throw new IllegalStateException(
              "selection gave sample " + s + " " + n + " layers over its budget " + budget[s]);
        }
      }
      long tl = System.nanoTime();
      for (int i = 0; i < m; i++) {
        int[] idx = rows[i];
        if (idx.length == 0) {
          continue;
        }
        OrtSession.Result held = embedOut[i];
        embedOut[i] = null;
        try {
          long[] os = ((OnnxTensor) held.get(0)).getInfo().getShape();
          tokens[i] = (int) os[1];
          dims[i] = (int) os[2];
          int rowSize = tokens[i] * dims[i];
          // Rows (indices into idx) that `held` holds; null = all of them, in order.
          int[] heldRows = null;
          int heldN = idx.length;
          int[] sel = new int[idx.length];
          for (int l = 0; l < lm; l++) {
            int g = i * lm + l;
            int n = 0;
            for (int r = 0; r < idx.length; r++) {
              if (chosen[idx[r]][g]) {
                sel[n++] = r;
              }
            }
            if (n == 0) {
              continue;
            }
            // The hard cap, checked where layers are run.
            for (int k = 0; k < n; k++) {
              int s = idx[sel[k]];
              if (++ran[s] > budget[s]) {
                throw new IllegalStateException(
                    "sample " + s + " would run more than its budget of " + budget[s] + " layers");
              }
            }
            String lkey = manifest.layerKey(i, l);
            String inName = singleInputName.get(lkey);
            OrtSession.Result next;
            if (held != null && sameRows(heldRows, heldN, sel, n, idx.length)) {
              next = runGraph(lkey, Map.of(inName, (OnnxTensor) held.get(0)));
              held.close();
              held = null;
            } else {
              if (held != null) {
                hidden[i] = scatter(held, hidden[i], heldRows, heldN, rowSize, idx.length);
                held.close();
                held = null;
              }
              float[] x = n == idx.length ? hidden[i] : gather(hidden[i], rowSize, sel, n);
              try (OnnxTensor t =
                  OnnxTensor.createTensor(
                      env, FloatBuffer.wrap(x), new long[] {n, tokens[i], dims[i]})) {
                next = runGraph(lkey, Map.of(inName, t));
              }
            }
            held = next;
            heldRows = n == idx.length ? null : Arrays.copyOf(sel, n);
            heldN = n;
            layerRuns.incrementAndGet(g);
          }
          hidden[i] = scatter(held, hidden[i], heldRows, heldN, rowSize, idx.length);
        } finally {
          if (held != null) {
            held.close();
          }
        }
      }
      layersNanos = System.nanoTime() - tl;
    } finally {
      for (OrtSession.Result r : embedOut) {
        if (r != null) {
          r.close();
        }
      }
      if (controllerTask != null) {
        // An embed failed while the controller ran: let it finish before the caller moves on.
        try {
          controllerTask.get();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        } catch (ExecutionException e) {
          LOG.debug("controller failed after an embed failure: {}", e.getCause().toString());
        }
      }
    }
    long t4 = System.nanoTime();

    // ---- fusion and heads on the whole batch ----
    int d = manifest.dim() > 0 ? manifest.dim() : maxOf(dims);
    float[] cls = new float[b * m * d];
    float[] pres = new float[b * m];
    for (int i = 0; i < m; i++) {
      int[] idx = rows[i];
      int rowSize = tokens[i] * dims[i];
      for (int r = 0; r < idx.length; r++) {
        System.arraycopy(hidden[i], r * rowSize, cls, (idx[r] * m + i) * d, dims[i]);
        pres[idx[r] * m + i] = 1f;
      }
    }
    float[] mean;
    float[] cov;
    float[] probs;
    int k;
    try (OnnxTensor tc = OnnxTensor.createTensor(env, FloatBuffer.wrap(cls), new long[] {b, m, d});
        OnnxTensor tp = OnnxTensor.createTensor(env, FloatBuffer.wrap(pres), new long[] {b, m});
        OrtSession.Result r = runGraph("fusion", Map.of("cls", tc, "present", tp))) {
      mean = floats(r, "mean", 0);
      cov = floats(r, "cov", 1);
      probs = floats(r, "class_probs", 2);
      k = probs.length / b;
    }
    long t5 = System.nanoTime();

    // ---- results ----
    double inv = 1e-6 / b;
    StageLatency lat =
        new StageLatency(
            (t1 - t0) * inv,
            controllerNanos * inv,
            embedNanos * inv,
            layersNanos * inv,
            (t5 - t4) * inv,
            b);
    long fusionFlops = manifest.flops("fusion");
    List<SampleResult> out = new ArrayList<>(b);
    for (int s = 0; s < b; s++) {
      int[][] layers = new int[m][];
      long flops = fusionFlops + (controllerOf[s] == null ? 0 : manifest.flops(controllerOf[s]));
      for (int i = 0; i < m; i++) {
        layers[i] = LayerSelector.layersOf(chosen[s], i, lm);
        if (present[s][i]) {
          flops += manifest.flops(manifest.embedKey(i));
        }
        for (int l : layers[i]) {
          flops += manifest.flops(manifest.layerKey(i, l));
        }
      }
      float[] p = Arrays.copyOfRange(probs, s * k, (s + 1) * k);
      int best = 0;
      for (int c = 1; c < k; c++) {
        if (p[c] > p[best]) {
          best = c;
        }
      }
      double[] c2 = new double[4];
      for (int j = 0; j < 4; j++) {
        c2[j] = cov[s * 4 + j];
      }
      out.add(
          new SampleResult(
              mean[2 * s],
              mean[2 * s + 1],
              c2,
              best,
              p,
              present[s].clone(),
              layers,
              qoi[s],
              flops,
              budget[s],
              batch.get(s).budgetFraction(),
              policy,
              lat));
    }
    return out;
  }

  private void runController(
      String key,
      List<Integer> group,
      List<EngineSample> batch,
      float[][] frames,
      boolean[][] present,
      boolean[][] chosen,
      float[][] qoi,
      int[] budget)
      throws OrtException {
    int n = group.size();
    int b = batch.size();
    int[] idx = group.stream().mapToInt(Integer::intValue).toArray();
    OrtSession session = sessions.get(key);
    if (session == null) {
      throw new IllegalArgumentException("manifest lacks controller graph " + key);
    }
    Map<String, OnnxTensor> inputs = new HashMap<>();
    try {
      for (int i = 0; i < m; i++) {
        int e = FrameDecoder.elements(inputShapes[i]);
        float[] in = n == b ? frames[i] : gather(frames[i], e, idx, n);
        inputs.put(
            manifest.modalities().get(i),
            OnnxTensor.createTensor(env, FloatBuffer.wrap(in), prepend(n, inputShapes[i])));
      }
      float[] pres = new float[n * m];
      for (int r = 0; r < n; r++) {
        for (int i = 0; i < m; i++) {
          pres[r * m + i] = present[idx[r]][i] ? 1f : 0f;
        }
      }
      inputs.put(
          "present", OnnxTensor.createTensor(env, FloatBuffer.wrap(pres), new long[] {n, m}));
      if (session.getInputNames().contains("budget")) {
        float[] bud = new float[n];
        for (int r = 0; r < n; r++) {
          bud[r] = (float) batch.get(idx[r]).budgetFraction();
        }
        inputs.put(
            "budget", OnnxTensor.createTensor(env, FloatBuffer.wrap(bud), new long[] {n, 1}));
      }
      try (OrtSession.Result r = runGraph(key, inputs)) {
        float[] logits = floats(r, "layer_logits", 0);
        float[] q = floats(r, "qoi", 1);
        int nl = m * lm;
        for (int row = 0; row < n; row++) {
          int s = idx[row];
          float[] lg = Arrays.copyOfRange(logits, row * nl, (row + 1) * nl);
          chosen[s] = LayerSelector.select(lg, present[s], budget[s], lm);
          qoi[s] = Arrays.copyOfRange(q, row * m, (row + 1) * m);
        }
      }
    } finally {
      for (OnnxTensor t : inputs.values()) {
        t.close();
      }
    }
  }

  /**
   * Whether the controller runs on a helper thread while the embeds run ({@code
   * -Dqoiflow.engine.overlap=true} when the engine is opened). Off by default: on the shared 2-core
   * build machine it gave no consistent gain (docs/BENCHMARKS.md).
   */
  private final boolean overlap =
      Boolean.parseBoolean(System.getProperty("qoiflow.engine.overlap", "false"));

  private static final ExecutorService CONTROLLER_POOL =
      Executors.newCachedThreadPool(
          r -> {
            Thread t = new Thread(r, "qoiflow-engine-controller");
            t.setDaemon(true);
            return t;
          });

  private static long callUnchecked(Callable<Long> task) throws OrtException {
    try {
      return task.call();
    } catch (OrtException | RuntimeException e) {
      throw e;
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private static long await(Future<Long> task) throws OrtException {
    try {
      return task.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      task.cancel(false);
      throw new IllegalStateException("interrupted while the controller ran", e);
    } catch (ExecutionException e) {
      Throwable c = e.getCause();
      if (c instanceof OrtException oe) {
        throw oe;
      }
      if (c instanceof RuntimeException re) {
        throw re;
      }
      throw new IllegalStateException(c);
    }
  }

  private OrtSession.Result runGraph(String key, Map<String, OnnxTensor> inputs)
      throws OrtException {
    OrtSession s = sessions.get(key);
    graphRuns.incrementAndGet(graphIndex.get(key));
    return s.run(inputs);
  }

  private static float[] floats(OrtSession.Result r, String name, int fallbackIndex)
      throws OrtException {
    OnnxValue v = r.get(name).orElseGet(() -> r.get(fallbackIndex));
    FloatBuffer fb = ((OnnxTensor) v).getFloatBuffer();
    float[] out = new float[fb.remaining()];
    fb.get(out);
    return out;
  }

  /** Whether the held rows equal the selection (null held rows: all {@code all} rows). */
  private static boolean sameRows(int[] heldRows, int heldN, int[] sel, int n, int all) {
    if (heldN != n) {
      return false;
    }
    if (heldRows == null) {
      return n == all;
    }
    for (int k = 0; k < n; k++) {
      if (heldRows[k] != sel[k]) {
        return false;
      }
    }
    return true;
  }

  /**
   * Copies a held layer output into the modality's hidden state (creating it when the output covers
   * every row) and returns the state.
   */
  private static float[] scatter(
      OrtSession.Result held, float[] hidden, int[] heldRows, int heldN, int rowSize, int all)
      throws OrtException {
    FloatBuffer out = ((OnnxTensor) held.get(0)).getFloatBuffer();
    if (heldRows == null) {
      float[] h = hidden != null ? hidden : new float[all * rowSize];
      out.get(h, 0, all * rowSize);
      return h;
    }
    if (hidden == null) {
      throw new IllegalStateException("partial layer output with no hidden state");
    }
    for (int k = 0; k < heldN; k++) {
      out.get(hidden, heldRows[k] * rowSize, rowSize);
    }
    return hidden;
  }

  private static int[] presentRows(boolean[][] present, int modality) {
    int n = 0;
    for (boolean[] p : present) {
      n += p[modality] ? 1 : 0;
    }
    int[] idx = new int[n];
    int j = 0;
    for (int s = 0; s < present.length; s++) {
      if (present[s][modality]) {
        idx[j++] = s;
      }
    }
    return idx;
  }

  /** Rows {@code idx[0..n)} of a row-major array with rows of {@code rowSize}. */
  static float[] gather(float[] src, int rowSize, int[] idx, int n) {
    if (n == src.length / rowSize && isIdentity(idx, n)) {
      return src;
    }
    float[] out = new float[n * rowSize];
    for (int k = 0; k < n; k++) {
      System.arraycopy(src, idx[k] * rowSize, out, k * rowSize, rowSize);
    }
    return out;
  }

  private static boolean isIdentity(int[] idx, int n) {
    for (int k = 0; k < n; k++) {
      if (idx[k] != k) {
        return false;
      }
    }
    return true;
  }

  private static long[] prepend(int n, int[] shape) {
    long[] out = new long[shape.length + 1];
    out[0] = n;
    for (int i = 0; i < shape.length; i++) {
      out[i + 1] = shape[i];
    }
    return out;
  }

  private static int maxOf(int[] a) {
    int x = 0;
    for (int v : a) {
      x = Math.max(x, v);
    }
    return x;
  }

  /** Input names and shapes of a graph, for diagnostics. */
  public Map<String, NodeInfo> inputInfo(String key) throws OrtException {
    return sessions.get(key).getInputInfo();
  }

  private void closeSessions() {
    for (OrtSession s : sessions.values()) {
      try {
        s.close();
      } catch (OrtException e) {
        LOG.warn("closing a session failed: {}", e.getMessage());
      }
    }
    sessions.clear();
  }

  @Override
  public void close() {
    closeSessions();
  }
}
