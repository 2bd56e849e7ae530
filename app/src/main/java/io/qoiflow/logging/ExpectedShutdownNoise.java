package io.qoiflow.logging;

import java.util.EnumSet;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.flink.runtime.checkpoint.CheckpointException;
import org.apache.flink.runtime.checkpoint.CheckpointFailureReason;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.core.Core;
import org.apache.logging.log4j.core.LogEvent;
import org.apache.logging.log4j.core.appender.rewrite.RewritePolicy;
import org.apache.logging.log4j.core.config.plugins.Plugin;
import org.apache.logging.log4j.core.config.plugins.PluginFactory;
import org.apache.logging.log4j.core.impl.Log4jLogEvent;
import org.apache.logging.log4j.message.Message;
import org.apache.logging.log4j.message.SimpleMessage;

/**
 * Turns the checkpoint failures that every stop of a job causes into one quiet line. When a job
 * stops (stop-with-savepoint {@code --drain}, the end of a bounded input), Flink's {@code
 * CheckpointFailureManager} logs a warning with a 40-line stack trace for each periodic checkpoint
 * still in flight: declined because a task is closing, the coordinator suspending, the scheduler
 * shut down. A user reads that as a failure after a good run. This policy rewrites the first such
 * event of each job into one INFO line without the trace and the later ones to DEBUG; every other
 * event, and every other checkpoint failure (expired, I/O, a task's failure), passes unchanged.
 * Used by the CLI's {@code log4j2.properties}.
 */
@Plugin(
    name = "ExpectedShutdownNoise",
    category = Core.CATEGORY_NAME,
    elementType = "rewritePolicy",
    printObject = true)
public final class ExpectedShutdownNoise implements RewritePolicy {
  /** The reasons a checkpoint fails only because the job is stopping. */
  static final Set<CheckpointFailureReason> STOPPING =
      EnumSet.of(
          CheckpointFailureReason.CHECKPOINT_DECLINED_TASK_CLOSING,
          CheckpointFailureReason.CHECKPOINT_COORDINATOR_SUSPEND,
          CheckpointFailureReason.CHECKPOINT_COORDINATOR_SHUTDOWN,
          CheckpointFailureReason.PERIODIC_SCHEDULER_SHUTDOWN);

  private final Set<String> jobsReported = ConcurrentHashMap.newKeySet();

  @PluginFactory
  public static ExpectedShutdownNoise create() {
    return new ExpectedShutdownNoise();
  }

  @Override
  public LogEvent rewrite(LogEvent event) {
    if (!(event.getThrown() instanceof CheckpointException e)
        || !STOPPING.contains(e.getCheckpointFailureReason())) {
      return event;
    }
    // CheckpointFailureManager's message: "Failed to trigger or complete checkpoint {} for job {}."
    Object[] parameters = event.getMessage().getParameters();
    String job = parameters != null && parameters.length > 1 ? String.valueOf(parameters[1]) : "";
    boolean first = jobsReported.add(job);
    Message line =
        new SimpleMessage(
            "Checkpoints in flight while job "
                + job
                + " stops are not taken ("
                + e.getMessage()
                + "): expected when a job is stopped or drained, not a failure");
    return new Log4jLogEvent.Builder(event)
        .setLevel(first ? Level.INFO : Level.DEBUG)
        .setMessage(line)
        .setThrown(null)
        .setThrownProxy(null)
        .build();
  }
}
