package io.qoiflow.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.qoiflow.benchmarks.EngineBench;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code qoiflow bench}: performance measurements. */
@Command(
    name = "bench",
    mixinStandardHelpOptions = true,
    description = "Performance measurements (see docs/BENCHMARKS.md).",
    subcommands = {BenchCommand.Engine.class, BenchE2eCommand.class})
public final class BenchCommand implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }

  /**
   * {@code qoiflow bench engine}: latency per sample of the Java engine per budget at batch 1 and
   * 16, latency vs FLOPs ratios, mixed-layer-set batching vs per-sample, the controller's share of
   * time, and PyTorch eager on the same weights and inputs in the same run.
   */
  @Command(
      name = "engine",
      mixinStandardHelpOptions = true,
      description = {
        "Benchmark the inference engine on simulator samples and compare with PyTorch eager.",
        "Timings: best of --rounds passes over the samples, after one warm-up pass."
      })
  public static final class Engine implements Callable<Integer> {
    @Option(
        names = "--model",
        description = "Model directory (default: model-artifacts/admn-sim-v2, else admn-smoke).")
    Path model;

    @Option(
        names = "--samples",
        defaultValue = "64",
        description = "Samples (default ${DEFAULT-VALUE}).")
    int samples;

    @Option(
        names = "--seed",
        defaultValue = "7",
        description = "Simulator seed (default ${DEFAULT-VALUE}).")
    long seed;

    @Option(
        names = "--corruption",
        defaultValue = "random",
        description = "Corruption spec (default ${DEFAULT-VALUE}).")
    String corruption;

    @Option(
        names = "--budgets",
        split = ",",
        defaultValue = "25,33,50,67,100",
        description = "Budget percentages; 100 is the full model (default ${DEFAULT-VALUE}).")
    List<Integer> budgets;

    @Option(
        names = "--policy",
        defaultValue = "admn",
        description = "Controller policy (default ${DEFAULT-VALUE}).")
    String policy;

    @Option(
        names = "--rounds",
        defaultValue = "10",
        description = "Timed passes; the best counts (default ${DEFAULT-VALUE}).")
    int rounds;

    @Option(
        names = "--provider",
        defaultValue = "cpu",
        description = "cpu|cuda|auto (default ${DEFAULT-VALUE}).")
    String provider;

    @Option(
        names = "--python",
        description = "Python with torch for the eager comparison (default: the training venv's).")
    Path python;

    @Option(names = "--no-pytorch", description = "Skip the PyTorch eager comparison.")
    boolean noPytorch;

    @Option(names = "--json", description = "Print JSON.")
    boolean json;

    @Override
    public Integer call() throws Exception {
      ObjectNode root =
          new EngineBench(
                  model,
                  samples,
                  seed,
                  corruption,
                  budgets,
                  policy,
                  rounds,
                  provider,
                  python,
                  noPytorch)
              .run();
      if (json) {
        System.out.println(
            new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(root));
      } else {
        EngineBench.printTable(root);
      }
      return 0;
    }
  }
}
