package io.qoiflow.cli;

import static io.qoiflow.dashboard.DashboardBrowserTest.ANSWERS;
import static io.qoiflow.dashboard.DashboardBrowserTest.DEAD;
import static io.qoiflow.dashboard.DashboardBrowserTest.RESULTS;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.qoiflow.dashboard.DashboardBrowserTest;
import io.qoiflow.local.LocalKafkaBroker;
import io.qoiflow.records.DeadLetter;
import io.qoiflow.records.FusionResult;
import io.qoiflow.schemas.KafkaClientProperties;
import io.qoiflow.schemas.Topics;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * {@code qoiflow consume} on a real broker: records written with the project's own encoders in
 * Kafka transactions, one committed and one aborted, read back through the command line. Only the
 * committed records come out, one JSON object per line, fields as in the schemas.
 */
class ConsumeCommandTest {
  private static final long T0 = 1_700_000_200_000L;
  private static final byte[] BAD_FRAME = {(byte) 0xC3, 0x01, 1, 2, 3};
  private static final ObjectMapper JSON = new ObjectMapper();

  static LocalKafkaBroker broker;

  @BeforeAll
  static void brokerWithRecords() {
    broker = LocalKafkaBroker.start();
    broker.createTopics(Topics.all(2));
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
    p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "consume-test");
    try (KafkaProducer<String, byte[]> producer =
        new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer())) {
      producer.initTransactions();
      producer.beginTransaction();
      for (int i = 0; i < 2; i++) {
        FusionResult r = DashboardBrowserTest.result(T0 + i * 100, 10 * i, -5, 0.5);
        r.setRigId("rig-" + i);
        send(producer, Topics.RESULTS_FUSION, r.getRigId(), RESULTS.encode(r));
      }
      DeadLetter dead = DashboardBrowserTest.deadLetter("bad-marker", T0);
      dead.setOriginalBytes(ByteBuffer.wrap(BAD_FRAME));
      send(producer, Topics.DEADLETTER, "rig-0", DEAD.encode(dead));
      send(producer, Topics.RESULTS_QA, "rig-0", ANSWERS.encode(DashboardBrowserTest.answer(T0)));
      // Not Avro single-object encoding: said on stderr, skipped.
      send(producer, Topics.RESULTS_FUSION, "rig-0", new byte[] {1, 2, 3});
      producer.commitTransaction();

      producer.beginTransaction();
      FusionResult aborted = DashboardBrowserTest.result(T0 + 500, 0, 0, 0.5);
      aborted.setRigId("rig-aborted");
      send(producer, Topics.RESULTS_FUSION, "rig-aborted", RESULTS.encode(aborted));
      producer.flush();
      producer.abortTransaction();
    }
  }

  @AfterAll
  static void stopBroker() {
    if (broker != null) {
      broker.close();
    }
  }

  @Test
  void printsEachCommittedResultAsOneJsonObjectAndNothingOfAnAbortedTransaction() throws Exception {
    Run run = consume("--topic", Topics.RESULTS_FUSION, "--from-beginning", "--timeout-ms", "3000");

    assertThat(run.rc).as(run.err).isZero();
    List<JsonNode> records = run.json();
    // Two partitions: each rig's records in order, no order across rigs.
    assertThat(records)
        .extracting(r -> r.get("rigId").asText())
        .containsExactlyInAnyOrder("rig-0", "rig-1");
    JsonNode first =
        records.stream().filter(r -> r.get("rigId").asText().equals("rig-0")).findFirst().get();
    assertThat(first.get("captureTime").asLong()).isEqualTo(T0);
    assertThat(first.get("yCm").asDouble()).isEqualTo(-5.0);
    assertThat(first.get("modalities")).hasSize(5);
    assertThat(first.get("modalities").get(0).get("modality").asText()).isEqualTo("CAMERA");
    assertThat(first.get("latency").get("totalMs").asDouble()).isEqualTo(4.2);
    assertThat(first.get("degradedReason").isNull()).isTrue();
    assertThat(run.err).contains("offset").contains("is not a FusionResult");
  }

  @Test
  void deadLettersCarryTheirBytesAsBase64AndMaxStopsEarly() throws Exception {
    Run dead = consume("--topic", Topics.DEADLETTER, "--from-beginning", "--max", "1");
    assertThat(dead.rc).as(dead.err).isZero();
    JsonNode letter = dead.json().get(0);
    assertThat(letter.get("reasonCode").asText()).isEqualTo("bad-marker");
    assertThat(Base64.getDecoder().decode(letter.get("originalBytes").asText()))
        .isEqualTo(BAD_FRAME);

    // Through the CLI's own argument handling: Flink-style --kafka.PROPERTY VALUE.
    Run answers =
        consume(
            "--topic",
            Topics.RESULTS_QA,
            "--from-beginning",
            "--max",
            "1",
            "--kafka.client.id",
            "consume-test");
    assertThat(answers.rc).as(answers.err).isZero();
    assertThat(answers.json())
        .singleElement()
        .satisfies(a -> assertThat(a.get("answer").asText()).isEqualTo("3"));
  }

  /**
   * A deployment's prefix, given alike to {@code topics} and {@code consume}: the prefixed topics
   * are created, the records written there are read, the standard topic is not touched.
   */
  @Test
  void topicsAndConsumeTakeTheSameTopicPrefix() throws Exception {
    TopicsCommandScramTest.cli(
        "topics", "--bootstrap", broker.bootstrapServers(), "--topic-prefix", "plant-a.");
    assertThat(broker.listTopics()).containsAll(Topics.all("plant-a.", 2).keySet());
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
    p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "consume-test-prefix");
    try (KafkaProducer<String, byte[]> producer =
        new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer())) {
      producer.initTransactions();
      producer.beginTransaction();
      FusionResult r = DashboardBrowserTest.result(T0, 1, 2, 0.5);
      r.setRigId("plant-a-rig");
      send(producer, "plant-a." + Topics.RESULTS_FUSION, r.getRigId(), RESULTS.encode(r));
      producer.commitTransaction();
    }

    Run run =
        consume(
            "--topic-prefix",
            "plant-a.",
            "--topic",
            Topics.RESULTS_FUSION,
            "--from-beginning",
            "--timeout-ms",
            "3000");
    assertThat(run.rc).as(run.err).isZero();
    assertThat(run.json()).extracting(j -> j.get("rigId").asText()).containsExactly("plant-a-rig");
  }

  @Test
  void anUnknownTopicIsAClearError() {
    Run run = consume("--topic", "results.fusionn", "--max", "1");
    assertThat(run.rc).isEqualTo(2);
    assertThat(run.err).contains("unknown topic results.fusionn").contains("results.fusion");
  }

  private static void send(KafkaProducer<String, byte[]> p, String topic, String key, byte[] v) {
    p.send(new ProducerRecord<>(topic, null, T0, key, v));
  }

  private static Run consume(String... args) {
    List<String> all =
        new ArrayList<>(List.of("consume", "--bootstrap", broker.bootstrapServers()));
    all.addAll(List.of(args));
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cli = QoiFlowCli.commandLine();
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(err, true));
    int rc = cli.execute(KafkaClientProperties.rewriteDottedArguments(all.toArray(String[]::new)));
    return new Run(rc, out.toString(), err.toString());
  }

  private record Run(int rc, String out, String err) {
    List<JsonNode> json() throws Exception {
      List<JsonNode> nodes = new ArrayList<>();
      for (String line : out.lines().toList()) {
        nodes.add(JSON.readTree(line));
      }
      return nodes;
    }
  }
}
