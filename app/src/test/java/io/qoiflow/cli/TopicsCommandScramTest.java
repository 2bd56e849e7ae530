package io.qoiflow.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.qoiflow.local.LocalKafkaBroker;
import io.qoiflow.schemas.KafkaClientProperties;
import io.qoiflow.schemas.Topics;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.kafka.clients.admin.Admin;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code qoiflow topics} against a real SCRAM listener, configured the way a user would: a
 * properties file ({@code --kafka-properties}) and a Flink-style {@code --kafka.PROPERTY VALUE}
 * override, through the CLI's own argument handling.
 */
class TopicsCommandScramTest {

  @Test
  void propertiesFileWorksAndAWrongPasswordOverrideFails(@TempDir Path tmp) throws Exception {
    try (LocalKafkaBroker broker =
        LocalKafkaBroker.start(tmp.resolve("kafka"), LocalKafkaBroker.ScramUser.generate())) {
      KafkaClientProperties scram = broker.scramClientProperties(broker.scramUser());
      Path file = tmp.resolve("client.properties");
      try (Writer w = Files.newBufferedWriter(file)) {
        scram.toProperties().store(w, null);
      }

      int ok =
          cli(
              "topics",
              "--kafka-properties",
              file.toString(),
              "--partitions",
              "1",
              "--replication-factor",
              "1");
      assertThat(ok).isZero();
      try (Admin admin = Admin.create(scram.toProperties())) {
        assertThat(admin.listTopics().names().get()).containsAll(Topics.all(1).keySet());
      }

      int refused =
          cli(
              "topics",
              "--kafka-properties",
              file.toString(),
              "--kafka.sasl.jaas.config",
              "org.apache.kafka.common.security.scram.ScramLoginModule required"
                  + " username=\"qoiflow\" password=\"wrong\";",
              "--only",
              "--topic",
              "never.created=1");
      assertThat(refused).isNotZero();
      try (Admin admin = Admin.create(scram.toProperties())) {
        assertThat(admin.listTopics().names().get()).doesNotContain("never.created");
      }
    }
  }

  static int cli(String... args) {
    return QoiFlowCli.commandLine().execute(KafkaClientProperties.rewriteDottedArguments(args));
  }
}
