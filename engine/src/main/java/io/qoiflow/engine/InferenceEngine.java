package io.qoiflow.engine;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.qoiflow.records.Modality;
import io.qoiflow.records.SensorFrame;
import io.qoiflow.schemas.SensorContract;
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

  /**
   * One batch through the engine, phase by phase: decode the frames, choose each sample's layers
   * (the controller, on a helper thread when {@code overlap} is on), embed each modality, run the
   * chosen layers (gather the samples that chose a layer, run it, scatter back), fuse and read the
   * heads. Each phase reads and fills the {@link Batch}.
   */
  private List<SampleResult> run(List<EngineSample> samples, Policy policy) throws OrtException {
    if (samples.isEmpty()) {
      return List.of();
    }
    Batch x = new Batch(samples, policy);
    long t0 = System.nanoTime();
    decode(x);
    long t1 = System.nanoTime();
    Future<Long> controllerTask = selectLayers(x);
    long t2 = System.nanoTime();
    OrtSession.Result[] embedOut = new OrtSession.Result[m];
    try {
      embed(x, embedOut);
      x.embedNanos = System.nanoTime() - t2;
      if (controllerTask != null) {
        x.controllerNanos = await(controllerTask);
        controllerTask = null;
      }
      checkSelectionWithinBudget(x);
      long tl = System.nanoTime();
      for (int i = 0; i < m; i++) {
        OrtSession.Result embedded = embedOut[i];
        embedOut[i] = null;
        runLayers(x, i, embedded);
      }
      x.layersNanos = System.nanoTime() - tl;
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
    Heads heads = fuse(x);
    long t5 = System.nanoTime();
    double inv = 1e-6 / x.b;
    StageLatency lat =
        new StageLatency(
            (t1 - t0) * inv,
            x.controllerNanos * inv,
            x.embedNanos * inv,
            x.layersNanos * inv,
            (t5 - t4) * inv,
            x.b);
    return results(x, heads, lat);
  }

  /** What one {@code run} knows of its batch, filled phase by phase. */
  private final class Batch {
    final List<EngineSample> samples;
    final Policy policy;
    final int b;

    /** Layers each sample may run. */
    final int[] budget;

    /** [sample][modality]: the sample has a frame of that modality. */
    final boolean[][] present;

    /** [modality]: raw frames of the whole batch, zeros where a sample has none. */
    final float[][] frames;

    /** [sample][modality * lm + layer]: the layers chosen. */
    final boolean[][] chosen;

    /** [sample][modality]: the controller's QoI, NaN without a controller. */
    final float[][] qoi;

    /** [sample]: its controller graph, null without a controller. */
    final String[] controllerOf;

    /** [modality]: the samples that have it (the modality's sub-batch). */
    final int[][] rows;

    /** [modality]: hidden states of the sub-batch, rows of tokens × dims. */
    final float[][] hidden;

    final int[] tokens;
    final int[] dims;

    /** [sample]: layers run so far, against the hard cap. */
    final int[] ran;

    long controllerNanos;
    long embedNanos;
    long layersNanos;

    Batch(List<EngineSample> samples, Policy policy) {
      this.samples = samples;
      this.policy = policy;
      this.b = samples.size();
      this.budget = new int[b];
      this.present = new boolean[b][m];
      this.frames = new float[m][];
      this.chosen = new boolean[b][];
      this.qoi = new float[b][];
      this.controllerOf = new String[b];
      this.rows = new int[m][];
      this.hidden = new float[m][];
      this.tokens = new int[m];
      this.dims = new int[m];
      this.ran = new int[b];
    }
  }

  /** Decode: each sample's budget, and full-batch raw frames per modality. */
  private void decode(Batch x) {
    for (int i = 0; i < m; i++) {
      x.frames[i] = new float[x.b * SensorContract.elements(inputShapes[i])];
    }
    for (int s = 0; s < x.b; s++) {
      EngineSample sample = x.samples.get(s);
      x.budget[s] = budgetLayers(x.policy, sample.budgetFraction());
      for (int i = 0; i < m; i++) {
        SensorFrame f = sample.frame(modalities[i]);
        if (f != null) {
          int e = SensorContract.elements(inputShapes[i]);
          try {
            FrameDecoder.decodeInto(f, inputShapes[i], x.frames[i], s * e);
          } catch (FrameDecoder.BadFrameException ex) {
            throw new FrameDecoder.BadFrameException("sample " + s + ": " + ex.getMessage());
          }
          x.present[s][i] = true;
        }
      }
    }
  }

  /**
   * Controller and layer selection. With a controller policy, one controller run per controller
   * graph; it does not depend on the embeds, so with {@code overlap} it runs on a helper thread
   * (the returned task) while this thread embeds. Otherwise the full, static or naive selection.
   */
  private Future<Long> selectLayers(Batch x) throws OrtException {
    if (!x.policy.usesController()) {
      for (int s = 0; s < x.b; s++) {
        x.chosen[s] =
            switch (x.policy) {
              case FULL -> LayerSelector.full(x.present[s], lm);
              // At 100% every policy runs every layer (the manifest's allocations stop at 67%).
              case STATIC ->
                  x.budget[s] >= manifest.totalLayers()
                      ? LayerSelector.full(x.present[s], lm)
                      : LayerSelector.allocation(
                          staticAllocation(x.budget[s]), x.present[s], x.budget[s], lm);
              default -> LayerSelector.naive(x.present[s], x.budget[s], lm);
            };
        x.qoi[s] = new float[m];
        Arrays.fill(x.qoi[s], Float.NaN);
      }
      return null;
    }
    Map<String, List<Integer>> groups = new TreeMap<>();
    for (int s = 0; s < x.b; s++) {
      x.controllerOf[s] = controllerGraph(x.policy, x.budget[s]);
      groups.computeIfAbsent(x.controllerOf[s], k -> new ArrayList<>()).add(s);
    }
    Callable<Long> task =
        () -> {
          long c0 = System.nanoTime();
          for (Map.Entry<String, List<Integer>> g : groups.entrySet()) {
            runController(g.getKey(), g.getValue(), x);
          }
          return System.nanoTime() - c0;
        };
    if (overlap) {
      return CONTROLLER_POOL.submit(task);
    }
    x.controllerNanos = callUnchecked(task);
    return null;
  }

  /** Embed: each modality's embed graph on the sub-batch that has it; outputs into {@code out}. */
  private void embed(Batch x, OrtSession.Result[] out) throws OrtException {
    for (int i = 0; i < m; i++) {
      int[] idx = presentRows(x.present, i);
      x.rows[i] = idx;
      if (idx.length == 0) {
        continue;
      }
      String key = manifest.embedKey(i);
      int e = SensorContract.elements(inputShapes[i]);
      float[] in = gather(x.frames[i], e, idx, idx.length);
      try (OnnxTensor t =
          OnnxTensor.createTensor(env, FloatBuffer.wrap(in), prepend(idx.length, inputShapes[i]))) {
        out[i] = runGraph(key, Map.of(singleInputName.get(key), t));
      }
    }
  }

  private static void checkSelectionWithinBudget(Batch x) {
    for (int s = 0; s < x.b; s++) {
      int n = LayerSelector.count(x.chosen[s]);
      if (n > x.budget[s]) {
        throw new IllegalStateException(
            "selection gave sample " + s + " " + n + " layers over its budget " + x.budget[s]);
      }
    }
  }

  /**
   * Layers of modality {@code i}: each chosen layer on the samples that chose it (gather, run,
   * scatter), starting from the embed output {@code embedded} (closed here). While consecutive
   * layers run on the same rows, the output tensor feeds the next layer directly, without a copy
   * through Java. Leaves the sub-batch's hidden states in {@code x.hidden[i]}.
   */
  private void runLayers(Batch x, int i, OrtSession.Result embedded) throws OrtException {
    int[] idx = x.rows[i];
    if (idx.length == 0) {
      return;
    }
    OrtSession.Result held = embedded;
    try {
      long[] os = ((OnnxTensor) held.get(0)).getInfo().getShape();
      x.tokens[i] = (int) os[1];
      x.dims[i] = (int) os[2];
      int rowSize = x.tokens[i] * x.dims[i];
      // Rows (indices into idx) that `held` holds; null = all of them, in order.
      int[] heldRows = null;
      int heldN = idx.length;
      int[] sel = new int[idx.length];
      for (int l = 0; l < lm; l++) {
        int g = i * lm + l;
        int n = 0;
        for (int r = 0; r < idx.length; r++) {
          if (x.chosen[idx[r]][g]) {
            sel[n++] = r;
          }
        }
        if (n == 0) {
          continue;
        }
        // The hard cap, checked where layers are run.
        for (int k = 0; k < n; k++) {
          int s = idx[sel[k]];
          if (++x.ran[s] > x.budget[s]) {
            throw new IllegalStateException(
                "sample " + s + " would run more than its budget of " + x.budget[s] + " layers");
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
            x.hidden[i] = scatter(held, x.hidden[i], heldRows, heldN, rowSize, idx.length);
            held.close();
            held = null;
          }
          float[] in = n == idx.length ? x.hidden[i] : gather(x.hidden[i], rowSize, sel, n);
          try (OnnxTensor t =
              OnnxTensor.createTensor(
                  env, FloatBuffer.wrap(in), new long[] {n, x.tokens[i], x.dims[i]})) {
            next = runGraph(lkey, Map.of(inName, t));
          }
        }
        held = next;
        heldRows = n == idx.length ? null : Arrays.copyOf(sel, n);
        heldN = n;
        layerRuns.incrementAndGet(g);
      }
      x.hidden[i] = scatter(held, x.hidden[i], heldRows, heldN, rowSize, idx.length);
    } finally {
      if (held != null) {
        held.close();
      }
    }
  }

  /** The fusion graph's outputs for the whole batch: location mean and covariance, class probs. */
  private record Heads(float[] mean, float[] cov, float[] probs, int classes) {}

  /** Fusion: each present modality's CLS token into the fusion graph and its heads. */
  private Heads fuse(Batch x) throws OrtException {
    int b = x.b;
    int d = manifest.dim() > 0 ? manifest.dim() : maxOf(x.dims);
    float[] cls = new float[b * m * d];
    float[] pres = new float[b * m];
    for (int i = 0; i < m; i++) {
      int[] idx = x.rows[i];
      int rowSize = x.tokens[i] * x.dims[i];
      for (int r = 0; r < idx.length; r++) {
        System.arraycopy(x.hidden[i], r * rowSize, cls, (idx[r] * m + i) * d, x.dims[i]);
        pres[idx[r] * m + i] = 1f;
      }
    }
    try (OnnxTensor tc = OnnxTensor.createTensor(env, FloatBuffer.wrap(cls), new long[] {b, m, d});
        OnnxTensor tp = OnnxTensor.createTensor(env, FloatBuffer.wrap(pres), new long[] {b, m});
        OrtSession.Result r = runGraph("fusion", Map.of("cls", tc, "present", tp))) {
      float[] probs = floats(r, "class_probs", 2);
      return new Heads(floats(r, "mean", 0), floats(r, "cov", 1), probs, probs.length / b);
    }
  }

  /** One result per sample, in batch order, with its layers, QoI and FLOPs. */
  private List<SampleResult> results(Batch x, Heads heads, StageLatency lat) {
    int k = heads.classes();
    long fusionFlops = manifest.flops("fusion");
    List<SampleResult> out = new ArrayList<>(x.b);
    for (int s = 0; s < x.b; s++) {
      int[][] layers = new int[m][];
      long flops =
          fusionFlops + (x.controllerOf[s] == null ? 0 : manifest.flops(x.controllerOf[s]));
      for (int i = 0; i < m; i++) {
        layers[i] = LayerSelector.layersOf(x.chosen[s], i, lm);
        if (x.present[s][i]) {
          flops += manifest.flops(manifest.embedKey(i));
        }
        for (int l : layers[i]) {
          flops += manifest.flops(manifest.layerKey(i, l));
        }
      }
      float[] p = Arrays.copyOfRange(heads.probs(), s * k, (s + 1) * k);
      int best = 0;
      for (int c = 1; c < k; c++) {
        if (p[c] > p[best]) {
          best = c;
        }
      }
      double[] c2 = new double[4];
      for (int j = 0; j < 4; j++) {
        c2[j] = heads.cov()[s * 4 + j];
      }
      out.add(
          new SampleResult(
              heads.mean()[2 * s],
              heads.mean()[2 * s + 1],
              c2,
              best,
              p,
              x.present[s].clone(),
              layers,
              x.qoi[s],
              flops,
              x.budget[s],
              x.samples.get(s).budgetFraction(),
              x.policy,
              lat));
    }
    return out;
  }

  /** The controller graph {@code key} on the samples {@code group}: their layers and QoI. */
  private void runController(String key, List<Integer> group, Batch x) throws OrtException {
    List<EngineSample> batch = x.samples;
    float[][] frames = x.frames;
    boolean[][] present = x.present;
    boolean[][] chosen = x.chosen;
    float[][] qoi = x.qoi;
    int[] budget = x.budget;
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
        int e = SensorContract.elements(inputShapes[i]);
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
