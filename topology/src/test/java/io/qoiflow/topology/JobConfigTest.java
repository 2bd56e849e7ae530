package io.qoiflow.topology;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Job arguments: every documented key is read; any other key fails before the job is built. */
class JobConfigTest {
  static final List<String> REQUIRED = List.of("--bootstrap", "localhost:9092", "--model", "m");

  static String[] args(String... more) {
    List<String> all = new ArrayList<>(REQUIRED);
    all.addAll(List.of(more));
    return all.toArray(String[]::new);
  }

  @Test
  void misspelledArgumentFailsWithTheValidList() {
    assertThatThrownBy(() -> JobConfig.fromArgs(args("--checkpoint-intervall-ms", "100")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("unknown job argument --checkpoint-intervall-ms;")
        .hasMessageContaining("valid: ")
        .hasMessageContaining("--checkpoint-interval-ms")
        .hasMessageContaining("--bootstrap");
  }

  @Test
  void everyUnknownKeyIsNamed() {
    assertThatThrownBy(() -> JobConfig.fromArgs(args("--polcy", "full", "--max-bacth", "8")))
        .hasMessageContaining("unknown job arguments --max-bacth, --polcy;");
  }

  @Test
  void everyDocumentedKeyIsRead(@TempDir Path tmp) throws Exception {
    Path clientProperties = Files.writeString(tmp.resolve("client.properties"), "client.id=c\n");
    List<String> all = new ArrayList<>();
    for (String key : JobConfig.validKeys()) {
      all.add("--" + key);
      all.add(
          switch (key) {
            case "bounded" -> "true";
            case "initial-budget" -> "0.5";
            case "kafka-properties" -> clientProperties.toString();
            default ->
                key.endsWith("ms") || key.startsWith("max-") || key.startsWith("async-")
                    ? "7"
                    : "x";
          });
    }
    assertThat(JobConfig.validKeys()).contains("bootstrap", "model", "qa-model", "policy");
    JobConfig config = JobConfig.fromArgs(all.toArray(String[]::new));
    assertThat(config.checkpointIntervalMs()).isEqualTo(7L);
    assertThat(config.policy()).isEqualTo("x");
    assertThat(config.kafka().asMap()).containsEntry("client.id", "c");
  }

  @Test
  void kafkaClientPropertiesAreKnownArguments() {
    JobConfig c =
        JobConfig.fromArgs(
            args(
                "--kafka.security.protocol", "SASL_PLAINTEXT",
                "--kafka.sasl.mechanism", "SCRAM-SHA-256"));
    assertThat(c.kafka().asMap())
        .containsEntry("security.protocol", "SASL_PLAINTEXT")
        .containsEntry("sasl.mechanism", "SCRAM-SHA-256")
        .containsEntry("bootstrap.servers", "localhost:9092");
    assertThat(c.bootstrap()).isEqualTo("localhost:9092");
  }

  @Test
  void theCheckpointIntervalIsUnsetUnlessGiven() {
    assertThat(JobConfig.fromArgs(args()).checkpointIntervalMs()).isNull();
    assertThat(JobConfig.fromArgs(args("--checkpoint-interval-ms", "250")).checkpointIntervalMs())
        .isEqualTo(250L);
  }

  @Test
  void topicPrefixIsReadAndChecked() {
    assertThat(JobConfig.fromArgs(args()).topicPrefix()).isEmpty();
    assertThat(JobConfig.fromArgs(args("--topic-prefix", "plant-a.")).topicPrefix())
        .isEqualTo("plant-a.");
    assertThatThrownBy(() -> JobConfig.fromArgs(args("--topic-prefix", "a/b")))
        .hasMessageContaining("topic prefix 'a/b'");
  }
}
