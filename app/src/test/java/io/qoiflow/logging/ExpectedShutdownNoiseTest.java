package io.qoiflow.logging;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import org.apache.flink.api.common.JobID;
import org.apache.flink.runtime.checkpoint.CheckpointException;
import org.apache.flink.runtime.checkpoint.CheckpointFailureReason;
import org.apache.logging.log4j.Logger;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.config.ConfigurationFactory;
import org.apache.logging.log4j.core.config.ConfigurationSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The CLI's own {@code log4j2.properties} (not the test configuration), fed the warnings Flink's
 * {@code CheckpointFailureManager} logs when the demo drains its job: one line without a trace per
 * job; a real checkpoint failure keeps its warning and trace.
 */
class ExpectedShutdownNoiseTest {
  private static final String CHECKPOINT_FAILURE_MANAGER =
      "org.apache.flink.runtime.checkpoint.CheckpointFailureManager";
  // The exact format CheckpointFailureManager logs with.
  private static final String FLINK_MESSAGE =
      "Failed to trigger or complete checkpoint {} for job {}. ({} consecutive failed attempts so"
          + " far)";

  private final ByteArrayOutputStream stderr = new ByteArrayOutputStream();
  private PrintStream originalErr;
  private LoggerContext context;

  @BeforeEach
  void cliLogging() throws Exception {
    originalErr = System.err;
    System.setErr(new PrintStream(stderr, true, StandardCharsets.UTF_8));
    URL config = getClass().getClassLoader().getResource("log4j2.properties");
    assertThat(config).as("the CLI's log4j2.properties").isNotNull();
    // A context of its own: the JVM's global one is configured by the test resources.
    context = new LoggerContext("cli-logging-test");
    context.start(
        ConfigurationFactory.getInstance()
            .getConfiguration(context, ConfigurationSource.fromUri(config.toURI())));
  }

  @AfterEach
  void restore() {
    context.stop();
    System.setErr(originalErr);
  }

  @Test
  void checkpointsDeclinedWhileTheJobStopsAreOneLineWithoutATrace() {
    Logger log = context.getLogger(CHECKPOINT_FAILURE_MANAGER);
    JobID job = new JobID();
    log.warn(
        FLINK_MESSAGE,
        8,
        job,
        0,
        new CheckpointException(CheckpointFailureReason.CHECKPOINT_COORDINATOR_SUSPEND));
    log.warn(
        FLINK_MESSAGE,
        10,
        job,
        0,
        new CheckpointException(
            "Task name with subtask : Source: kafka frames.camera (1/2)#0",
            CheckpointFailureReason.CHECKPOINT_DECLINED_TASK_CLOSING,
            new IllegalStateException("cause")));
    log.warn(
        FLINK_MESSAGE,
        "UNKNOWN_CHECKPOINT_ID",
        job,
        0,
        new CheckpointException(CheckpointFailureReason.PERIODIC_SCHEDULER_SHUTDOWN));

    String out = stderr.toString(StandardCharsets.UTF_8);
    assertThat(out.lines()).as(out).hasSize(1);
    assertThat(out)
        .contains("INFO")
        .contains(job.toString())
        .contains("not a failure")
        .doesNotContain("\tat ")
        .doesNotContain("Exception");
  }

  @Test
  void aRealCheckpointFailureKeepsItsWarningAndTrace() {
    Logger log = context.getLogger(CHECKPOINT_FAILURE_MANAGER);
    log.warn(
        FLINK_MESSAGE,
        3,
        new JobID(),
        1,
        new CheckpointException(CheckpointFailureReason.CHECKPOINT_EXPIRED));

    String out = stderr.toString(StandardCharsets.UTF_8);
    assertThat(out)
        .contains("WARN")
        .contains("Failed to trigger or complete checkpoint 3")
        .contains("CheckpointException")
        .contains("\tat ");
  }
}
