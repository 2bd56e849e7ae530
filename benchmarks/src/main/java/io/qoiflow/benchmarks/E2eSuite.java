package io.qoiflow.benchmarks;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.qoiflow.engine.OrtRuntime;
import io.qoiflow.records.LabelledSample;
import io.qoiflow.simulator.Samples;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The end-to-end bench behind {@code qoiflow bench e2e}: the whole job (real broker, Flink
 * MiniCluster, ONNX Runtime) at each budget and at full depth ({@link E2eBench}), the join operator
 * alone ({@link JoinThroughput}), and the roofline: ORT GEMM vs the layer chain ({@link
 * GemmRoofline}). Method and figures: docs/BENCHMARKS.md.
 *
 * @param e2e the whole-job runs; the model of its settings is the one of every part
 */
public record E2eSuite(
    E2eBench.Settings e2e,
    long joinFrames,
    int joinRigs,
    List<Integer> gemmSizes,
    int gemmReps,
    int chainSamples,
    int chainRounds) {

  /** Runs every part; the JSON document that {@code qoiflow bench e2e --json} prints. */
  public ObjectNode run() throws Exception {
    Path dir = e2e.model();
    ObjectMapper om = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    String loadBefore = loadAverage();

    ObjectNode root = new E2eBench(e2e, om).run();

    JoinThroughput.Result join = JoinThroughput.measure(joinRigs, joinFrames);
    root.put("join_records_per_s", join.framesPerSecondCpu());
    ObjectNode j = root.putObject("join");
    j.put("frames", join.frames());
    j.put("rigs", joinRigs);
    j.put("frames_per_s_thread_cpu", join.framesPerSecondCpu());
    j.put("frames_per_s_wall", join.framesPerSecondWall());
    j.put("framesets_out", join.frameSets());

    List<int[]> shapes = new ArrayList<>();
    for (int n : gemmSizes) {
      shapes.add(new int[] {n, n, n});
    }
    // The layer's own GEMMs at batch 16 (tokens of the largest modality x dim, dim x 3dim etc.).
    List<int[]> layerShapes = layerShapes(om, dir);
    List<GemmRoofline.Gemm> gemms;
    List<GemmRoofline.Gemm> layerGemms;
    try (var session = GemmRoofline.openMatMul()) {
      gemms = GemmRoofline.measure(session, shapes, gemmReps);
      layerGemms = GemmRoofline.measure(session, layerShapes, gemmReps * 10);
    }
    double peak = gemms.stream().mapToDouble(GemmRoofline.Gemm::bestGflops).max().orElse(0);
    root.put("gemm_gflops", peak);
    ArrayNode g = root.putArray("gemm");
    for (GemmRoofline.Gemm x : gemms) {
      putGemm(g.addObject(), x);
    }
    ArrayNode lg = root.putArray("gemm_at_layer_shapes_b16");
    for (GemmRoofline.Gemm x : layerGemms) {
      putGemm(lg.addObject(), x);
    }
    List<LabelledSample> chainSet = Samples.simulate(e2e.seed(), e2e.corruption(), chainSamples);
    GemmRoofline.Chain chain = GemmRoofline.chain(dir, chainSet, chainRounds);
    root.put("chain_gflops_b16", chain.gflops());
    ObjectNode c = root.putObject("chain");
    c.put("layer_gflops_b16", chain.gflops());
    c.put("engine_gflops_b16", chain.engineGflops());
    c.put("engine_gflops_b16_thread_cpu", chain.engineGflopsCpu());
    c.put("layer_flops_per_sample", chain.layerFlopsPerSample());
    c.put("samples", chain.samples());
    c.put("fraction_of_gemm", chain.gflops() / peak);
    // The same layers run alone by ORT: the gap to the chain is the engine's glue per layer.
    ArrayNode alone = c.putArray("layer_graph_alone_b16");
    double aloneMs = 0;
    double aloneFlops = 0;
    for (GemmRoofline.LayerGraph lgr : GemmRoofline.layerGraphs(dir, 16, gemmReps * 5)) {
      alone
          .addObject()
          .put("graph", lgr.key())
          .put("best_ms", lgr.bestMs())
          .put("gflops", lgr.gflops());
      aloneMs += lgr.bestMs();
      aloneFlops += lgr.gflops() * lgr.bestMs();
    }
    c.put("layer_graph_alone_gflops_b16", aloneFlops / aloneMs);

    targets(root, om, chain.gflops() / peak);
    ObjectNode d = root.putObject("details");
    d.put("model", dir.getFileName().toString());
    d.put("cpus", Runtime.getRuntime().availableProcessors());
    d.put("load_average_before", loadBefore);
    d.put("load_average_after", loadAverage());
    d.put("ort_threads", OrtRuntime.get().threads());
    d.put("ort_global_pool", OrtRuntime.get().usesGlobalPool());
    d.put("rigs", e2e.rigs());
    d.put("samples_per_rig", e2e.samplesPerRig());
    d.put("corruption", e2e.corruption());
    d.put("policy", e2e.policy());
    d.put("parallelism", e2e.parallelism());
    d.put("partitions", e2e.partitions());
    d.put("checkpoint_interval_ms", e2e.checkpointIntervalMs());
    d.put("max_batch", e2e.maxBatch());
    d.put("max_batch_delay_ms", e2e.maxBatchDelayMs());
    d.put("paced_load", e2e.pacedLoad());
    d.put("paced_rate_fixed", e2e.pacedRate());
    d.put("paced_seconds", e2e.pacedSeconds());
    d.put(
        "framesets_per_s_basis",
        "backlog run (all input in Kafka before start, bounded sources): results the sink wrote"
            + " (read_uncommitted) after the first poll with results / time to the last one");
    d.put(
        "latency_basis",
        "paced run at load x that budget's backlog FrameSets/s: read_committed first-seen wall"
            + " time - capture time (= scheduled send time); *_written_ms: read_uncommitted");
    d.put(
        "cpu_basis",
        "process CPU time of the JVM with the MiniCluster (and the two watching consumers),"
            + " engine_thread = the micro-batcher's thread (all ORT work), broker = the broker"
            + " JVM from /proc; over the same window as framesets_per_s");
    d.put(
        "join_basis",
        "FrameJoinFunction in a parallelism-1 MiniCluster job (source -> keyBy -> join -> discard),"
            + " 4-byte payloads, heap state; frames per second of the join task thread's CPU time");
    d.put(
        "gemm_basis",
        "MatMul graph on the engine's ORT environment and session options, best of the timed"
            + " runs; chain: manifest FLOPs of the layers run / layer stage time, full policy,"
            + " batch 16, per batch the fastest round");
    return root;
  }

  private static void putGemm(ObjectNode o, GemmRoofline.Gemm x) {
    o.put("m", x.m());
    o.put("k", x.k());
    o.put("n", x.n());
    o.put("best_gflops", x.bestGflops());
    o.put("median_gflops", x.medianGflops());
  }

  /** QKV, attention output and MLP GEMMs of one layer of the largest modality at batch 16. */
  private static List<int[]> layerShapes(ObjectMapper om, Path dir) throws Exception {
    JsonNode mf = om.readTree(dir.resolve("manifest.json").toFile());
    int dim = mf.path("dim").asInt(64);
    int tokens = 0;
    for (JsonNode t : mf.path("tokens")) {
      tokens = Math.max(tokens, t.asInt());
    }
    int mlp = (int) Math.round(dim * mf.path("config").path("mlp_ratio").asDouble(2));
    int rows = 16 * tokens;
    return List.of(
        new int[] {rows, dim, 3 * dim},
        new int[] {rows, dim, dim},
        new int[] {rows, dim, mlp},
        new int[] {rows, mlp, dim});
  }

  private static void targets(ObjectNode root, ObjectMapper om, double chainFraction) {
    ObjectNode t = root.putObject("targets");
    if (root.has("speedup_b33_vs_full_depth")) {
      double sp = root.get("speedup_b33_vs_full_depth").asDouble();
      t.putObject("b33_ge_2.5x_full_depth_framesets_per_s").put("value", sp).put("met", sp >= 2.5);
      double ratio = root.path("latency_at_load_b33").path("p99_over_p50").asDouble();
      t.putObject("p99_le_3x_p50_at_load")
          .put("value", ratio)
          .put("met", ratio <= 3.0)
          .put(
              "written_value",
              root.path("latency_at_load_b33").path("p99_over_p50_written").asDouble());
    }
    double join = root.get("join_records_per_s").asDouble();
    t.putObject("join_ge_100k_frames_per_s_one_core").put("value", join).put("met", join >= 1e5);
    t.putObject("chain_b16_ge_0.5_gemm")
        .put("value", chainFraction)
        .put("met", chainFraction >= 0.5);
  }

  private static String loadAverage() {
    try {
      return Files.readString(Path.of("/proc/loadavg")).trim();
    } catch (Exception e) {
      return "unknown";
    }
  }

  /** The summary {@code qoiflow bench e2e} prints without {@code --json}. */
  public static void printSummary(ObjectNode root) {
    System.out.printf(
        "%6s %12s %9s %9s %12s%n", "budget", "FrameSets/s", "p50 ms", "p99 ms", "cpu ms/FS");
    for (JsonNode r : root.get("rows")) {
      System.out.printf(
          Locale.ROOT,
          "%5d%% %12.1f %9.1f %9.1f %12.2f%n",
          r.get("budget_pct").asInt(),
          r.get("framesets_per_s").asDouble(),
          r.get("p50_ms").asDouble(),
          r.get("p99_ms").asDouble(),
          r.get("cpu_ms_per_frameset").asDouble());
    }
    System.out.printf(
        Locale.ROOT,
        "full depth %.1f FrameSets/s; join %.0f frames/s (one core); GEMM %.1f GFLOP/s; chain b16"
            + " %.1f GFLOP/s%n",
        root.get("full_depth_framesets_per_s").asDouble(),
        root.get("join_records_per_s").asDouble(),
        root.get("gemm_gflops").asDouble(),
        root.get("chain_gflops_b16").asDouble());
    System.out.println("targets: " + root.get("targets"));
  }
}
