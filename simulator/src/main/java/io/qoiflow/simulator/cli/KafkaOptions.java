package io.qoiflow.simulator.cli;

import io.qoiflow.schemas.KafkaClientProperties;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine.Option;

/**
 * The Kafka options of every command that talks to a cluster (a picocli mixin; here because this is
 * the lowest module with picocli): {@code --bootstrap}, {@code --kafka-properties FILE}, {@code
 * --kafka KEY=VALUE} (the CLI rewrites {@code --kafka.KEY VALUE} into it), merged by {@link
 * KafkaClientProperties}, and {@code --topic-prefix}.
 */
public final class KafkaOptions {
  @Option(
      names = "--bootstrap",
      description = "Kafka bootstrap servers (or bootstrap.servers in --kafka-properties).")
  String bootstrap;

  @Option(
      names = "--" + KafkaClientProperties.FILE,
      paramLabel = "FILE",
      description =
          "Kafka client properties file (security.protocol, sasl.*, ssl.*, ...), as for"
              + " kafka-console-consumer --command-config.")
  Path file;

  @Option(
      names = "--kafka",
      paramLabel = "PROPERTY=VALUE",
      description =
          "One Kafka client property, over the file's; repeatable. Also --kafka.PROPERTY VALUE.")
  Map<String, String> properties = new LinkedHashMap<>();

  @Option(
      names = "--topic-prefix",
      paramLabel = "PREFIX",
      defaultValue = "",
      description = "Prefix of every topic name, as given to the job (default: none).")
  String topicPrefix;

  /** The prefix of every topic name ("" for none): {@link io.qoiflow.schemas.Topics#prefixed}. */
  public String topicPrefix() {
    return topicPrefix;
  }

  public KafkaClientProperties properties() {
    return KafkaClientProperties.of(bootstrap, file, properties);
  }
}
