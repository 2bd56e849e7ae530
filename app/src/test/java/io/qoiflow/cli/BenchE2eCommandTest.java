package io.qoiflow.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * {@code qoiflow bench e2e --json} on a tiny load (one rig, one budget, a second of paced input):
 * the real broker, MiniCluster and engine, and the JSON shape docs/BENCHMARKS.md quotes. Figures
 * are only checked for being measured (positive, finite), never against targets.
 */
class BenchE2eCommandTest {

  @Test
  void benchE2ePrintsEveryFigureOfTheIssue() throws Exception {
    PrintStream stdout = System.out;
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    int rc;
    try {
      System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
      rc =
          QoiFlowCli.commandLine()
              .execute(
                  "bench",
                  "e2e",
                  "--json",
                  "--rigs",
                  "1",
                  "--samples-per-rig",
                  "12",
                  "--budgets",
                  "33",
                  "--paced-seconds",
                  "1",
                  "--warmup-seconds",
                  "0",
                  "--join-frames",
                  "20000",
                  "--gemm-sizes",
                  "64",
                  "--gemm-reps",
                  "3",
                  "--chain-samples",
                  "16",
                  "--chain-rounds",
                  "1");
    } finally {
      System.setOut(stdout);
    }
    assertThat(rc).isZero();
    JsonNode root = new ObjectMapper().readTree(buf.toString(StandardCharsets.UTF_8));

    assertThat(root.get("rows")).hasSize(1);
    JsonNode row = root.get("rows").get(0);
    assertThat(row.get("budget_pct").asInt()).isEqualTo(33);
    for (String f : new String[] {"framesets_per_s", "p50_ms", "p99_ms", "cpu_ms_per_frameset"}) {
      assertThat(row.get(f).asDouble()).as(f).isPositive().isFinite();
    }
    assertThat(row.get("p99_ms").asDouble()).isGreaterThanOrEqualTo(row.get("p50_ms").asDouble());
    assertThat(row.get("results").asInt()).isEqualTo(12);
    assertThat(row.get("wrong_budget").asInt()).isZero();
    assertThat(row.path("paced").get("answered").asInt())
        .isEqualTo(row.path("paced").get("measured").asInt());
    assertThat(row.path("paced").path("where_ms").has("commit_wait")).isTrue();
    assertThat(root.get("full_depth").get("results").asInt()).isEqualTo(12);
    for (String f :
        new String[] {
          "full_depth_framesets_per_s", "join_records_per_s", "gemm_gflops", "chain_gflops_b16"
        }) {
      assertThat(root.get(f).asDouble()).as(f).isPositive().isFinite();
    }
    assertThat(root.path("join").get("framesets_out").asLong()).isEqualTo(20000 / 5);
    assertThat(root.path("targets").size()).isEqualTo(4);
  }
}
