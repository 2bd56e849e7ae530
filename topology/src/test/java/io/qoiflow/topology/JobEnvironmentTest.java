package io.qoiflow.topology;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.configuration.StateBackendOptions;
import org.apache.flink.core.execution.CheckpointingMode;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Cluster settings win unless a job argument sets them: the environment the job builds on a
 * configuration like a cluster's (no cluster is started).
 */
class JobEnvironmentTest {
  @TempDir Path tmp;

  private StreamExecutionEnvironment environment(Configuration cluster, String... args) {
    return JobEnvironment.local(JobConfig.fromArgs(JobConfigTest.args(args)), 1, tmp, cluster);
  }

  @Test
  void theArgumentSetsTheIntervalOverTheCluster() {
    Configuration cluster = new Configuration();
    cluster.set(CheckpointingOptions.CHECKPOINTING_INTERVAL, Duration.ofSeconds(30));
    StreamExecutionEnvironment env = environment(cluster, "--checkpoint-interval-ms", "1500");
    assertThat(env.getCheckpointConfig().getCheckpointInterval()).isEqualTo(1500);
  }

  @Test
  void withoutTheArgumentTheClustersIntervalApplies() {
    Configuration cluster = new Configuration();
    cluster.set(CheckpointingOptions.CHECKPOINTING_INTERVAL, Duration.ofSeconds(30));
    StreamExecutionEnvironment env = environment(cluster);
    assertThat(env.getCheckpointConfig().getCheckpointInterval()).isEqualTo(30_000);
    assertThat(env.getCheckpointConfig().getCheckpointingConsistencyMode())
        .isEqualTo(CheckpointingMode.EXACTLY_ONCE);
  }

  @Test
  void withNeitherTheDefaultApplies() {
    StreamExecutionEnvironment env = environment(new Configuration());
    assertThat(env.getCheckpointConfig().getCheckpointInterval())
        .isEqualTo(JobEnvironment.DEFAULT_CHECKPOINT_INTERVAL.toMillis());
  }

  @Test
  void theClustersStateBackendRestartStrategyAndStorageAreKept() {
    Configuration cluster = new Configuration();
    cluster.set(StateBackendOptions.STATE_BACKEND, "rocksdb");
    cluster.set(RestartStrategyOptions.RESTART_STRATEGY, "fixed-delay");
    cluster.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, 7);
    cluster.set(CheckpointingOptions.CHECKPOINTS_DIRECTORY, "s3://bucket/checkpoints");
    StreamExecutionEnvironment env = environment(cluster);
    Configuration applied = (Configuration) env.getConfiguration();
    assertThat(applied.get(StateBackendOptions.STATE_BACKEND)).isEqualTo("rocksdb");
    assertThat(applied.get(RestartStrategyOptions.RESTART_STRATEGY)).isEqualTo("fixed-delay");
    assertThat(applied.get(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS))
        .isEqualTo(7);
    assertThat(applied.get(CheckpointingOptions.CHECKPOINTS_DIRECTORY))
        .isEqualTo("s3://bucket/checkpoints");
  }
}
