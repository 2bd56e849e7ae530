package io.qoiflow.topology;

import java.nio.file.Path;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.core.execution.CheckpointingMode;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * The one place the job's Flink environment is made, for {@code main}, the demo, the benches and
 * the tests alike: the job's settings and exactly-once checkpoints at the configured interval.
 */
public final class JobEnvironment {
  private JobEnvironment() {}

  /** Flink settings the job relies on: no Kryo fallback (every type has a real serializer). */
  public static Configuration jobConfiguration() {
    Configuration conf = new Configuration();
    conf.set(PipelineOptions.GENERIC_TYPES, false);
    return conf;
  }

  /** The context's environment: the cluster's under {@code flink run}, a test's MiniCluster. */
  public static StreamExecutionEnvironment create(JobConfig config) {
    StreamExecutionEnvironment env =
        StreamExecutionEnvironment.getExecutionEnvironment(jobConfiguration());
    configure(env, config);
    return env;
  }

  /**
   * An in-process MiniCluster with checkpoints to files under {@code checkpointDir}, as on a
   * cluster: the join holds whole frames while sets fill, and a start-up backlog outgrows the
   * JobManager's in-memory storage (5 MB per state). {@code extra} settings are added last.
   */
  public static StreamExecutionEnvironment local(
      JobConfig config, int parallelism, Path checkpointDir, Configuration extra) {
    Configuration conf = jobConfiguration();
    conf.set(CheckpointingOptions.CHECKPOINT_STORAGE, "filesystem");
    conf.set(CheckpointingOptions.CHECKPOINTS_DIRECTORY, checkpointDir.toUri().toString());
    conf.addAll(extra);
    StreamExecutionEnvironment env =
        StreamExecutionEnvironment.createLocalEnvironment(parallelism, conf);
    configure(env, config);
    return env;
  }

  private static void configure(StreamExecutionEnvironment env, JobConfig config) {
    env.configure(jobConfiguration());
    env.enableCheckpointing(config.checkpointIntervalMs(), CheckpointingMode.EXACTLY_ONCE);
  }
}
