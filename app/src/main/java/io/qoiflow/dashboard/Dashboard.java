package io.qoiflow.dashboard;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.qoiflow.records.BudgetDecision;
import io.qoiflow.records.DeadLetter;
import io.qoiflow.records.FusionResult;
import io.qoiflow.records.ObjectState;
import io.qoiflow.records.QaAnswer;
import io.qoiflow.schemas.KafkaClientProperties;
import io.qoiflow.schemas.SingleObjectSerde;
import io.qoiflow.schemas.Topics;
import io.qoiflow.schemas.WireFormatException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * The live dashboard: a Kafka consumer (read_committed) of results, budget decisions, answers, dead
 * letters and the simulator's truth folds them into a {@link DashboardState}; an HTTP server serves
 * the page (static resources under {@code /dashboard/}, no external CDN) and pushes the state to it
 * as server-sent events. {@link #start} returns it running; {@link #close} stops both.
 */
public final class Dashboard implements AutoCloseable {
  /** Topics the dashboard reads. */
  public static final List<String> TOPICS =
      List.of(
          Topics.RESULTS_FUSION,
          Topics.BUDGET,
          Topics.RESULTS_QA,
          Topics.DEADLETTER,
          Topics.SIM_TRUTH);

  /** On (re)assignment, read back at most this many records per partition, then follow. */
  static final long BACKLOG_PER_PARTITION = 500;

  static final long PUSH_INTERVAL_MS = 250;

  private static final Map<String, String> STATIC =
      Map.of(
          "/", "index.html",
          "/index.html", "index.html",
          "/dashboard.js", "dashboard.js",
          "/dashboard.css", "dashboard.css");

  private final DashboardState state = new DashboardState();
  private final HttpServer server;
  private final ExecutorService http;
  private final Thread consumerThread;
  private final KafkaConsumer<String, byte[]> consumer;
  private final AtomicBoolean closed = new AtomicBoolean();
  private final URI uri;
  private final String topicPrefix;

  private Dashboard(KafkaClientProperties kafka, String topicPrefix, String bindAddress, int port)
      throws IOException {
    this.topicPrefix = topicPrefix;
    consumer = new KafkaConsumer<>(consumerProps(kafka));
    server = HttpServer.create(new InetSocketAddress(bindAddress, port), 16);
    // Each open page holds one thread for its event stream.
    http =
        Executors.newCachedThreadPool(
            r -> {
              Thread t = new Thread(r, "dashboard-http");
              t.setDaemon(true);
              return t;
            });
    server.setExecutor(http);
    server.createContext("/", this::serveStatic);
    server.createContext("/state", this::serveState);
    server.createContext("/events", this::serveEvents);
    String host = bindAddress.equals("0.0.0.0") ? "127.0.0.1" : bindAddress;
    uri = URI.create("http://" + host + ":" + server.getAddress().getPort() + "/");
    consumerThread = new Thread(this::consume, "dashboard-consumer");
    consumerThread.setDaemon(true);
  }

  /** Starts a dashboard on loopback; {@code port} 0 picks a free one (see {@link #uri()}). */
  public static Dashboard start(String bootstrap, int port) {
    return start(bootstrap, "127.0.0.1", port);
  }

  public static Dashboard start(String bootstrap, String bindAddress, int port) {
    return start(KafkaClientProperties.bootstrap(bootstrap), "", bindAddress, port);
  }

  /**
   * Reads with {@code kafka}'s client properties (security, SASL, SSL) over its own, the topics
   * named under {@code topicPrefix} ("" for the standard names).
   */
  public static Dashboard start(
      KafkaClientProperties kafka, String topicPrefix, String bindAddress, int port) {
    try {
      Dashboard d = new Dashboard(kafka, topicPrefix, bindAddress, port);
      d.server.start();
      d.consumerThread.start();
      return d;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The page's address. */
  public URI uri() {
    return uri;
  }

  public DashboardState state() {
    return state;
  }

  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    consumer.wakeup();
    server.stop(0);
    http.shutdownNow();
    try {
      consumerThread.join(10_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  static Properties consumerProps(KafkaClientProperties kafka) {
    Map<String, Object> p = new HashMap<>();
    // Its own group: every dashboard sees everything; nothing is committed.
    p.put(ConsumerConfig.GROUP_ID_CONFIG, "qoiflow-dashboard-" + UUID.randomUUID());
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
    p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    // New topics (created after the dashboard started) are found within a few seconds.
    p.put(ConsumerConfig.METADATA_MAX_AGE_CONFIG, 3_000);
    return kafka.over(p);
  }

  private void consume() {
    SingleObjectSerde<FusionResult> results = SingleObjectSerde.forClass(FusionResult.class);
    SingleObjectSerde<BudgetDecision> budgets = SingleObjectSerde.forClass(BudgetDecision.class);
    SingleObjectSerde<QaAnswer> answers = SingleObjectSerde.forClass(QaAnswer.class);
    SingleObjectSerde<DeadLetter> deadLetters = SingleObjectSerde.forClass(DeadLetter.class);
    SingleObjectSerde<ObjectState> truth = SingleObjectSerde.forClass(ObjectState.class);
    try {
      consumer.subscribe(
          TOPICS.stream().map(t -> Topics.prefixed(topicPrefix, t)).toList(),
          new ConsumerRebalanceListener() {
            @Override
            public void onPartitionsRevoked(Collection<TopicPartition> partitions) {}

            @Override
            public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
              Map<TopicPartition, Long> begin = consumer.beginningOffsets(partitions);
              Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
              for (TopicPartition tp : partitions) {
                consumer.seek(tp, Math.max(begin.get(tp), end.get(tp) - BACKLOG_PER_PARTITION));
              }
            }
          });
      while (!closed.get()) {
        for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(200))) {
          if (r.value() == null) {
            continue;
          }
          try {
            switch (Topics.standard(topicPrefix, r.topic())) {
              case Topics.RESULTS_FUSION -> state.onFusion(results.decode(r.value()));
              case Topics.BUDGET -> state.onBudget(budgets.decode(r.value()));
              case Topics.RESULTS_QA -> state.onAnswer(answers.decode(r.value()));
              case Topics.DEADLETTER -> state.onDeadLetter(deadLetters.decode(r.value()));
              case Topics.SIM_TRUTH ->
                  state.onTruth(String.valueOf(r.key()), r.timestamp(), truth.decode(r.value()));
              default -> {}
            }
          } catch (WireFormatException | RuntimeException e) {
            state.onUndecodable(r.topic());
          }
        }
      }
    } catch (WakeupException e) {
      // close()
    } finally {
      consumer.close(Duration.ofSeconds(2));
    }
  }

  private void serveStatic(HttpExchange ex) throws IOException {
    String name = STATIC.get(ex.getRequestURI().getPath());
    try (ex) {
      if (name == null) {
        ex.sendResponseHeaders(404, -1);
        return;
      }
      byte[] body;
      try (InputStream in = Dashboard.class.getResourceAsStream("/dashboard/" + name)) {
        body = in.readAllBytes();
      }
      String type =
          name.endsWith(".html")
              ? "text/html"
              : name.endsWith(".js") ? "text/javascript" : "text/css";
      ex.getResponseHeaders().set("Content-Type", type + "; charset=utf-8");
      // Defence in depth behind the page's text-only rendering: no inline or foreign script runs.
      ex.getResponseHeaders()
          .set(
              "Content-Security-Policy",
              "default-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'");
      ex.getResponseHeaders().set("X-Content-Type-Options", "nosniff");
      ex.sendResponseHeaders(200, body.length);
      ex.getResponseBody().write(body);
    }
  }

  private void serveState(HttpExchange ex) throws IOException {
    byte[] body = state.snapshot().toString().getBytes(StandardCharsets.UTF_8);
    try (ex) {
      ex.getResponseHeaders().set("Content-Type", "application/json");
      ex.sendResponseHeaders(200, body.length);
      ex.getResponseBody().write(body);
    }
  }

  /** Server-sent events: the whole state whenever it changed, at most every 250 ms. */
  private void serveEvents(HttpExchange ex) throws IOException {
    ex.getResponseHeaders().set("Content-Type", "text/event-stream");
    ex.getResponseHeaders().set("Cache-Control", "no-cache");
    ex.sendResponseHeaders(200, 0);
    long sent = -1;
    try (ex;
        OutputStream out = ex.getResponseBody()) {
      long lastWrite = 0;
      while (!closed.get()) {
        long v = state.version();
        long now = System.currentTimeMillis();
        if (v != sent) {
          out.write(("data: " + state.snapshot() + "\n\n").getBytes(StandardCharsets.UTF_8));
          out.flush();
          sent = v;
          lastWrite = now;
        } else if (now - lastWrite > 15_000) {
          out.write(": keep-alive\n\n".getBytes(StandardCharsets.UTF_8));
          out.flush();
          lastWrite = now;
        }
        Thread.sleep(PUSH_INTERVAL_MS);
      }
    } catch (IOException | InterruptedException e) {
      // The page went away or the dashboard closes.
    }
  }
}
