package io.qoiflow.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.qoiflow.schemas.KafkaClientProperties;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real broker with a SASL_PLAINTEXT SCRAM-SHA-256 listener: a client with the generated user's
 * credentials, given only through {@link KafkaClientProperties}, works; a wrong password is refused
 * at once with the broker's authentication error, not after a timeout.
 */
class LocalKafkaBrokerScramTest {
  @TempDir static Path dir;
  static LocalKafkaBroker broker;

  @BeforeAll
  static void start() {
    broker = LocalKafkaBroker.start(dir.resolve("kafka"), LocalKafkaBroker.ScramUser.generate());
  }

  @AfterAll
  static void stop() {
    if (broker != null) {
      broker.close();
    }
  }

  @Test
  void rightCredentialsCreateTopics() throws Exception {
    KafkaClientProperties kafka = broker.scramClientProperties(broker.scramUser());
    assertThat(kafka.toString()).doesNotContain(broker.scramUser().password());
    LocalKafkaBroker.createTopics(kafka, Map.of("scram.ok", 1), (short) 1);
    try (Admin admin = Admin.create(kafka.toProperties())) {
      assertThat(admin.listTopics().names().get()).contains("scram.ok");
    }
  }

  @Test
  void wrongPasswordFailsFastWithTheReason() {
    KafkaClientProperties wrong =
        broker.scramClientProperties(
            new LocalKafkaBroker.ScramUser(broker.scramUser().name(), "not-the-password"));
    long t0 = System.nanoTime();
    assertThatThrownBy(
            () -> LocalKafkaBroker.createTopics(wrong, Map.of("scram.refused", 1), (short) 1))
        .hasStackTraceContaining("Authentication failed");
    assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(30));
  }
}
