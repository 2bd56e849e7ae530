package io.qoiflow.topology;

import java.nio.file.Path;
import java.time.Duration;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.configuration.ReadableConfig;
import org.apache.flink.core.execution.CheckpointingMode;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one place the job's Flink environment is made, for {@code main}, the demo, the benches and
 * the tests alike: the job's settings, exactly-once checkpoints at the interval of {@link
 * #checkpointInterval}, and checkpoints to files where the cluster configures no checkpoint
 * storage. The cluster's state backend and restart strategy are never touched.
 */
public final class JobEnvironment {
  private static final Logger LOG = LoggerFactory.getLogger(JobEnvironment.class);

  /** The interval where neither {@code --checkpoint-interval-ms} nor the cluster sets one. */
  public static final Duration DEFAULT_CHECKPOINT_INTERVAL = Duration.ofSeconds(5);

  private JobEnvironment() {}

  /**
   * {@code --checkpoint-interval-ms} when given, else the cluster's {@code
   * execution.checkpointing.interval}, else {@link #DEFAULT_CHECKPOINT_INTERVAL}. Results become
   * visible to read_committed consumers once per checkpoint, so the job always checkpoints.
   */
  static Duration checkpointInterval(JobConfig config, ReadableConfig cluster) {
    if (config.checkpointIntervalMs() != null) {
      return Duration.ofMillis(config.checkpointIntervalMs());
    }
    return cluster
        .getOptional(CheckpointingOptions.CHECKPOINTING_INTERVAL)
        .orElse(DEFAULT_CHECKPOINT_INTERVAL);
  }

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
    ReadableConfig cluster = env.getConfiguration();
    Duration interval = checkpointInterval(config, cluster);
    String intervalSource =
        config.checkpointIntervalMs() != null
            ? "--checkpoint-interval-ms"
            : cluster.getOptional(CheckpointingOptions.CHECKPOINTING_INTERVAL).isPresent()
                ? "the cluster's execution.checkpointing.interval"
                : "default";
    // Exactly-once whatever the cluster says: the Kafka sinks' transactions rely on aligned
    // checkpoints for results without duplicates. (This writes the interval into the
    // environment's configuration, so its source is read above.)
    env.enableCheckpointing(interval.toMillis(), CheckpointingMode.EXACTLY_ONCE);
    LOG.info("Checkpoints every {} ms ({})", interval.toMillis(), intervalSource);
    if (cluster.getOptional(CheckpointingOptions.CHECKPOINT_STORAGE).isEmpty()
        && cluster.getOptional(CheckpointingOptions.CHECKPOINTS_DIRECTORY).isEmpty()) {
      // Without configured storage Flink keeps checkpoints in the JobManager's memory, 5 MB per
      // state: the join holds whole frames while sets fill, and under a backlog its state outgrows
      // that, every checkpoint fails and the job fails over in a loop. A cluster's own storage is
      // kept; only where there is none does the job choose files, and says where.
      Configuration storage = new Configuration();
      storage.set(CheckpointingOptions.CHECKPOINT_STORAGE, "filesystem");
      storage.set(CheckpointingOptions.CHECKPOINTS_DIRECTORY, config.checkpointDir());
      env.configure(storage);
      LOG.info(
          "No checkpoint storage configured: checkpoints go to {} (--checkpoint-dir)",
          config.checkpointDir());
    }
  }
}
