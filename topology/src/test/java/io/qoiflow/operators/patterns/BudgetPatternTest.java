package io.qoiflow.operators.patterns;

import static org.assertj.core.api.Assertions.assertThat;

import io.qoiflow.records.Telemetry;
import io.qoiflow.topology.BudgetSignals;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.formats.avro.typeutils.AvroTypeInfo;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.flink.util.CloseableIterator;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Runs one pattern through real Flink CEP (event time) on a bounded telemetry sequence. */
abstract class BudgetPatternTest {
  static final long T = 1_700_000_000_000L;
  static final BudgetThresholds TH = BudgetThresholds.defaults();

  @RegisterExtension
  static final MiniClusterExtension MINI_CLUSTER =
      new MiniClusterExtension(
          new MiniClusterResourceConfiguration.Builder()
              .setNumberTaskManagers(1)
              .setNumberSlotsPerTaskManager(2)
              .build());

  /** A calm reading at second {@code s}: low utilisation, fast, no lag, cool. */
  static Telemetry.Builder calm(int s) {
    return Telemetry.newBuilder()
        .setPoolId("pool-a")
        .setHostId("tm-0")
        .setTime(Instant.ofEpochMilli(T + s * 1000L))
        .setGpuUtilization(0.3)
        .setMemoryUsedMb(1000)
        .setMemoryTotalMb(8000)
        .setTemperatureC(60)
        .setThrottled(false)
        .setInferenceP50Ms(10)
        .setInferenceP99Ms(20)
        .setQueueDepth(0)
        .setConsumerLag(0);
  }

  static List<BudgetSignal> run(BudgetPattern pattern, List<Telemetry> input) throws Exception {
    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
    env.setParallelism(1);
    var telemetry =
        env.fromData(input, new AvroTypeInfo<>(Telemetry.class))
            .assignTimestampsAndWatermarks(
                WatermarkStrategy.<Telemetry>forMonotonousTimestamps()
                    .withTimestampAssigner((t, ts) -> t.getTime().toEpochMilli()));
    List<BudgetSignal> out = new ArrayList<>();
    try (CloseableIterator<BudgetSignal> it =
        BudgetSignals.detect(telemetry, List.of(pattern), TH).executeAndCollect()) {
      it.forEachRemaining(out::add);
    }
    for (BudgetSignal s : out) {
      assertThat(s.pattern).isEqualTo(pattern.name());
      assertThat(s.direction).isEqualTo(pattern.direction());
      assertThat(s.poolId).isEqualTo("pool-a");
    }
    return out;
  }
}
