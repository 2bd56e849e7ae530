package io.qoiflow.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.qoiflow.engine.ModelLocator;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** {@code qoiflow eval --json} on simulator samples and the real exported model. */
class EvalCommandTest {

  @Test
  void jsonHasTheIssuesShapeAndRespectsBudgets() throws Exception {
    CommandLine cli = QoiFlowCli.commandLine();
    StringWriter out = new StringWriter();
    cli.setOut(new PrintWriter(out));
    int code =
        cli.execute(
            "eval",
            "--model",
            ModelLocator.defaultModel().toString(),
            "--samples",
            "12",
            "--seed",
            "5",
            "--corruption",
            "random",
            "--budgets",
            "25,50,100",
            "--policies",
            "naive,admn,full",
            "--batch",
            "5",
            "--json");
    assertThat(code).isZero();
    JsonNode root = new ObjectMapper().readTree(out.toString());
    assertThat(root.get("samples").asInt()).isEqualTo(12);
    assertThat(root.get("seed").asLong()).isEqualTo(5);
    assertThat(root.get("corruption").asText()).isEqualTo("random");
    assertThat(root.get("model").asText()).isNotBlank();
    JsonNode rows = root.get("rows");
    assertThat(rows).hasSize(9);
    for (JsonNode r : rows) {
      List<String> keys =
          List.of(
              "policy",
              "budget_pct",
              "budget_layers",
              "loc_error_cm",
              "class_acc",
              "max_layers_run",
              "mean_layers",
              "flops_ratio",
              "ms_per_sample");
      for (String k : keys) {
        assertThat(r.has(k)).as(k).isTrue();
      }
      assertThat(r.get("mean_layers").size()).isEqualTo(5);
      double sum = 0;
      for (JsonNode v : r.get("mean_layers")) {
        sum += v.asDouble();
      }
      int l = r.get("budget_layers").asInt();
      if (!r.get("policy").asText().equals("full")) {
        assertThat(r.get("max_layers_run").asInt()).isLessThanOrEqualTo(l);
        assertThat(sum).isLessThanOrEqualTo(l + 1e-9);
      }
      assertThat(r.get("class_acc").asDouble()).isBetween(0.0, 1.0);
      assertThat(r.get("loc_error_cm").asDouble()).isPositive();
      assertThat(r.get("flops_ratio").asDouble()).isBetween(0.0, 1.0 + 1e-9);
    }
  }

  @Test
  void aPerSampleMixRunsAndAMalformedSpecIsAClearError() {
    CommandLine cli = QoiFlowCli.commandLine();
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    cli.setOut(new PrintWriter(out));
    cli.setErr(new PrintWriter(err));
    String m = ModelLocator.defaultModel().toString();
    int ok =
        cli.execute(
            "eval",
            "--model",
            m,
            "--samples",
            "6",
            "--corruption",
            "lidar:dropout:0.6-1.0|camera:blur:0.5-1.0,depth:off|clean",
            "--budgets",
            "25",
            "--policies",
            "naive",
            "--json");
    assertThat(ok).isZero();
    assertThat(out.toString())
        .contains("lidar:dropout:0.6-1.0|camera:blur:0.5-1.0,depth:off|clean");
    int bad =
        cli.execute(
            "eval", "--model", m, "--samples", "6", "--corruption", "lidar:dropout:0.5||clean");
    assertThat(bad).isEqualTo(2);
    assertThat(err.toString()).contains("eval: ").contains("alternative 2 of 3 is empty");
  }
}
