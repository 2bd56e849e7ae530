package io.qoiflow.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
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
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/** The Flink REST API calls the tests need: jar upload and run, job state, stop, metrics. */
public final class FlinkRest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final String base;
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  FlinkRest(String base) {
    this.base = base;
  }

  public String base() {
    return base;
  }

  public JsonNode get(String path) {
    return send(HttpRequest.newBuilder(URI.create(base + path)).GET());
  }

  public JsonNode post(String path, Object body) {
    try {
      return send(
          HttpRequest.newBuilder(URI.create(base + path))
              .header("Content-Type", "application/json")
              .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body))));
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
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

  /** {@code POST /jars/{id}/run}; returns the job id. */
  public String runJar(
      String jarId, String entryClass, List<String> args, int parallelism, String savepoint) {
    ObjectNode body = JSON.createObjectNode();
    body.put("entryClass", entryClass);
    body.putPOJO("programArgsList", args);
    body.put("parallelism", parallelism);
    if (savepoint != null) {
      body.put("savepointPath", savepoint);
      body.put("allowNonRestoredState", false);
    }
    return post("/jars/" + jarId + "/run", body).path("jobid").asText();
  }

  public String jobState(String jobId) {
    return get("/jobs/" + jobId).path("state").asText();
  }

  /** Waits until the job and all its tasks are RUNNING. */
  public void awaitRunning(String jobId, int seconds) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    JsonNode job = null;
    while (System.nanoTime() < deadline) {
      job = get("/jobs/" + jobId);
      String state = job.path("state").asText();
      if (Set.of("FAILED", "CANCELED", "FINISHED").contains(state)) {
        throw new IllegalStateException("job " + jobId + " is " + state + ": " + exceptions(jobId));
      }
      boolean allRunning = state.equals("RUNNING") && job.path("vertices").size() > 0;
      for (JsonNode v : job.path("vertices")) {
        allRunning &= v.path("status").asText().equals("RUNNING");
      }
      if (allRunning) {
        return;
      }
      FlinkCluster.sleep(500);
    }
    throw new IllegalStateException("job " + jobId + " not running in " + seconds + " s: " + job);
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
    return get("/jobs/" + jobId + "/checkpoints").path("counts").path("completed").asLong();
  }

  /** Waits until at least {@code n} more checkpoints than {@code since} have completed. */
  public long awaitCheckpoints(String jobId, long since, int n, int seconds) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    while (System.nanoTime() < deadline) {
      long c = completedCheckpoints(jobId);
      if (c >= since + n) {
        return c;
      }
      FlinkCluster.sleep(300);
    }
    throw new IllegalStateException("no " + n + " new checkpoints in " + seconds + " s");
  }

  /** {@code POST /jobs/{id}/stop} (stop with a savepoint); returns the savepoint's path. */
  public String stopWithSavepoint(String jobId, Path dir, int seconds) {
    ObjectNode body = JSON.createObjectNode();
    body.put("targetDirectory", dir.toUri().toString());
    body.put("drain", false);
    String trigger = post("/jobs/" + jobId + "/stop", body).path("request-id").asText();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    while (System.nanoTime() < deadline) {
      JsonNode s = get("/jobs/" + jobId + "/savepoints/" + trigger);
      if ("COMPLETED".equals(s.path("status").path("id").asText())) {
        JsonNode op = s.path("operation");
        if (op.has("failure-cause")) {
          throw new IllegalStateException("stop with savepoint failed: " + op);
        }
        return op.path("location").asText();
      }
      FlinkCluster.sleep(500);
    }
    throw new IllegalStateException("stop with savepoint did not finish in " + seconds + " s");
  }

  public void cancel(String jobId) {
    send(
        HttpRequest.newBuilder(URI.create(base + "/jobs/" + jobId + "?mode=cancel"))
            .method("PATCH", HttpRequest.BodyPublishers.noBody()));
  }

  /** The job graph's vertex ids (derived from the operators' uids). */
  public List<String> vertexIds(String jobId) {
    List<String> ids = new ArrayList<>();
    for (JsonNode v : get("/jobs/" + jobId).path("vertices")) {
      ids.add(v.path("id").asText());
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
