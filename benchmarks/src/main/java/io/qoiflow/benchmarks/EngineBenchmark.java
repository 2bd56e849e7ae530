package io.qoiflow.benchmarks;

import io.qoiflow.engine.EngineSample;
import io.qoiflow.engine.InferenceEngine;
import io.qoiflow.engine.ModelLocator;
import io.qoiflow.engine.Policy;
import io.qoiflow.engine.SampleResult;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * Engine time per sample: ADMN at each budget (100 = the full model, no controller) at batch 1 and
 * 16; and mixed per-sample budgets batched by 16 vs one sample at a time.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(
    value = 1,
    jvmArgsAppend = {"-Xmx2g"})
public class EngineBenchmark {

  @Param({"25", "33", "50", "67", "100"})
  public int budgetPct;

  @Param({"1", "16"})
  public int batch;

  private InferenceEngine engine;
  private List<EngineSample> samples;
  private List<EngineSample> mixed;

  @Setup(Level.Trial)
  public void open() {
    engine = InferenceEngine.open(ModelLocator.defaultModel());
    var set = BenchSetup.samples();
    samples = BenchSetup.withBudgets(set, budgetPct);
    mixed = BenchSetup.withBudgets(set, 25, 33, 50, 67);
  }

  @TearDown(Level.Trial)
  public void close() {
    engine.close();
  }

  private void run(List<EngineSample> in, Policy p, Blackhole bh) {
    for (int s = 0; s < in.size(); s += batch) {
      List<SampleResult> r = engine.infer(in.subList(s, Math.min(in.size(), s + batch)), p);
      bh.consume(r);
    }
  }

  /** All samples at this budget and batch size; the score is ms per sample. */
  @Benchmark
  @OperationsPerInvocation(BenchSetup.SAMPLES)
  public void admn(Blackhole bh) {
    run(samples, budgetPct == 100 ? Policy.FULL : Policy.ADMN, bh);
  }

  /** Mixed budgets 25/33/50/67 round-robin (mixed layer sets); budgetPct is ignored. */
  @Benchmark
  @OperationsPerInvocation(BenchSetup.SAMPLES)
  public void mixedBudgets(Blackhole bh) {
    run(mixed, Policy.ADMN, bh);
  }
}
