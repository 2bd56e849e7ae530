package io.qoiflow.capacity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.qoiflow.records.Modality;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CapacityPlanTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  private static JsonNode e2e(double cpu50, double cpu100) throws Exception {
    return JSON.readTree(
        """
        {"rows":[
          {"budget_pct":50,"cpu_ms_per_frameset":%s,"engine_thread_cpu_ms_per_frameset":2,
           "broker_cpu_ms_per_frameset":1,"engine_stages_ms_per_frameset":{"decode":0.1}},
          {"budget_pct":100,"cpu_ms_per_frameset":%s,"engine_thread_cpu_ms_per_frameset":4,
           "broker_cpu_ms_per_frameset":1,"engine_stages_ms_per_frameset":{"decode":0.1}}],
         "chain":{"layer_flops_per_sample":1.0e8},
         "details":{"load_average_before":"1","load_average_after":"2"}}
        """
            .formatted(cpu50, cpu100));
  }

  private static JsonNode engine() throws Exception {
    return JSON.readTree(
        """
        {"rows":[
          {"budget_pct":50,"ms_per_sample_b1":3,"ms_per_sample_b16":1.5,"flops_ratio":0.5},
          {"budget_pct":100,"ms_per_sample_b1":6,"ms_per_sample_b16":3,"flops_ratio":1.0}]}
        """);
  }

  private static final WireSizes WIRE =
      new WireSizes(
          10,
          50_000,
          Map.of(Modality.CAMERA, 30_000.0, Modality.LIDAR, 10_000.0, Modality.AUDIO, 10_000.0));

  private static final CapacityPlan.Assumptions A =
      new CapacityPlan.Assumptions(0.5, 4, 3, 10, 2000, 5, 64);

  private static BenchFigures figures() throws Exception {
    // Two e2e runs: CPU per FrameSet is their median (4 and 6 -> 5 at 50 %).
    return BenchFigures.of(
        List.of(e2e(4, 8), e2e(6, 8)), List.of(engine()), List.of("a", "b"), List.of("c"));
  }

  @Test
  void cpuPlanIsMeasuredCostTimesRateOverUtilisationWithOneEnginePerTaskManager() throws Exception {
    CapacityPlan.Plan p = CapacityPlan.plan(100, 10, 50, false, figures(), WIRE, A);
    assertThat(p.frameSetsPerS()).isEqualTo(1000);
    // 1000/s × 5 ms / 0.5 = 10 cores; one engine thread per TaskManager at 2 ms → 4 TaskManagers.
    assertThat(p.taskManagerCores()).isCloseTo(10, within(1e-9));
    assertThat(p.taskManagers()).isEqualTo(4);
    assertThat(p.coresPerTaskManager()).isEqualTo(3);
    assertThat(p.parallelism()).isEqualTo(12);
    assertThat(p.engineThreadLoad()).isCloseTo(0.5, within(1e-9));
    // 30 MB/s on the camera topic needs 3 partitions; parallelism 12 needs 12.
    assertThat(p.partitionsPerTopic()).isEqualTo(12);
    assertThat(p.ingressMbPerS()).isCloseTo(50, within(1e-9));
    assertThat(p.replicationMbPerS()).isCloseTo(100, within(1e-9));
    assertThat(p.brokerCores()).isCloseTo(6, within(1e-9));
    assertThat(p.engineAloneCores()).isCloseTo(3, within(1e-9));
    assertThat(p.gpus()).isZero();
    assertThat(p.budgetMeasured()).isTrue();
  }

  @Test
  void gpuPlanMovesTheEngineThreadsCpuToProjectedGpuTime() throws Exception {
    CapacityPlan.Plan p = CapacityPlan.plan(100, 10, 50, true, figures(), WIRE, A);
    // Host CPU: 5 − 2 (engine thread) + 0.1 (decode) = 3.1 ms → 6.2 cores → 2 TaskManagers of 4.
    assertThat(p.taskManagerCores()).isCloseTo(6.2, within(1e-9));
    // GPU: 5 ms / 64 + 0.5 × 1e8 FLOPs / 2000 GFLOP/s = 0.078125 + 0.025 ms per sample.
    assertThat(p.gpuMsPerSample()).isCloseTo(0.103125, within(1e-12));
    assertThat(p.taskManagers()).isEqualTo(2);
    assertThat(p.gpus()).isEqualTo(2);
    assertThat(p.coresPerTaskManager()).isEqualTo(4);
  }

  @Test
  void budgetsBetweenMeasuredOnesAreInterpolatedAndOthersRefused() throws Exception {
    BenchFigures f = figures();
    BenchFigures.Budget b = f.at(75);
    assertThat(b.jvmCpuMs()).isCloseTo(6.5, within(1e-9)); // halfway between 5 and 8
    assertThat(b.engineCpuMs()).isCloseTo(3, within(1e-9));
    assertThat(f.measured(75)).isFalse();
    assertThat(CapacityPlan.plan(1, 1, 75, false, f, WIRE, A).budgetMeasured()).isFalse();
    assertThatThrownBy(() -> f.at(25)).hasMessageContaining("outside the measured budgets");
  }

  @Test
  void committedBenchJsonGivesAPlanForTenThousandRigs() {
    BenchFigures f = BenchFigures.load(Path.of("..", "benchmarks", "results"), "admn-sim-v1");
    assertThat(f.e2eFiles()).isNotEmpty().allSatisfy(n -> assertThat(n).startsWith("bench-e2e-"));
    assertThat(f.engineFiles()).noneMatch(n -> n.contains("overlap"));
    WireSizes wire = WireSizes.measure(5, 7);
    // Every frame of a clean sample is on the wire: five modalities, kilobytes each.
    assertThat(wire.bytesPerFrameByModality()).hasSize(5);
    assertThat(wire.bytesPerFrameSet()).isGreaterThan(wire.largestFrameBytes());
    CapacityPlan.Assumptions a = CapacityPlan.Assumptions.defaults();
    CapacityPlan.Plan p33 = CapacityPlan.plan(10_000, 10, 33, false, f, wire, a);
    CapacityPlan.Plan p100 = CapacityPlan.plan(10_000, 10, 100, false, f, wire, a);
    BenchFigures.Budget b33 = f.at(33);
    assertThat(p33.taskManagers())
        .isGreaterThanOrEqualTo(
            (int) Math.ceil(100_000 * b33.engineCpuMs() / 1000 / a.utilisation()));
    // A lower budget needs fewer engine threads and no more cores than full depth.
    assertThat(p33.taskManagers()).isLessThan(p100.taskManagers());
    assertThat(p33.taskManagerCores()).isLessThanOrEqualTo(p100.taskManagerCores());
    assertThat(p33.partitionsPerTopic()).isGreaterThanOrEqualTo(p33.parallelism());
    String report = CapacityPlan.report(10_000, 10, List.of(p33, p100), f, wire, a);
    assertThat(report).contains("Assumptions:", "Measured here", "bench-e2e-", "PROJECTED");
  }
}
