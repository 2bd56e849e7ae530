package io.qoiflow.dashboard;

import static org.assertj.core.api.Assertions.assertThat;

import io.qoiflow.local.LocalKafkaBroker;
import io.qoiflow.records.BudgetDecision;
import io.qoiflow.records.DeadLetter;
import io.qoiflow.records.FusionResult;
import io.qoiflow.records.LatencyBreakdown;
import io.qoiflow.records.Modality;
import io.qoiflow.records.ModalityUsage;
import io.qoiflow.records.ObjectState;
import io.qoiflow.records.QaAnswer;
import io.qoiflow.schemas.SingleObjectSerde;
import io.qoiflow.schemas.Topics;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.stream.IntStream;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * The dashboard in headless Chromium against a real broker: the page loads, then follows the
 * records produced to the topics it reads (committed ones only), and a screenshot is kept in {@code
 * target/dashboard-test/dashboard.png}. The records are the test's input, written the way the job
 * and the replay write them.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
public class DashboardBrowserTest {
  static final Duration WAIT = Duration.ofSeconds(60);
  static final Path ARTIFACTS = Path.of("target", "dashboard-test");

  static LocalKafkaBroker broker;

  @BeforeAll
  static void startBroker() {
    broker = LocalKafkaBroker.start();
    broker.createTopics(Topics.all(1));
  }

  @AfterAll
  static void stopBroker() {
    if (broker != null) {
      broker.close();
    }
  }

  @Test
  @Order(1)
  void pageLoadsAndFollowsCommittedRecords(@TempDir Path tmp) throws Exception {
    Files.createDirectories(ARTIFACTS);
    try (Dashboard dashboard = Dashboard.start(broker.bootstrapServers(), 0);
        HeadlessChromium chromium = HeadlessChromium.start(tmp, 1400, 1000);
        KafkaProducer<String, byte[]> producer = transactionalProducer()) {
      // Served without any external resource.
      String html = get(dashboard.uri());
      assertThat(html)
          .contains("dashboard.js")
          .doesNotContain("http://")
          .doesNotContain("https://");

      chromium.navigate(dashboard.uri());
      chromium.awaitText(text("conn-status"), "live", WAIT);
      assertThat(chromium.evaluate(text("budget-value"))).isEqualTo("—");
      assertThat(chromium.evaluate(text("qa-list"))).contains("no answers yet");

      producer.initTransactions();
      // An aborted transaction must never show.
      producer.beginTransaction();
      send(producer, Topics.BUDGET, "pool-0", budget(1.0, 0.9, "aborted-decision", 0), 0);
      producer.flush();
      producer.abortTransaction();

      long t0 = 1_700_000_000_000L;
      producer.beginTransaction();
      send(
          producer,
          Topics.BUDGET,
          "pool-0",
          budget(1.0, 0.5, "sustained-high-utilisation", t0),
          t0);
      for (int k = 0; k < 60; k++) {
        long t = t0 + 100L * k;
        ObjectState truth = truth(k);
        send(producer, Topics.SIM_TRUTH, "rig-0", TRUTH.encode(truth), t);
        // Off by (6, 8) cm: 10 cm from the truth.
        send(
            producer,
            Topics.RESULTS_FUSION,
            "rig-0",
            RESULTS.encode(result(t, truth.getXCm() + 6, truth.getYCm() + 8, 0.5)),
            t);
      }
      send(producer, Topics.RESULTS_QA, "rig-0", ANSWERS.encode(answer(t0)), t0);
      for (int i = 0; i < 3; i++) {
        send(producer, Topics.DEADLETTER, "", DEAD.encode(deadLetter("late", t0)), t0);
      }
      send(producer, Topics.DEADLETTER, "", DEAD.encode(deadLetter("truncated", t0)), t0);
      producer.commitTransaction();

      chromium.awaitText(text("budget-value"), "50 %", WAIT);
      chromium.awaitText(text("results-count"), "60", WAIT);
      assertThat(chromium.evaluate(text("budget-reason"))).isEqualTo("sustained-high-utilisation");
      assertThat(chromium.evaluate(text("budget-layers"))).isEqualTo("20");
      assertThat(chromium.evaluate(text("layers-camera"))).isEqualTo("6/8");
      assertThat(chromium.evaluate(text("layers-depth"))).isEqualTo("0/8");
      assertThat(chromium.evaluate(text("qoi-camera"))).isEqualTo("0.90");
      assertThat(chromium.evaluate(text("qoi-depth"))).isEqualTo("absent");
      assertThat(chromium.evaluate(text("error-cm"))).isEqualTo("10.0");
      assertThat(chromium.evaluate(text("class-acc"))).isEqualTo("100 %");
      assertThat(chromium.evaluate(text("qa-list")))
          .contains("How many objects are in the scene?")
          .contains("3");
      assertThat(chromium.evaluate(text("deadletter-late"))).isEqualTo("late3");
      assertThat(chromium.evaluate(text("deadletter-truncated"))).isEqualTo("truncated1");
      // The arena was drawn: some pixels of the canvas are not the background.
      assertThat(
              chromium.evaluate(
                  "(() => { const c = document.getElementById('arena');"
                      + " const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;"
                      + " let n = 0; for (let i = 0; i < d.length; i += 4) if (d[i] > 200) n++;"
                      + " return String(n); })()"))
          .satisfies(n -> assertThat(Integer.parseInt(n)).isGreaterThan(100));

      // Later records move the page on: the budget steps again.
      producer.beginTransaction();
      send(
          producer,
          Topics.BUDGET,
          "pool-0",
          budget(0.5, 0.33, "throttle-then-hot", t0 + 6000),
          t0 + 6000);
      producer.commitTransaction();
      chromium.awaitText(text("budget-value"), "33 %", WAIT);
      assertThat(chromium.evaluate(text("budget-reason"))).isEqualTo("throttle-then-hot");
      assertThat(dashboard.state().snapshot().toString()).doesNotContain("aborted-decision");

      Files.write(ARTIFACTS.resolve("dashboard.png"), chromium.screenshotPng());
      assertThat(Files.size(ARTIFACTS.resolve("dashboard.png"))).isGreaterThan(10_000);
    }
  }

  /**
   * Whoever can write to a topic the dashboard reads controls rig ids, answers and reasons: each is
   * shown as text, no element is made from it and no script in it runs. The job's validator refuses
   * such rig ids ({@code bad-rig-id}); the dashboard reads the topics directly, so it must not rely
   * on that.
   */
  @Test
  @Order(2) // after the page test, which counts every record on the shared broker's topics
  void hostileFieldsAreShownAsTextAndNeverRun(@TempDir Path tmp) throws Exception {
    String rig = "<img src=x onerror=window.__xss=1>";
    String answer = "<script>window.__xss=2</script><b>bold</b>";
    String reason = "<svg onload=window.__xss=3>";
    try (Dashboard dashboard = Dashboard.start(broker.bootstrapServers(), 0);
        HeadlessChromium chromium = HeadlessChromium.start(tmp, 1400, 1000);
        KafkaProducer<String, byte[]> producer = transactionalProducer("dashboard-hostile")) {
      chromium.navigate(dashboard.uri());
      chromium.awaitText(text("conn-status"), "live", WAIT);
      long t0 = 1_700_000_100_000L;
      producer.initTransactions();
      producer.beginTransaction();
      FusionResult r = result(t0, 0, 0, 1.0);
      r.setRigId(rig);
      send(producer, Topics.RESULTS_FUSION, rig, RESULTS.encode(r), t0);
      QaAnswer a = answer(t0);
      a.setRigId(rig);
      a.setAnswer(answer);
      send(producer, Topics.RESULTS_QA, rig, ANSWERS.encode(a), t0);
      send(producer, Topics.DEADLETTER, "", DEAD.encode(deadLetter(reason, t0)), t0);
      producer.commitTransaction();

      chromium.awaitText(
          "Array.from(document.querySelectorAll('#rig-table tbody td'))"
              + ".some((td) => td.textContent === '"
              + rig
              + "') ? 'yes' : ''",
          "yes",
          WAIT);
      chromium.awaitText(
          "document.getElementById('deadletters').textContent.includes('svg') ? 'yes' : ''",
          "yes",
          WAIT);
      assertThat(chromium.evaluate(text("qa-list"))).contains(rig).contains(answer);
      assertThat(chromium.evaluate(text("deadletters"))).contains(reason);
      // Nothing the records carried became an element, and no handler or script ran.
      assertThat(
              chromium.evaluate(
                  "String(document.querySelectorAll('img, svg, script:not([src]), #qa-list b')"
                      + ".length)"))
          .isEqualTo("0");
      assertThat(chromium.evaluate("String(window.__xss)")).isEqualTo("undefined");
    }
  }

  public static final SingleObjectSerde<FusionResult> RESULTS =
      SingleObjectSerde.forClass(FusionResult.class);
  public static final SingleObjectSerde<BudgetDecision> BUDGETS =
      SingleObjectSerde.forClass(BudgetDecision.class);
  public static final SingleObjectSerde<QaAnswer> ANSWERS =
      SingleObjectSerde.forClass(QaAnswer.class);
  public static final SingleObjectSerde<DeadLetter> DEAD =
      SingleObjectSerde.forClass(DeadLetter.class);
  public static final SingleObjectSerde<ObjectState> TRUTH =
      SingleObjectSerde.forClass(ObjectState.class);

  static String text(String id) {
    return "document.getElementById('"
        + id
        + "') ? document.getElementById('"
        + id
        + "').textContent : ''";
  }

  static String get(URI uri) throws Exception {
    return HttpClient.newHttpClient()
        .send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofString())
        .body();
  }

  KafkaProducer<String, byte[]> transactionalProducer() {
    return transactionalProducer("dashboard-test");
  }

  KafkaProducer<String, byte[]> transactionalProducer(String transactionalId) {
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
    p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId);
    return new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer());
  }

  static void send(KafkaProducer<String, byte[]> p, String topic, String key, byte[] v, long ts) {
    p.send(new ProducerRecord<>(topic, null, ts, key, v));
  }

  public static byte[] budget(double from, double to, String reason, long t) {
    return BUDGETS.encode(
        BudgetDecision.newBuilder()
            .setPoolId("pool-0")
            .setTime(Instant.ofEpochMilli(t))
            .setBudgetFraction(to)
            .setPreviousBudgetFraction(from)
            .setReason(reason)
            .build());
  }

  /** The target moving on a circle of 150 cm. */
  static ObjectState truth(int k) {
    double a = k * 0.08;
    return ObjectState.newBuilder()
        .setClassIndex(2)
        .setClassName("forklift")
        .setXCm(150 * Math.cos(a))
        .setYCm(150 * Math.sin(a))
        .setVxCmS(0)
        .setVyCmS(0)
        .setHeadingRad(a)
        .setStatus("moving")
        .build();
  }

  /** 20 of 40 layers: camera 6, mmwave 5, lidar 6, audio 3; depth missing. */
  public static FusionResult result(long t, double x, double y, double budget) {
    int[] layers = {6, 0, 5, 6, 3};
    float[] qoi = {0.9f, 0f, 0.7f, 0.85f, 0.4f};
    List<ModalityUsage> usage = new ArrayList<>();
    for (Modality m : Modality.values()) {
      int n = layers[m.ordinal()];
      usage.add(
          ModalityUsage.newBuilder()
              .setModality(m)
              .setPresent(m != Modality.DEPTH)
              .setLayers(IntStream.range(0, n).boxed().toList())
              .setQoi(qoi[m.ordinal()])
              .build());
    }
    return FusionResult.newBuilder()
        .setRigId("rig-0")
        .setCaptureTime(Instant.ofEpochMilli(t))
        .setXCm(x)
        .setYCm(y)
        .setCovariance(List.of(25.0, 0.0, 0.0, 25.0))
        .setClassIndex(2)
        .setClassName("forklift")
        .setClassProbabilities(List.of(0.05f, 0.05f, 0.9f))
        .setModalities(usage)
        .setBudgetFraction(budget)
        .setBudgetLayers(20)
        .setFlops(1_000_000L)
        .setModelVersion("admn-sim-v1")
        .setControllerPolicy("universal")
        .setLatency(LatencyBreakdown.newBuilder().setTotalMs(4.2).build())
        .build();
  }

  public static QaAnswer answer(long t) {
    return QaAnswer.newBuilder()
        .setQuestionId("rig-0-q0")
        .setRigId("rig-0")
        .setCaptureTime(Instant.ofEpochMilli(t))
        .setQuestion("How many objects are in the scene?")
        .setAnswer("3")
        .setModalityUsed(Modality.CAMERA)
        .setConnectedBlocks(2)
        .setFlops(1000L)
        .setModelVersion("qa")
        .setLatencyMs(12.0)
        .build();
  }

  public static DeadLetter deadLetter(String reason, long t) {
    return DeadLetter.newBuilder()
        .setSourceTopic(Topics.FRAMES_CAMERA)
        .setSourcePartition(0)
        .setSourceOffset(1)
        .setReasonCode(reason)
        .setMessage("test input")
        .setTime(Instant.ofEpochMilli(t))
        .build();
  }
}
