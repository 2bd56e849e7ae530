package io.qoiflow.ops;

import static org.assertj.core.api.Assertions.assertThat;

import io.qoiflow.operators.deadletter.Outcome;
import io.qoiflow.operators.functions.DeadLetterSplitter;
import io.qoiflow.operators.functions.ResultRouter;
import io.qoiflow.records.DeadLetter;
import io.qoiflow.records.FusionResult;
import io.qoiflow.records.LatencyBreakdown;
import io.qoiflow.records.Modality;
import io.qoiflow.records.ModalityUsage;
import io.qoiflow.records.SensorFrame;
import io.qoiflow.topology.JobEnvironment;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.formats.avro.typeutils.AvroTypeInfo;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The job's own metrics as Prometheus sees them (docs/METRICS.md): the real operators on a
 * MiniCluster with the Prometheus reporter configured as in docker-compose.yml, scraped over HTTP
 * while the job runs.
 */
class PrometheusMetricsTest {
  static final int PORT = freePort();

  @RegisterExtension
  static final MiniClusterExtension CLUSTER =
      new MiniClusterExtension(
          new MiniClusterResourceConfiguration.Builder()
              .setConfiguration(reporterConfiguration())
              .setNumberTaskManagers(1)
              .setNumberSlotsPerTaskManager(2)
              .build());

  static Configuration reporterConfiguration() {
    Configuration c = new Configuration();
    c.setString(
        "metrics.reporter.prom.factory.class",
        "org.apache.flink.metrics.prometheus.PrometheusReporterFactory");
    c.setString("metrics.reporter.prom.port", String.valueOf(PORT));
    return c;
  }

  @Test
  void theDocumentedNamesAndLabelsAreExported() throws Exception {
    StreamExecutionEnvironment env =
        StreamExecutionEnvironment.getExecutionEnvironment(JobEnvironment.jobConfiguration());
    env.setParallelism(1);
    // A result, then an inference timeout, through the job's result router...
    env.fromData(
            List.of(
                Outcome.ok(result()), Outcome.<FusionResult>rejected(dead("inference-timeout"))),
            Outcome.typeInfo(FusionResult.class))
        .process(new ResultRouter("pool-0", 60_000), new AvroTypeInfo<>(FusionResult.class))
        .name("route results")
        .uid("route-results")
        .getSideOutput(ResultRouter.DEAD_LETTERS)
        .map(new HoldOpen<>())
        .returns(new AvroTypeInfo<>(DeadLetter.class))
        .sinkTo(new DiscardingSink<>());
    // ... and a malformed frame through the frame validator.
    env.fromData(
            List.of(Outcome.<SensorFrame>rejected(dead("bad-marker"))),
            Outcome.typeInfo(SensorFrame.class))
        .process(new DeadLetterSplitter<SensorFrame>(), new AvroTypeInfo<>(SensorFrame.class))
        .name("validate frames")
        .uid("validate-frames")
        .getSideOutput(DeadLetterSplitter.DEAD_LETTERS)
        .map(new HoldOpen<>())
        .returns(new AvroTypeInfo<>(DeadLetter.class))
        .sinkTo(new DiscardingSink<>());
    JobClient job = env.executeAsync("metrics-test");
    try {
      String operator = "flink_taskmanager_job_task_operator_";
      List<String> expected =
          List.of(
              operator + "budgetFraction{",
              operator + "inferenceLatencyUs{",
              operator + "inferenceLatencyUs_count{",
              operator + "modality_layers{",
              operator + "modality_qoi{",
              operator + "budgetPercent_results{",
              "reason=\"inference_timeout\"",
              "reason=\"bad_marker\"",
              "operator_name=\"route_results\"",
              "operator_name=\"validate_frames\"",
              "job_name=\"metrics_test\"");
      String body = scrapeUntil(expected, 60_000);
      assertThat(body).contains(expected);
      // Modalities, reasons and budgets are labels of one series name each.
      assertThat(line(body, operator + "modality_layers{", "modality=\"camera\"")).endsWith(" 6.0");
      assertThat(line(body, operator + "modality_layers{", "modality=\"audio\"")).endsWith(" 1.0");
      assertThat(line(body, operator + "modality_qoi{", "modality=\"lidar\"")).contains(" 0.8");
      assertThat(line(body, operator + "budgetFraction{", "route_results")).endsWith(" 0.5");
      assertThat(line(body, operator + "budgetPercent_results{", "budgetPercent=\"50\""))
          .endsWith(" 1.0");
      assertThat(line(body, operator + "reason_deadLetters{", "reason=\"bad_marker\""))
          .contains("operator_name=\"validate_frames\"")
          .endsWith(" 1.0");
      assertThat(line(body, operator + "reason_deadLetters{", "reason=\"inference_timeout\""))
          .contains("operator_name=\"route_results\"")
          .endsWith(" 1.0");
      // Latency is a histogram: its quantiles (a summary in Prometheus) and count. One result
      // of 3.5 ms: every quantile is 3500 us.
      for (String q : List.of("0.5", "0.95", "0.99")) {
        assertThat(line(body, operator + "inferenceLatencyUs{", "quantile=\"" + q + "\""))
            .as("p%s", q)
            .endsWith(" 3500.0");
      }
      assertThat(line(body, operator + "inferenceLatencyUs_count{", "route_results"))
          .endsWith(" 1.0");
      System.out.println("metrics-test: the job's series as scraped:");
      body.lines()
          .filter(
              l ->
                  l.matches(
                      operator
                          + "(budgetFraction|inferenceLatencyUs|modality_|budgetPercent_"
                          + "|reason_).*"))
          .forEach(l -> System.out.println("  " + l));
    } finally {
      job.cancel().get(30, TimeUnit.SECONDS);
    }
  }

  /** Blocks on its first record so the job (and its metrics) stay up until cancelled. */
  static final class HoldOpen<T> implements MapFunction<T, T> {
    @Override
    public T map(T value) throws Exception {
      while (true) {
        Thread.sleep(1_000);
      }
    }
  }

  static String scrapeUntil(List<String> expected, long timeoutMs) throws Exception {
    HttpClient http = HttpClient.newHttpClient();
    long deadline = System.currentTimeMillis() + timeoutMs;
    String body = "";
    while (System.currentTimeMillis() < deadline) {
      try {
        body =
            http.send(
                    HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + PORT + "/metrics"))
                        .build(),
                    HttpResponse.BodyHandlers.ofString())
                .body();
        String b = body;
        if (expected.stream().allMatch(b::contains)) {
          return body;
        }
      } catch (IOException e) {
        // Not listening yet.
      }
      Thread.sleep(500);
    }
    return body;
  }

  static String line(String body, String prefix, String containing) {
    return body.lines()
        .filter(l -> l.startsWith(prefix) && l.contains(containing))
        .findFirst()
        .orElse("")
        .trim();
  }

  static int freePort() {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  static DeadLetter dead(String reason) {
    return DeadLetter.newBuilder()
        .setSourceTopic("")
        .setSourcePartition(-1)
        .setSourceOffset(-1)
        .setReasonCode(reason)
        .setMessage("test input")
        .setTime(Instant.ofEpochMilli(1))
        .build();
  }

  static FusionResult result() {
    List<ModalityUsage> usage = new ArrayList<>();
    for (Modality m : Modality.values()) {
      usage.add(
          ModalityUsage.newBuilder()
              .setModality(m)
              .setPresent(true)
              .setLayers(IntStream.range(0, m == Modality.CAMERA ? 6 : 1).boxed().toList())
              .setQoi(m == Modality.LIDAR ? 0.8f : 0.5f)
              .build());
    }
    return FusionResult.newBuilder()
        .setRigId("rig-0")
        .setCaptureTime(Instant.ofEpochMilli(1))
        .setXCm(0)
        .setYCm(0)
        .setCovariance(List.of(1.0, 0.0, 0.0, 1.0))
        .setClassIndex(0)
        .setClassName("a")
        .setClassProbabilities(List.of(1.0f))
        .setModalities(usage)
        .setBudgetFraction(0.5)
        .setBudgetLayers(20)
        .setFlops(1L)
        .setModelVersion("m")
        .setLatency(LatencyBreakdown.newBuilder().setTotalMs(3.5).build())
        .build();
  }
}
