package io.qoiflow.cli;

import io.qoiflow.local.LocalKafkaBroker;
import io.qoiflow.schemas.Topics;
import io.qoiflow.simulator.cli.KafkaOptions;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code qoiflow topics}: create the standard topics on a cluster. */
@Command(
    name = "topics",
    mixinStandardHelpOptions = true,
    description = "Create the standard QoIFlow topics (existing ones are left as they are).")
public final class TopicsCommand implements Callable<Integer> {

  @Mixin KafkaOptions kafka;

  @Option(
      names = "--replication-factor",
      defaultValue = "1",
      description =
          "Replication factor of every topic created (default: ${DEFAULT-VALUE}; 3 on a"
              + " production cluster).")
  short replicationFactor;

  @Option(
      names = "--partitions",
      defaultValue = "2",
      description = "Partitions of the data topics (default: ${DEFAULT-VALUE}).")
  int partitions;

  @Option(
      names = "--topic",
      description =
          "Override or add a topic as NAME=PARTITIONS (under --topic-prefix too); repeatable."
              + " A standard name renames nothing: use it to change that topic's partitions.")
  Map<String, Integer> overrides = new LinkedHashMap<>();

  @Option(
      names = "--only",
      description = "Create only the topics given with --topic, not the standard set.")
  boolean only;

  @Override
  public Integer call() {
    Map<String, Integer> standard = only ? new LinkedHashMap<>() : Topics.all(partitions);
    standard.putAll(overrides);
    Map<String, Integer> topics = new LinkedHashMap<>();
    standard.forEach((name, p) -> topics.put(Topics.prefixed(kafka.topicPrefix(), name), p));
    LocalKafkaBroker.createTopics(kafka.properties(), topics, replicationFactor);
    topics.forEach((name, p) -> System.out.printf("%s\t%d\t%d%n", name, p, replicationFactor));
    return 0;
  }
}
