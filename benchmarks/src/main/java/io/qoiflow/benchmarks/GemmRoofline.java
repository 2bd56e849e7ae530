package io.qoiflow.benchmarks;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.qoiflow.engine.EngineSample;
import io.qoiflow.engine.ExecutionProvider;
import io.qoiflow.engine.InferenceEngine;
import io.qoiflow.engine.ModelManifest;
import io.qoiflow.engine.OrtRuntime;
import io.qoiflow.engine.Policy;
import io.qoiflow.engine.SampleResult;
import io.qoiflow.records.LabelledSample;
import java.io.ByteArrayOutputStream;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.FloatBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The roofline line: what ONNX Runtime's MatMul reaches on this CPU with the engine's thread
 * settings (the shared {@link OrtRuntime} environment and session options), next to what the
 * engine's layer chain reaches at batch 16 (manifest FLOPs of the layers run / layer stage time).
 *
 * <p>The MatMul graph ({@code Y = A·B}, float32, every dimension symbolic) is written here as ONNX
 * protobuf bytes, so the bench needs no Python and no binary in the repository.
 */
public final class GemmRoofline {
  private GemmRoofline() {}

  /** One GEMM shape: {@code [m,k]·[k,n]}; best and median GFLOP/s over the timed runs. */
  public record Gemm(int m, int k, int n, double bestGflops, double medianGflops) {}

  /** One layer graph run alone by ONNX Runtime at a batch: no engine, no gather/scatter. */
  public record LayerGraph(String key, double bestMs, double gflops) {}

  /**
   * Layer 0 of each modality alone at {@code batch} (random tokens), best of {@code reps}: what the
   * ORT graph itself reaches, against which the engine's layer stage can be compared.
   */
  public static List<LayerGraph> layerGraphs(Path modelDir, int batch, int reps) throws Exception {
    ModelManifest mf = ModelManifest.load(modelDir);
    OrtEnvironment env = OrtRuntime.get().env();
    SplittableRandom rnd = new SplittableRandom(2);
    List<LayerGraph> out = new ArrayList<>();
    for (int i = 0; i < mf.modalityCount(); i++) {
      String key = mf.layerKey(i, 0);
      Path file = mf.dir().resolve(mf.graph(key).file());
      try (OrtSession s = OrtRuntime.get().open(file, ExecutionProvider.CPU)) {
        String input = s.getInputNames().iterator().next();
        long[] shape =
            ((ai.onnxruntime.TensorInfo) s.getInputInfo().get(input).getInfo()).getShape();
        shape[0] = batch;
        int n = (int) Arrays.stream(shape).reduce(1, (a, b) -> a * b);
        float[] x = new float[n];
        for (int j = 0; j < n; j++) {
          x[j] = (float) rnd.nextDouble(-1, 1);
        }
        double best = Double.MAX_VALUE;
        try (OnnxTensor t = OnnxTensor.createTensor(env, FloatBuffer.wrap(x), shape)) {
          Map<String, OnnxTensor> in = Map.of(input, t);
          for (int r = 0; r < 3 + reps; r++) {
            long t0 = System.nanoTime();
            s.run(in).close();
            if (r >= 3) {
              best = Math.min(best, (System.nanoTime() - t0) / 1e6);
            }
          }
        }
        out.add(new LayerGraph(key, best, batch * (double) mf.flops(key) / (best * 1e6)));
      }
    }
    return out;
  }

  /**
   * The layer chain at batch 16: all layers of every present modality ({@code full} policy).
   *
   * @param gflops layer FLOPs / layer stage time (per batch the fastest round, summed)
   * @param engineGflops all FLOPs of the samples / all engine stage time, same statistic
   * @param engineGflopsCpu all FLOPs / the calling thread's CPU time in {@code infer} (ORT runs on
   *     it), per batch the least of the rounds: not inflated by preemption on a busy machine
   */
  public record Chain(
      double gflops,
      double engineGflops,
      double engineGflopsCpu,
      long layerFlopsPerSample,
      int samples) {}

  /** ONNX ModelProto bytes of a single MatMul with inputs A [M,K], B [K,N] and output Y [M,N]. */
  public static byte[] matMulModel() {
    Proto node =
        new Proto()
            .string(1, "A")
            .string(1, "B")
            .string(2, "Y")
            .string(3, "matmul")
            .string(4, "MatMul");
    Proto graph =
        new Proto()
            .message(1, node)
            .string(2, "gemm")
            .message(11, valueInfo("A", "M", "K"))
            .message(11, valueInfo("B", "K", "N"))
            .message(12, valueInfo("Y", "M", "N"));
    Proto opset = new Proto().string(1, "").varint(2, 17);
    return new Proto()
        .varint(1, 8) // ir_version
        .string(2, "qoiflow-bench")
        .message(7, graph)
        .message(8, opset)
        .bytes();
  }

  private static Proto valueInfo(String name, String... dims) {
    Proto shape = new Proto();
    for (String d : dims) {
      shape.message(1, new Proto().string(2, d)); // Dimension.dim_param
    }
    Proto tensor = new Proto().varint(1, 1).message(2, shape); // elem_type FLOAT, shape
    return new Proto().string(1, name).message(2, new Proto().message(1, tensor));
  }

  /** A minimal protobuf writer: varints and length-delimited fields are all ONNX needs here. */
  static final class Proto {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    Proto varint(int field, long v) {
      writeVarint((long) field << 3);
      writeVarint(v);
      return this;
    }

    Proto string(int field, String s) {
      return raw(field, s.getBytes(StandardCharsets.UTF_8));
    }

    Proto message(int field, Proto p) {
      return raw(field, p.bytes());
    }

    private Proto raw(int field, byte[] b) {
      writeVarint(((long) field << 3) | 2);
      writeVarint(b.length);
      out.writeBytes(b);
      return this;
    }

    private void writeVarint(long v) {
      while ((v & ~0x7FL) != 0) {
        out.write((int) ((v & 0x7F) | 0x80));
        v >>>= 7;
      }
      out.write((int) v);
    }

    byte[] bytes() {
      return out.toByteArray();
    }
  }

  /** A session of the MatMul graph on the engine's ORT environment and options. */
  public static OrtSession openMatMul() throws Exception {
    Path file = Files.createTempFile("qoiflow-gemm", ".onnx");
    try {
      Files.write(file, matMulModel());
      return OrtRuntime.get().open(file, ExecutionProvider.CPU);
    } finally {
      Files.deleteIfExists(file);
    }
  }

  /** {@code Y = A·B} once, for tests. */
  public static float[] multiply(OrtSession s, float[] a, float[] b, int m, int k, int n)
      throws OrtException {
    OrtEnvironment env = OrtRuntime.get().env();
    try (OnnxTensor ta = OnnxTensor.createTensor(env, FloatBuffer.wrap(a), new long[] {m, k});
        OnnxTensor tb = OnnxTensor.createTensor(env, FloatBuffer.wrap(b), new long[] {k, n});
        OrtSession.Result r = s.run(Map.of("A", ta, "B", tb))) {
      float[][] y = (float[][]) r.get(0).getValue();
      float[] flat = new float[m * n];
      for (int i = 0; i < m; i++) {
        System.arraycopy(y[i], 0, flat, i * n, n);
      }
      return flat;
    }
  }

  /** Times {@code reps} runs of each shape (after 3 warm-up runs). */
  public static List<Gemm> measure(OrtSession s, List<int[]> shapes, int reps) throws OrtException {
    OrtEnvironment env = OrtRuntime.get().env();
    SplittableRandom rnd = new SplittableRandom(1);
    List<Gemm> out = new ArrayList<>();
    for (int[] mkn : shapes) {
      int m = mkn[0];
      int k = mkn[1];
      int n = mkn[2];
      float[] a = new float[m * k];
      float[] b = new float[k * n];
      for (int i = 0; i < a.length; i++) {
        a[i] = (float) rnd.nextDouble(-1, 1);
      }
      for (int i = 0; i < b.length; i++) {
        b[i] = (float) rnd.nextDouble(-1, 1);
      }
      double flops = 2.0 * m * k * n;
      double[] gflops = new double[reps];
      try (OnnxTensor ta = OnnxTensor.createTensor(env, FloatBuffer.wrap(a), new long[] {m, k});
          OnnxTensor tb = OnnxTensor.createTensor(env, FloatBuffer.wrap(b), new long[] {k, n})) {
        Map<String, OnnxTensor> in = Map.of("A", ta, "B", tb);
        for (int i = 0; i < 3; i++) {
          s.run(in).close();
        }
        for (int i = 0; i < reps; i++) {
          long t0 = System.nanoTime();
          s.run(in).close();
          gflops[i] = flops / (System.nanoTime() - t0);
        }
      }
      Arrays.sort(gflops);
      out.add(new Gemm(m, k, n, gflops[reps - 1], gflops[reps / 2]));
    }
    return out;
  }

  /**
   * The layer chain at batch 16 with the {@code full} policy on {@code samples}: per batch the
   * fastest of {@code rounds} (as {@code bench engine} does on a shared machine).
   */
  public static Chain chain(Path modelDir, List<LabelledSample> samples, int rounds) {
    final int batch = 16;
    try (InferenceEngine engine = InferenceEngine.open(modelDir, ExecutionProvider.CPU)) {
      ModelManifest mf = engine.manifest();
      ThreadMXBean mx = ManagementFactory.getThreadMXBean();
      List<List<EngineSample>> batches = new ArrayList<>();
      for (int s = 0; s + batch <= samples.size(); s += batch) {
        List<EngineSample> part = new ArrayList<>();
        for (LabelledSample ls : samples.subList(s, s + batch)) {
          part.add(EngineSample.of(ls.getFrames(), 1.0));
        }
        batches.add(part);
      }
      if (batches.isEmpty()) {
        throw new IllegalArgumentException("need at least 16 samples for the chain at batch 16");
      }
      double[] bestLayersMs = new double[batches.size()];
      double[] bestTotalMs = new double[batches.size()];
      double[] bestCpuMs = new double[batches.size()];
      Arrays.fill(bestCpuMs, Double.MAX_VALUE);
      Arrays.fill(bestLayersMs, Double.MAX_VALUE);
      Arrays.fill(bestTotalMs, Double.MAX_VALUE);
      long[] layerFlops = new long[batches.size()];
      long[] allFlops = new long[batches.size()];
      for (List<EngineSample> part : batches) {
        engine.infer(part, Policy.FULL); // warm-up
      }
      for (int r = 0; r < rounds; r++) {
        for (int k = 0; k < batches.size(); k++) {
          long c0 = mx.getCurrentThreadCpuTime();
          List<SampleResult> out = engine.infer(batches.get(k), Policy.FULL);
          bestCpuMs[k] = Math.min(bestCpuMs[k], (mx.getCurrentThreadCpuTime() - c0) / 1e6);
          double layersMs = 0;
          double totalMs = 0;
          long lf = 0;
          long af = 0;
          for (SampleResult res : out) {
            layersMs += res.latency().layersMs();
            totalMs += res.latency().totalMs();
            af += res.flops();
            for (int i = 0; i < mf.modalityCount(); i++) {
              for (int l : res.layerList(i)) {
                lf += mf.flops(mf.layerKey(i, l));
              }
            }
          }
          bestLayersMs[k] = Math.min(bestLayersMs[k], layersMs);
          bestTotalMs[k] = Math.min(bestTotalMs[k], totalMs);
          layerFlops[k] = lf;
          allFlops[k] = af;
        }
      }
      double lf = Arrays.stream(layerFlops).sum();
      double af = Arrays.stream(allFlops).sum();
      double lms = Arrays.stream(bestLayersMs).sum();
      double tms = Arrays.stream(bestTotalMs).sum();
      int n = batches.size() * batch;
      double cms = Arrays.stream(bestCpuMs).sum();
      return new Chain(lf / (lms * 1e6), af / (tms * 1e6), af / (cms * 1e6), (long) (lf / n), n);
    }
  }
}
