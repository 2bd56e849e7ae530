package io.qoiflow.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.qoiflow.benchmarks.E2eBench;
import io.qoiflow.benchmarks.E2eSuite;
import io.qoiflow.engine.ModelLocator;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code qoiflow bench e2e}: the whole job (real broker, Flink MiniCluster, ONNX Runtime) at each
 * budget and at full depth, the join operator alone, and the roofline (ORT GEMM vs the layer
 * chain). Method and figures: docs/BENCHMARKS.md.
 */
@Command(
    name = "e2e",
    mixinStandardHelpOptions = true,
    description = {
      "End-to-end benchmark: Kafka -> Flink -> ONNX Runtime -> Kafka at each budget and at full",
      "depth (backlog runs for FrameSets/s and CPU, paced runs for latency), the join alone,",
      "and ONNX Runtime's GEMM throughput next to the layer chain's at batch 16."
    })
public final class BenchE2eCommand implements Callable<Integer> {
  @Option(
      names = "--model",
      description = "Model directory (default: model-artifacts/admn-sim-v2, else admn-smoke).")
  Path model;

  @Option(names = "--rigs", defaultValue = "8", description = "Rigs K (default ${DEFAULT-VALUE}).")
  int rigs;

  @Option(
      names = "--samples-per-rig",
      defaultValue = "150",
      description = "FrameSets per rig in each backlog run (default ${DEFAULT-VALUE}).")
  int samplesPerRig;

  @Option(names = "--seed", defaultValue = "7", description = "Simulator seed (${DEFAULT-VALUE}).")
  long seed;

  @Option(
      names = "--corruption",
      defaultValue = "clean",
      description =
          "Corruption spec (default ${DEFAULT-VALUE}: every modality present, so a set is"
              + " complete at once and the join never waits for the watermark).")
  String corruption;

  @Option(
      names = "--budgets",
      split = ",",
      defaultValue = "25,33,50,67,100",
      description = "Budget percentages (default ${DEFAULT-VALUE}).")
  List<Integer> budgets;

  @Option(
      names = "--policy",
      defaultValue = "universal",
      description = "Policy of the budget rows (default ${DEFAULT-VALUE}); full depth = full.")
  String policy;

  @Option(
      names = "--parallelism",
      defaultValue = "2",
      description = "Job parallelism (${DEFAULT-VALUE}).")
  int parallelism;

  @Option(
      names = "--partitions",
      defaultValue = "2",
      description = "Partitions per topic (${DEFAULT-VALUE}).")
  int partitions;

  @Option(
      names = "--checkpoint-interval-ms",
      defaultValue = "1000",
      description =
          "Checkpoint interval: the exactly-once sinks commit once per checkpoint"
              + " (default ${DEFAULT-VALUE}).")
  long checkpointIntervalMs;

  @Option(
      names = "--max-batch",
      defaultValue = "16",
      description = "Micro-batch (${DEFAULT-VALUE}).")
  int maxBatch;

  @Option(
      names = "--max-batch-delay-ms",
      defaultValue = "10",
      description = "Micro-batch delay (${DEFAULT-VALUE}).")
  long maxBatchDelayMs;

  @Option(
      names = "--load",
      defaultValue = "0.8",
      description =
          "Paced rate as a fraction of that budget's backlog throughput (${DEFAULT-VALUE}).")
  double load;

  @Option(
      names = "--paced-rate",
      defaultValue = "0",
      description = "Fixed paced rate in FrameSets/s instead of --load x capacity (0: use --load).")
  double pacedRate;

  @Option(
      names = "--paced-seconds",
      defaultValue = "10",
      description = "Measured paced seconds per budget (${DEFAULT-VALUE}).")
  double pacedSeconds;

  @Option(
      names = "--warmup-seconds",
      defaultValue = "2",
      description = "Paced seconds before measuring (${DEFAULT-VALUE}).")
  double warmupSeconds;

  @Option(
      names = "--join-frames",
      defaultValue = "500000",
      description = "Frames through the join alone (${DEFAULT-VALUE}).")
  long joinFrames;

  @Option(
      names = "--join-rigs",
      defaultValue = "16",
      description = "Rigs in the join bench (${DEFAULT-VALUE}).")
  int joinRigs;

  @Option(
      names = "--gemm-sizes",
      split = ",",
      defaultValue = "256,512,1024",
      description = "Square GEMM sizes (${DEFAULT-VALUE}).")
  List<Integer> gemmSizes;

  @Option(
      names = "--gemm-reps",
      defaultValue = "20",
      description = "Timed runs per GEMM (${DEFAULT-VALUE}).")
  int gemmReps;

  @Option(
      names = "--chain-samples",
      defaultValue = "64",
      description = "Samples for the chain at batch 16 (${DEFAULT-VALUE}).")
  int chainSamples;

  @Option(
      names = "--chain-rounds",
      defaultValue = "10",
      description = "Rounds for the chain (${DEFAULT-VALUE}).")
  int chainRounds;

  @Option(names = "--json", description = "Print JSON.")
  boolean json;

  @Override
  public Integer call() throws Exception {
    Path dir = (model != null ? model : ModelLocator.defaultModel()).toAbsolutePath();
    ObjectNode root =
        new E2eSuite(
                new E2eBench.Settings(
                    dir,
                    rigs,
                    samplesPerRig,
                    seed,
                    corruption,
                    budgets,
                    policy,
                    parallelism,
                    partitions,
                    checkpointIntervalMs,
                    maxBatch,
                    maxBatchDelayMs,
                    load,
                    pacedRate,
                    pacedSeconds,
                    warmupSeconds),
                joinFrames,
                joinRigs,
                gemmSizes,
                gemmReps,
                chainSamples,
                chainRounds)
            .run();
    if (json) {
      System.out.println(
          new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(root));
    } else {
      E2eSuite.printSummary(root);
    }
    return 0;
  }
}
