package io.qoiflow.e2e;

import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.flink.api.common.JobID;
import org.apache.flink.api.common.JobStatus;
import org.apache.flink.client.deployment.StandaloneClusterId;
import org.apache.flink.client.program.rest.RestClusterClient;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.runtime.execution.ExecutionState;
import org.apache.flink.runtime.messages.webmonitor.ClusterOverview;
import org.apache.flink.runtime.rest.messages.EmptyRequestBody;
import org.apache.flink.runtime.rest.messages.JobMessageParameters;
import org.apache.flink.runtime.rest.messages.checkpoints.CheckpointingStatisticsHeaders;
import org.apache.flink.runtime.rest.messages.job.JobDetailsInfo;
import org.apache.flink.runtime.webmonitor.handlers.JarRunHeaders;
import org.apache.flink.runtime.webmonitor.handlers.JarRunMessageParameters;
import org.apache.flink.runtime.webmonitor.handlers.JarRunRequestBody;

/**
 * The tests' client of the standalone cluster: Flink's own {@link RestClusterClient} for job
 * submission (the jar-run endpoint, typed), state, details, checkpoints, stop-with-savepoint and
 * cancel; plain REST only for what that client has no call for (jar upload, task attempts, metrics,
 * back pressure).
 */
public final class FlinkRest implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final long CALL_TIMEOUT_S = 120;
  private final String base;
  private final RestClusterClient<StandaloneClusterId> client;
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  FlinkRest(String host, int port) {
    this.base = "http://" + host + ":" + port;
    Configuration conf = new Configuration();
    conf.set(RestOptions.ADDRESS, host);
    conf.set(RestOptions.PORT, port);
    try {
      this.client = new RestClusterClient<>(conf, StandaloneClusterId.getInstance());
    } catch (Exception e) {
      throw new IllegalStateException("REST client for " + base, e);
    }
  }

  public String base() {
    return base;
  }

  @Override
  public void close() {
    client.close();
  }

  /** The result of one client call, or the failure as an unchecked exception. */
  private static <T> T call(CompletableFuture<T> future, long seconds) {
    try {
      return future.get(seconds, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    } catch (ExecutionException | TimeoutException e) {
      throw new IllegalStateException(e);
    }
  }

  private static JobID id(String jobId) {
    return JobID.fromHexString(jobId);
  }

  public JobDetailsInfo details(String jobId) {
    return call(client.getJobDetails(id(jobId)), CALL_TIMEOUT_S);
  }

  /** TaskManagers and slots the JobManager sees. */
  public ClusterOverview overview() {
    return call(client.getClusterOverview(), CALL_TIMEOUT_S);
  }

  public JsonNode get(String path) {
    return send(HttpRequest.newBuilder(URI.create(base + path)).GET());
  }

  private JsonNode send(HttpRequest.Builder request) {
    try {
      HttpResponse<String> r =
          http.send(
              request.timeout(Duration.ofSeconds(120)).build(),
              HttpResponse.BodyHandlers.ofString());
      if (r.statusCode() / 100 != 2) {
        throw new IllegalStateException(
            r.request().method() + " " + r.uri() + " -> " + r.statusCode() + ": " + r.body());
      }
      return r.body().isBlank() ? JSON.createObjectNode() : JSON.readTree(r.body());
    } catch (IOException e) {
      throw new IllegalStateException(request.build().uri() + ": " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** {@code POST /jars/upload} (multipart, field {@code jarfile}); returns the jar id. */
  public String uploadJar(Path jar) {
    String boundary = "----qoiflow" + UUID.randomUUID();
    try {
      ByteArrayOutputStream body = new ByteArrayOutputStream();
      body.write(
          ("--"
                  + boundary
                  + "\r\nContent-Disposition: form-data; name=\"jarfile\"; filename=\""
                  + jar.getFileName()
                  + "\"\r\nContent-Type: application/x-java-archive\r\n\r\n")
              .getBytes(StandardCharsets.UTF_8));
      body.write(Files.readAllBytes(jar));
      body.write(("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8));
      JsonNode r =
          send(
              HttpRequest.newBuilder(URI.create(base + "/jars/upload"))
                  .header("Content-Type", "multipart/form-data; boundary=" + boundary)
                  .POST(HttpRequest.BodyPublishers.ofByteArray(body.toByteArray())));
      if (!"success".equals(r.path("status").asText())) {
        throw new IllegalStateException("jar upload failed: " + r);
      }
      return Path.of(r.path("filename").asText()).getFileName().toString();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Runs an uploaded jar ({@code POST /jars/{id}/run}); returns the job id. */
  public String runJar(
      String jarId, String entryClass, List<String> args, int parallelism, String savepoint) {
    JarRunMessageParameters params = JarRunHeaders.getInstance().getUnresolvedMessageParameters();
    params.jarIdPathParameter.resolve(jarId);
    JarRunRequestBody body =
        new JarRunRequestBody(
            entryClass,
            args,
            parallelism,
            null,
            savepoint == null ? null : false,
            savepoint,
            null,
            null);
    return call(client.sendRequest(JarRunHeaders.getInstance(), params, body), CALL_TIMEOUT_S)
        .getJobId()
        .toHexString();
  }

  public String jobState(String jobId) {
    return call(client.getJobStatus(id(jobId)), CALL_TIMEOUT_S).name();
  }

  /** Waits until the job and all its tasks are RUNNING; fails at once if the job ended. */
  public void awaitRunning(String jobId, int seconds) {
    await("job " + jobId + " and all its tasks running")
        .atMost(Duration.ofSeconds(seconds))
        .pollInterval(Duration.ofMillis(500))
        .until(
            () -> {
              JobDetailsInfo job = details(jobId);
              if (job.getJobStatus().isGloballyTerminalState()) {
                throw new IllegalStateException(
                    "job " + jobId + " is " + job.getJobStatus() + ": " + exceptions(jobId));
              }
              return job.getJobStatus() == JobStatus.RUNNING
                  && !job.getJobVertexInfos().isEmpty()
                  && job.getJobVertexInfos().stream()
                      .allMatch(v -> v.getExecutionState() == ExecutionState.RUNNING);
            });
  }

  public String exceptions(String jobId) {
    try {
      return get("/jobs/" + jobId + "/exceptions").toString();
    } catch (RuntimeException e) {
      return "(no exceptions: " + e.getMessage() + ")";
    }
  }

  /** A job-level metric ({@code numRestarts}, ...), or -1 if not reported yet. */
  public long jobMetric(String jobId, String metric) {
    JsonNode r = get("/jobs/" + jobId + "/metrics?get=" + metric);
    for (JsonNode m : r) {
      if (metric.equals(m.path("id").asText())) {
        return (long) Double.parseDouble(m.path("value").asText());
      }
    }
    return -1;
  }

  /**
   * The newest execution attempt of the job's tasks (0 before any failure): it grows with every
   * restart and, unlike the {@code numRestarts} metric, is not cached by the metric fetcher.
   */
  public int attempt(String jobId) {
    int max = 0;
    for (JsonNode v : get("/jobs/" + jobId).path("vertices")) {
      for (JsonNode t :
          get("/jobs/" + jobId + "/vertices/" + v.path("id").asText()).path("subtasks")) {
        max = Math.max(max, t.path("attempt").asInt());
      }
      break;
    }
    return max;
  }

  /** Completed checkpoints of the job. */
  public long completedCheckpoints(String jobId) {
    JobMessageParameters params =
        CheckpointingStatisticsHeaders.getInstance().getUnresolvedMessageParameters();
    params.jobPathParameter.resolve(id(jobId));
    return call(
            client.sendRequest(
                CheckpointingStatisticsHeaders.getInstance(),
                params,
                EmptyRequestBody.getInstance()),
            CALL_TIMEOUT_S)
        .getCounts()
        .getNumberCompletedCheckpoints();
  }

  /** Waits until at least {@code n} more checkpoints than {@code since} have completed. */
  public long awaitCheckpoints(String jobId, long since, int n, int seconds) {
    return await(n + " new checkpoints of job " + jobId)
        .atMost(Duration.ofSeconds(seconds))
        .pollInterval(Duration.ofMillis(300))
        .until(() -> completedCheckpoints(jobId), c -> c >= since + n);
  }

  /** Stops the job with a savepoint (no drain); returns the savepoint's path. */
  public String stopWithSavepoint(String jobId, Path dir, int seconds) {
    return call(
        client.stopWithSavepoint(
            id(jobId), false, dir.toUri().toString(), SavepointFormatType.CANONICAL),
        seconds);
  }

  public void cancel(String jobId) {
    call(client.cancel(id(jobId)), CALL_TIMEOUT_S);
  }

  /** The job graph's vertex ids (derived from the operators' uids). */
  public List<String> vertexIds(String jobId) {
    List<String> ids = new ArrayList<>();
    for (JobDetailsInfo.JobVertexDetailsInfo v : details(jobId).getJobVertexInfos()) {
      ids.add(v.getJobVertexID().toHexString());
    }
    ids.sort(String::compareTo);
    return ids;
  }

  /** Back-pressure ratio (0..1) per vertex name, the highest over its subtasks. */
  public java.util.Map<String, Double> backPressure(String jobId) {
    java.util.Map<String, Double> out = new java.util.TreeMap<>();
    for (JsonNode v : get("/jobs/" + jobId).path("vertices")) {
      JsonNode bp = get("/jobs/" + jobId + "/vertices/" + v.path("id").asText() + "/backpressure");
      double max = 0;
      for (JsonNode s : bp.path("subtasks")) {
        max = Math.max(max, s.path("backpressured-ratio").asDouble(s.path("ratio").asDouble()));
      }
      out.put(v.path("name").asText(), max);
    }
    return out;
  }
}
