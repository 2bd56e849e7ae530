package io.qoiflow.schemas;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** One way to give Kafka client settings: file, then --kafka.* arguments, then --bootstrap. */
class KafkaClientPropertiesTest {

  @Test
  void fileThenArgumentsThenBootstrap(@TempDir Path tmp) throws Exception {
    Path file = tmp.resolve("client.properties");
    Files.writeString(
        file,
        String.join(
            "\n",
            "bootstrap.servers=broker-1:9093",
            "security.protocol=SASL_SSL",
            "sasl.mechanism=SCRAM-SHA-512",
            "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required"
                + " username=\"qoiflow\" password=\"s3cret\";",
            "ssl.truststore.location=/etc/kafka/truststore.jks",
            ""));
    KafkaClientProperties k =
        KafkaClientProperties.fromArguments(
            Map.of(
                "kafka-properties", file.toString(),
                "kafka.sasl.mechanism", "SCRAM-SHA-256",
                "kafka.client.id", "qoiflow-job",
                "bootstrap", "broker-2:9093",
                "model", "not a kafka key"));

    assertThat(k.asMap())
        .containsEntry("bootstrap.servers", "broker-2:9093")
        .containsEntry("security.protocol", "SASL_SSL")
        .containsEntry("sasl.mechanism", "SCRAM-SHA-256")
        .containsEntry("client.id", "qoiflow-job")
        .containsEntry("ssl.truststore.location", "/etc/kafka/truststore.jks")
        .doesNotContainKey("model");
    // Logs never show the secret.
    assertThat(k.toString()).doesNotContain("s3cret").contains("sasl.jaas.config=***");
  }

  @Test
  void userSettingsGoOverAClientsDefaults() {
    KafkaClientProperties k =
        KafkaClientProperties.of("b:9092", null, Map.of("transaction.timeout.ms", "300000"));
    assertThat(
            k.over(Map.of("transaction.timeout.ms", "600000", "max.request.size", "8388608"))
                .getProperty("transaction.timeout.ms"))
        .isEqualTo("300000");
    assertThat(k.over(Map.of("max.request.size", "8388608")).getProperty("max.request.size"))
        .isEqualTo("8388608");
  }

  @Test
  void bootstrapFromAPropertyAloneIsEnough() {
    assertThat(
            KafkaClientProperties.fromArguments(Map.of("kafka.bootstrap.servers", "h:1"))
                .bootstrapServers())
        .isEqualTo("h:1");
  }

  @Test
  void noBootstrapAnywhereFailsClearly() {
    assertThatThrownBy(() -> KafkaClientProperties.fromArguments(Map.of()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("--bootstrap");
  }

  @Test
  void flinkStyleArgumentsBecomePicocliPairs() {
    assertThat(
            KafkaClientProperties.rewriteDottedArguments(
                new String[] {
                  "topics",
                  "--kafka.security.protocol",
                  "SASL_PLAINTEXT",
                  "--kafka.sasl.mechanism=SCRAM-SHA-256",
                  "--partitions",
                  "4"
                }))
        .containsExactly(
            "topics",
            "--kafka",
            "security.protocol=SASL_PLAINTEXT",
            "--kafka",
            "sasl.mechanism=SCRAM-SHA-256",
            "--partitions",
            "4");
  }
}
