package io.qoiflow.dashboard;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Debian's Chromium, headless, driven over the DevTools protocol with the JDK's WebSocket client
 * (no WebDriver, no extra dependency). When Chromium is missing and the build runs as root (a fresh
 * CI machine), it is installed with apt-get; otherwise the test fails and says how to install it.
 */
final class HeadlessChromium implements AutoCloseable {
  static final Path EXECUTABLE = Path.of("/usr/bin/chromium");
  private static final ObjectMapper JSON = new ObjectMapper();

  private final Process process;
  private final WebSocket socket;
  private final AtomicInteger ids = new AtomicInteger();
  // Calls waiting for their answer, shared with the socket's listener.
  private final Map<Integer, CompletableFuture<JsonNode>> pending;

  private HeadlessChromium(
      Process process, WebSocket socket, Map<Integer, CompletableFuture<JsonNode>> pending) {
    this.process = process;
    this.socket = socket;
    this.pending = pending;
  }

  /** Chromium's path, installing Debian's package first when it is missing and we are root. */
  static synchronized Path executable() throws IOException, InterruptedException {
    if (Files.isExecutable(EXECUTABLE)) {
      return EXECUTABLE;
    }
    boolean root = "root".equals(System.getProperty("user.name"));
    if (!root || !Files.isExecutable(Path.of("/usr/bin/apt-get"))) {
      throw new IllegalStateException(
          "the dashboard test needs Debian's chromium: apt-get install -y chromium");
    }
    run(List.of("apt-get", "update", "-q"), 600);
    run(List.of("apt-get", "install", "-y", "-q", "--no-install-recommends", "chromium"), 900);
    if (!Files.isExecutable(EXECUTABLE)) {
      throw new IllegalStateException("apt-get install chromium did not provide " + EXECUTABLE);
    }
    return EXECUTABLE;
  }

  private static void run(List<String> cmd, long timeoutS)
      throws IOException, InterruptedException {
    Process p =
        new ProcessBuilder(cmd)
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.DISCARD)
            .start();
    p.getOutputStream().close();
    if (!p.waitFor(timeoutS, TimeUnit.SECONDS) || p.exitValue() != 0) {
      p.destroyForcibly();
      throw new IllegalStateException(String.join(" ", cmd) + " failed");
    }
  }

  static HeadlessChromium start(Path workDir, int width, int height) throws Exception {
    Path profile = Files.createDirectories(workDir.resolve("chromium-profile"));
    List<String> cmd = new ArrayList<>();
    cmd.add(executable().toString());
    cmd.addAll(
        List.of(
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--remote-debugging-port=0",
            "--remote-allow-origins=*",
            "--user-data-dir=" + profile,
            "--window-size=" + width + "," + height,
            "about:blank"));
    Process p =
        new ProcessBuilder(cmd)
            .redirectErrorStream(true)
            .redirectOutput(workDir.resolve("chromium.log").toFile())
            .start();
    Path portFile = profile.resolve("DevToolsActivePort");
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (!Files.exists(portFile) || Files.readAllLines(portFile).isEmpty()) {
      if (!p.isAlive() || System.nanoTime() > deadline) {
        p.destroyForcibly();
        throw new IllegalStateException(
            "chromium did not start:\n" + Files.readString(workDir.resolve("chromium.log")));
      }
      Thread.sleep(100);
    }
    int port = Integer.parseInt(Files.readAllLines(portFile).get(0).trim());
    HttpClient http = HttpClient.newHttpClient();
    JsonNode targets =
        JSON.readTree(
            http.send(
                    HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/json/list"))
                        .build(),
                    HttpResponse.BodyHandlers.ofString())
                .body());
    String wsUrl = null;
    for (JsonNode t : targets) {
      if (t.path("type").asText().equals("page")) {
        wsUrl = t.path("webSocketDebuggerUrl").asText();
        break;
      }
    }
    if (wsUrl == null) {
      p.destroyForcibly();
      throw new IllegalStateException("no page target in " + targets);
    }
    Map<Integer, CompletableFuture<JsonNode>> pending = new ConcurrentHashMap<>();
    WebSocket ws =
        http.newWebSocketBuilder()
            .buildAsync(URI.create(wsUrl), new Listener(pending))
            .get(30, TimeUnit.SECONDS);
    return new HeadlessChromium(p, ws, pending);
  }

  private static final class Listener implements WebSocket.Listener {
    private final Map<Integer, CompletableFuture<JsonNode>> pending;
    private final StringBuilder buffer = new StringBuilder();

    Listener(Map<Integer, CompletableFuture<JsonNode>> pending) {
      this.pending = pending;
    }

    @Override
    public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
      buffer.append(data);
      if (last) {
        try {
          JsonNode msg = JSON.readTree(buffer.toString());
          if (msg.has("id")) {
            CompletableFuture<JsonNode> f = pending.remove(msg.get("id").asInt());
            if (f != null) {
              if (msg.has("error")) {
                f.completeExceptionally(new IllegalStateException(msg.get("error").toString()));
              } else {
                f.complete(msg.path("result"));
              }
            }
          }
        } catch (IOException e) {
          // Not ours to handle: events we do not wait for.
        }
        buffer.setLength(0);
      }
      ws.request(1);
      return null;
    }
  }

  JsonNode call(String method, ObjectNode params) throws Exception {
    int id = ids.incrementAndGet();
    CompletableFuture<JsonNode> f = new CompletableFuture<>();
    pending.put(id, f);
    ObjectNode msg = JSON.createObjectNode();
    msg.put("id", id);
    msg.put("method", method);
    msg.set("params", params == null ? JSON.createObjectNode() : params);
    socket.sendText(msg.toString(), true).get(10, TimeUnit.SECONDS);
    return f.get(30, TimeUnit.SECONDS);
  }

  void navigate(URI uri) throws Exception {
    ObjectNode p = JSON.createObjectNode();
    p.put("url", uri.toString());
    call("Page.navigate", p);
  }

  /** The value of a JavaScript expression in the page, as a string. */
  String evaluate(String expression) throws Exception {
    ObjectNode p = JSON.createObjectNode();
    p.put("expression", expression);
    p.put("returnByValue", true);
    JsonNode r = call("Runtime.evaluate", p);
    return r.path("result").path("value").asText();
  }

  /** {@link #evaluate} until {@code expected} is part of the value, or fail with the last one. */
  String awaitText(String expression, String expected, Duration timeout) throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    String last = evaluate(expression);
    while (!last.contains(expected)) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError(
            "expected '" + expected + "' in " + expression + ", last value '" + last + "'");
      }
      Thread.sleep(100);
      last = evaluate(expression);
    }
    return last;
  }

  byte[] screenshotPng() throws Exception {
    ObjectNode p = JSON.createObjectNode();
    p.put("format", "png");
    return Base64.getDecoder().decode(call("Page.captureScreenshot", p).path("data").asText());
  }

  @Override
  public void close() {
    socket.abort();
    process.destroy();
    try {
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        process.destroyForcibly();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.destroyForcibly();
    }
  }
}
