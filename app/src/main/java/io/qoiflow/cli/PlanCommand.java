package io.qoiflow.cli;

import io.qoiflow.capacity.BenchFigures;
import io.qoiflow.capacity.CapacityPlan;
import io.qoiflow.capacity.WireSizes;
import io.qoiflow.engine.ModelLocator;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code qoiflow plan}: a fleet's TaskManagers, cores or GPUs, slots, partitions and broker
 * bandwidth from the committed bench JSON. Method and worked example: docs/CAPACITY.md.
 */
@Command(
    name = "plan",
    mixinStandardHelpOptions = true,
    description = {
      "Capacity plan for a fleet: TaskManagers, cores or GPUs, slots, Kafka partitions and broker",
      "bandwidth, from the measured figures in benchmarks/results (bench e2e and bench engine)",
      "and the printed assumptions."
    })
public final class PlanCommand implements Callable<Integer> {
  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Option(names = "--rigs", required = true, description = "Rigs in the fleet.")
  long rigs;

  @Option(names = "--hz", required = true, description = "FrameSets per second per rig.")
  double hz;

  @Option(
      names = "--budget",
      split = ",",
      defaultValue = "33,100",
      description =
          "Budget percentages (default ${DEFAULT-VALUE}); between measured budgets the"
              + " figures are interpolated.")
  List<Integer> budgets;

  @Option(names = "--gpu", description = "Engine on GPUs (projected figures, see the assumptions).")
  boolean gpu;

  @Option(names = "--results", description = "Bench JSON folder (default: benchmarks/results).")
  Path results;

  @Option(
      names = "--model",
      defaultValue = "admn-sim-v1",
      description = "Model name in the bench file names (default ${DEFAULT-VALUE}).")
  String model;

  @Option(names = "--utilisation", description = "Target busy share (default 0.7).")
  Double utilisation;

  @Option(names = "--max-cores-per-tm", description = "Largest TaskManager in cores (default 8).")
  Integer maxCores;

  @Option(names = "--replication", description = "Kafka replication factor (default 3).")
  Integer replication;

  @Option(names = "--partition-mb-s", description = "MB/s per partition (default 10).")
  Double partitionMbS;

  @Option(names = "--gpu-gflops", description = "Projected GPU GFLOP/s (default 2000).")
  Double gpuGflops;

  @Option(
      names = "--gpu-overhead-ms",
      description = "Projected fixed GPU ms per batch (default 5).")
  Double gpuOverheadMs;

  @Option(names = "--gpu-batch", description = "Samples per GPU batch (default 64).")
  Integer gpuBatch;

  @Override
  public Integer call() {
    CapacityPlan.Assumptions d = CapacityPlan.Assumptions.defaults();
    CapacityPlan.Assumptions a =
        new CapacityPlan.Assumptions(
            utilisation != null ? utilisation : d.utilisation(),
            maxCores != null ? maxCores : d.maxCoresPerTaskManager(),
            replication != null ? replication : d.replication(),
            partitionMbS != null ? partitionMbS : d.partitionMbPerS(),
            gpuGflops != null ? gpuGflops : d.gpuGflops(),
            gpuOverheadMs != null ? gpuOverheadMs : d.gpuOverheadMsPerBatch(),
            gpuBatch != null ? gpuBatch : d.gpuBatch());
    Path dir = results != null ? results : ModelLocator.repoRoot().resolve("benchmarks/results");
    BenchFigures figures = BenchFigures.load(dir, model);
    WireSizes wire = WireSizes.measure(50, 7);
    List<CapacityPlan.Plan> plans = new ArrayList<>();
    for (int pct : budgets) {
      plans.add(CapacityPlan.plan(rigs, hz, pct, gpu, figures, wire, a));
    }
    spec.commandLine().getOut().print(CapacityPlan.report(rigs, hz, plans, figures, wire, a));
    spec.commandLine().getOut().flush();
    return 0;
  }
}
