package io.qoiflow.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.qoiflow.engine.ModelLocator;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** {@code qoiflow eval-qa --json} on simulator samples with the committed QA and ADMN models. */
class EvalQaCommandTest {

  private static JsonNode run(String corruption) throws Exception {
    return run(corruption, "1,8");
  }

  private static JsonNode run(String corruption, String ns) throws Exception {
    CommandLine cli = QoiFlowCli.commandLine();
    StringWriter out = new StringWriter();
    cli.setOut(new PrintWriter(out));
    int code =
        cli.execute(
            "eval-qa",
            "--model",
            ModelLocator.defaultQaModel().orElseThrow().toString(),
            "--samples",
            "6",
            "--seed",
            "3",
            "--corruption",
            corruption,
            "--ns",
            ns,
            "--json");
    assertThat(code).isZero();
    return new ObjectMapper().readTree(out.toString());
  }

  @Test
  void jsonHasTheIssuesShapeAndTheQoiPolicyFollowsTheCamera() throws Exception {
    JsonNode night = run("camera:lowlight:0.9");
    List<String> keys = new ArrayList<>();
    for (JsonNode r : night.get("rows")) {
      keys.add(r.get("policy").asText() + r.get("n").asInt() + r.get("question_type").asText());
      double em = r.get("exact_match").asDouble();
      assertThat(em).isBetween(0.0, 1.0);
    }
    assertThat(keys).hasSize(3 * 2 * 5).doesNotHaveDuplicates();
    assertThat(night.get("default_n").asInt()).isEqualTo(8);
    for (String p : List.of("camera", "lidar", "qoi")) {
      assertThat(night.get("overall").get(p).asDouble()).isBetween(0.0, 1.0);
    }
    JsonNode train = night.get("train_flops_by_n");
    assertThat(train.size()).isEqualTo(8);
    for (int n = 2; n <= 8; n++) {
      assertThat(train.get(Integer.toString(n)).asLong())
          .isGreaterThan(train.get(Integer.toString(n - 1)).asLong());
    }
    // At night the camera QoI sends every question to LiDAR: qoi is the lidar policy.
    assertThat(night.get("qoi_lidar_share").asDouble()).isEqualTo(1.0);
    assertThat(night.get("overall").get("qoi").asDouble())
        .isEqualTo(night.get("overall").get("lidar").asDouble());

    // The prior is tallied apart from the policies (one N = 0 answer per question), so it must
    // equal every policy at N = 0, where all blocks are disconnected.
    JsonNode text = run("clean", "0");
    double prior = text.get("prior").get("overall").asDouble();
    assertThat(prior).isBetween(0.0, 1.0);
    for (String p : List.of("camera", "lidar", "qoi")) {
      assertThat(text.get("overall_by_n").get(p).get("0").asDouble()).isEqualTo(prior);
      assertThat(text.get("one_frame_by_n").get(p).get("0").asDouble())
          .isEqualTo(text.get("prior").get("one_frame").asDouble());
      assertThat(night.get("overall_ci95").get(p).asDouble()).isBetween(0.0, 0.5);
      assertThat(night.get("one_frame").get(p).asDouble()).isBetween(0.0, 1.0);
    }
    assertThat(text.get("prior").get("by_type").size()).isEqualTo(5);

    JsonNode day = run("clean");
    assertThat(day.get("qoi_lidar_share").asDouble()).isEqualTo(0.0);
    assertThat(day.get("overall").get("qoi").asDouble())
        .isEqualTo(day.get("overall").get("camera").asDouble());
  }
}
