package io.qoiflow.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The README's first command, shortened: a real broker process, the job on a MiniCluster, the
 * default scenario's first seconds (with its injected transport faults), and the summary.
 */
class DemoCommandTest {

  @Test
  void theDemoAnswersEveryFrameSetWithinBudgetAndWritesItsSummary(@TempDir Path tmp)
      throws Exception {
    Path summary = tmp.resolve("summary.json");
    StringWriter out = new StringWriter();
    CommandLine cli = QoiFlowCli.commandLine();
    cli.setOut(new PrintWriter(out, true));
    int rc =
        cli.execute(
            "demo", "--duration", "8", "--summary", summary.toString(), "--dashboard-port", "-1");

    assertThat(rc).as(out.toString()).isZero();
    assertThat(out.toString()).contains("budget").contains("layers").contains("qoi");
    JsonNode s = new ObjectMapper().readTree(Files.readString(summary));
    long frameSets = s.get("framesets").asLong();
    assertThat(frameSets).as("8 s of 2 rigs at 10 Hz").isBetween(100L, 160L);
    assertThat(s.get("results").asLong()).as("one result per FrameSet: %s", s).isEqualTo(frameSets);
    assertThat(s.get("fused_short").asLong()).as("sets fused without a frame sent: %s", s).isZero();
    assertThat(s.get("max_layers_over_budget").asInt()).isLessThanOrEqualTo(0);
    // The scenario injects malformed and duplicate frames: they leave as dead letters. Its
    // reordering and jitter stay within the join's wait, so no frame is late.
    assertThat(s.get("deadletters").size()).isPositive();
    assertThat(s.get("deadletters").has("late")).as("%s", s).isFalse();
    assertThat(s.get("deadletters").has("future-timestamp")).as("%s", s).isFalse();
    assertThat(s.get("mean_loc_error_cm").asDouble()).isBetween(0.0, 300.0);
    assertThat(s.get("class_acc").asDouble()).isBetween(0.0, 1.0);
    assertThat(s.get("results_per_s").asDouble()).isPositive();
    assertThat(s.has("budget_changes")).isTrue();
    // Questions every 2 s per rig: each one answered, or dead-lettered with a reason.
    long questions = s.get("questions").asLong();
    JsonNode dead = s.get("deadletters");
    long unanswered =
        dead.path("unmatched-question").asLong() + dead.path("late-question").asLong();
    assertThat(questions).isPositive();
    assertThat(s.get("qa_answers").asLong()).as("%s", s).isEqualTo(questions - unanswered);
    assertThat(s.get("qa_answers").asLong()).isPositive();
  }

  /**
   * As fast as the machine allows: the scenario is stamped so that it ends now (none of its frames
   * in the future), and the job reads it as a backlog with one whole result per set.
   */
  @Test
  void atSpeedZeroEveryFrameSetGetsOneWholeResultAndNoFrameIsInTheFuture(@TempDir Path tmp)
      throws Exception {
    Path summary = tmp.resolve("summary.json");
    StringWriter out = new StringWriter();
    CommandLine cli = QoiFlowCli.commandLine();
    cli.setOut(new PrintWriter(out, true));
    int rc =
        cli.execute(
            "demo",
            "--speed",
            "0",
            "--duration",
            "10",
            "--qa-model",
            "none",
            "--summary",
            summary.toString(),
            "--dashboard-port",
            "-1");

    assertThat(rc).as(out.toString()).isZero();
    JsonNode s = new ObjectMapper().readTree(Files.readString(summary));
    long frameSets = s.get("framesets").asLong();
    assertThat(frameSets).as("10 s of 2 rigs at 10 Hz").isBetween(150L, 200L);
    assertThat(s.get("results").asLong()).as("one result per FrameSet: %s", s).isEqualTo(frameSets);
    assertThat(s.get("fused_short").asLong()).as("sets fused without a frame sent: %s", s).isZero();
    assertThat(s.get("deadletters").has("future-timestamp")).as("%s", s).isFalse();
    assertThat(s.get("deadletters").has("late")).as("%s", s).isFalse();
  }
}
