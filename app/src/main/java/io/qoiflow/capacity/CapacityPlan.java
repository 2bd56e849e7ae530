package io.qoiflow.capacity;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * How many TaskManager cores (or GPUs), slots, Kafka partitions and how much broker bandwidth a
 * fleet of rigs needs, from measured per-FrameSet figures ({@link BenchFigures}, {@link WireSizes})
 * and the stated {@link Assumptions}. The arithmetic is deliberately plain: measured cost per
 * FrameSet × FrameSets per second ÷ target utilisation.
 *
 * <p>One structural fact drives the TaskManager count: the job runs <em>one</em> engine and one
 * micro-batcher thread per TaskManager JVM ({@code EngineService}), so a TaskManager's inference is
 * bounded by one core (CPU) or one GPU, however many slots it has.
 */
public final class CapacityPlan {

  /**
   * @param utilisation target busy share of every core, engine thread and GPU (headroom for bursts,
   *     recovery catch-up and checkpoints)
   * @param maxCoresPerTaskManager largest TaskManager the plan may use
   * @param replication Kafka replication factor of the frame topics
   * @param partitionMbPerS sustained MB/s one partition is planned for
   * @param gpuGflops projected effective GFLOP/s of one GPU on these layer graphs (not measured)
   * @param gpuOverheadMsPerBatch projected fixed GPU time per batch (launches, copies, syncs)
   * @param gpuBatch samples per GPU batch
   */
  public record Assumptions(
      double utilisation,
      int maxCoresPerTaskManager,
      int replication,
      double partitionMbPerS,
      double gpuGflops,
      double gpuOverheadMsPerBatch,
      int gpuBatch) {
    public static Assumptions defaults() {
      return new Assumptions(0.7, 8, 3, 10, 2000, 5, 64);
    }
  }

  /**
   * The plan at one budget.
   *
   * @param frameSetsPerS fleet FrameSets per second
   * @param taskManagers TaskManager JVMs (one engine each)
   * @param coresPerTaskManager cores (= slots) per TaskManager
   * @param taskManagerCores cores the job's JVMs need in all
   * @param engineThreadLoad busy share of each TaskManager's engine thread (CPU) or GPU
   * @param gpus GPUs (0 on CPU)
   * @param gpuMsPerSample projected GPU time per sample (0 on CPU)
   * @param parallelism job parallelism = TaskManagers × slots
   * @param partitionsPerTopic partitions of each frame topic
   * @param ingressMbPerS producer → broker bytes of frames
   * @param replicationMbPerS broker → broker replica traffic
   * @param egressMbPerS broker → job (the job reads every frame once)
   * @param brokerCores broker cores (measured on one broker without replication, scaled by the
   *     replication factor)
   * @param engineAloneCores engine bench at batch 16 only (lower bound on inference cores)
   */
  public record Plan(
      int budgetPct,
      boolean budgetMeasured,
      boolean gpu,
      double frameSetsPerS,
      int taskManagers,
      int coresPerTaskManager,
      double taskManagerCores,
      double engineThreadLoad,
      int gpus,
      double gpuMsPerSample,
      int parallelism,
      int partitionsPerTopic,
      double ingressMbPerS,
      double replicationMbPerS,
      double egressMbPerS,
      double brokerCores,
      double engineAloneCores) {}

  private CapacityPlan() {}

  public static Plan plan(
      long rigs,
      double hz,
      int budgetPct,
      boolean gpu,
      BenchFigures figures,
      WireSizes wire,
      Assumptions a) {
    if (rigs <= 0 || hz <= 0) {
      throw new IllegalArgumentException("rigs and hz must be positive");
    }
    if (a.utilisation() <= 0 || a.utilisation() > 1) {
      throw new IllegalArgumentException("utilisation must be in (0, 1]");
    }
    BenchFigures.Budget b = figures.at(budgetPct);
    double rate = rigs * hz;
    double u = a.utilisation();

    // Per-FrameSet CPU of the job's JVMs; with a GPU the engine thread's CPU leaves them except
    // decoding, and the engine's time is the GPU's.
    double jvmCpuMs = gpu ? b.jvmCpuMs() - b.engineCpuMs() + b.decodeMs() : b.jvmCpuMs();
    double perEngineMs; // time of the single engine per TaskManager spent on one FrameSet
    double gpuMsPerSample = 0;
    if (gpu) {
      double flops = b.flopsRatio() * figures.layerFlopsFull();
      gpuMsPerSample = a.gpuOverheadMsPerBatch() / a.gpuBatch() + flops / (a.gpuGflops() * 1e6);
      perEngineMs = gpuMsPerSample;
    } else {
      perEngineMs = b.engineCpuMs();
    }
    double totalCores = rate * jvmCpuMs / 1000 / u;
    int byEngine = (int) Math.ceil(rate * perEngineMs / 1000 / u);
    int byCores = (int) Math.ceil(totalCores / a.maxCoresPerTaskManager());
    int taskManagers = Math.max(1, Math.max(byEngine, byCores));
    int coresPerTm = Math.max(1, (int) Math.ceil(totalCores / taskManagers));
    double engineLoad = rate * perEngineMs / 1000 / taskManagers;
    int parallelism = taskManagers * coresPerTm;

    double mb = 1e6;
    double ingress = rate * wire.bytesPerFrameSet() / mb;
    double replication = ingress * (a.replication() - 1);
    double largestTopicMb = rate * wire.largestFrameBytes() / mb;
    int byBandwidth = (int) Math.ceil(largestTopicMb / a.partitionMbPerS());
    int partitions = Math.max(parallelism, byBandwidth);
    double brokerCores = rate * b.brokerCpuMs() * a.replication() / 1000 / u;
    double engineAlone = rate * b.engineMsB16() / 1000 / u;
    return new Plan(
        budgetPct,
        figures.measured(budgetPct),
        gpu,
        rate,
        taskManagers,
        coresPerTm,
        totalCores,
        engineLoad,
        gpu ? taskManagers : 0,
        gpuMsPerSample,
        parallelism,
        partitions,
        ingress,
        replication,
        ingress,
        brokerCores,
        engineAlone);
  }

  /** The plan and everything it rests on, as printed by {@code qoiflow plan}. */
  public static String report(
      long rigs, double hz, List<Plan> plans, BenchFigures f, WireSizes wire, Assumptions a) {
    List<String> out = new ArrayList<>();
    out.add(
        String.format(
            Locale.ROOT,
            "Capacity plan: %d rigs at %.4g Hz = %.0f FrameSets/s",
            rigs,
            hz,
            rigs * hz));
    for (Plan p : plans) {
      out.add("");
      out.add(
          String.format(
              Locale.ROOT,
              "budget %d%% (%s figures), %s:",
              p.budgetPct(),
              p.budgetMeasured() ? "measured" : "interpolated",
              p.gpu() ? "engine on GPUs (PROJECTED)" : "engine on CPU (measured)"));
      out.add(
          String.format(
              Locale.ROOT,
              "  TaskManagers %d × %d cores = %d slots; job parallelism %d (%.1f cores needed at %.0f%% utilisation)",
              p.taskManagers(),
              p.coresPerTaskManager(),
              p.taskManagers() * p.coresPerTaskManager(),
              p.parallelism(),
              p.taskManagerCores(),
              100 * a.utilisation()));
      if (p.gpu()) {
        out.add(
            String.format(
                Locale.ROOT,
                "  GPUs %d (one per TaskManager), each busy %.0f%%: %.4f ms per sample PROJECTED",
                p.gpus(),
                100 * p.engineThreadLoad(),
                p.gpuMsPerSample()));
      } else {
        out.add(
            String.format(
                Locale.ROOT,
                "  engine thread per TaskManager busy %.0f%% (one engine per TaskManager JVM);"
                    + " engine alone at batch 16 would need %.1f cores",
                100 * p.engineThreadLoad(),
                p.engineAloneCores()));
      }
      out.add(
          String.format(
              Locale.ROOT,
              "  Kafka: %d partitions per frame topic (5 topics); frames in %.1f MB/s, replication"
                  + " %.1f MB/s, out to the job %.1f MB/s; broker CPU %.1f cores",
              p.partitionsPerTopic(),
              p.ingressMbPerS(),
              p.replicationMbPerS(),
              p.egressMbPerS(),
              p.brokerCores()));
    }
    out.add("");
    out.add("Measured here (2 shared vCPUs, see docs/BENCHMARKS.md; medians over the runs):");
    for (int pct : f.byBudget().keySet()) {
      BenchFigures.Budget b = f.byBudget().get(pct);
      out.add(
          String.format(
              Locale.ROOT,
              "  %3d%%: CPU per FrameSet job JVM %.2f ms (engine thread %.2f, decode %.3f), broker %.2f ms"
                  + " [%d e2e runs]; engine alone %.2f ms/sample b1, %.2f b16; FLOPs ratio %.3f",
              pct,
              b.jvmCpuMs(),
              b.engineCpuMs(),
              b.decodeMs(),
              b.brokerCpuMs(),
              b.e2eRuns(),
              b.engineMsB1(),
              b.engineMsB16(),
              b.flopsRatio()));
    }
    out.add(
        String.format(
            Locale.ROOT,
            "  layer FLOPs per sample, full model: %.1f M; bytes per FrameSet on Kafka %.0f"
                + " (largest frame %.0f; %d clean simulator samples encoded now)",
            f.layerFlopsFull() / 1e6,
            wire.bytesPerFrameSet(),
            wire.largestFrameBytes(),
            wire.samples()));
    out.add(
        "  e2e runs: " + String.join(", ", f.e2eFiles()) + "; load averages " + f.loadAverages());
    out.add("  engine runs: " + String.join(", ", f.engineFiles()));
    out.add("Assumptions:");
    out.add(
        String.format(
            Locale.ROOT,
            "  utilisation %.0f%% of every core, engine thread and GPU; TaskManagers of at most %d cores,"
                + " one slot per core",
            100 * a.utilisation(),
            a.maxCoresPerTaskManager()));
    out.add(
        "  per-FrameSet CPU scales linearly with parallelism (not yet measured beyond parallelism 2:"
            + " issue 19 item 4); the job JVM figure includes the bench's two watching consumers");
    out.add(
        String.format(
            Locale.ROOT,
            "  Kafka replication factor %d; broker CPU measured on one broker at replication 1, scaled"
                + " ×%d; a partition carries at most %.0f MB/s; partitions ≥ parallelism so every"
                + " source subtask reads; results, telemetry and record headers not counted in the bandwidth",
            a.replication(),
            a.replication(),
            a.partitionMbPerS()));
    out.add(
        String.format(
            Locale.ROOT,
            "  GPU (PROJECTED, no GPU measured here): %.0f effective GFLOP/s on these small layer"
                + " graphs, %.1f ms fixed per batch of %d; with a GPU the engine thread's CPU leaves"
                + " the TaskManager except decode",
            a.gpuGflops(),
            a.gpuOverheadMsPerBatch(),
            a.gpuBatch()));
    return String.join("\n", out) + "\n";
  }
}
