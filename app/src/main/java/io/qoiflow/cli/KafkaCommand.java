package io.qoiflow.cli;

import io.qoiflow.local.LocalKafkaBroker;
import io.qoiflow.schemas.Topics;
import java.io.IOException;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code qoiflow kafka}: a local single-node broker until Ctrl-C. */
@Command(
    name = "kafka",
    mixinStandardHelpOptions = true,
    description = {
      "Start a real local Kafka broker (KRaft, loopback, free port) as a child process,",
      "print its bootstrap address and run until Ctrl-C."
    })
public final class KafkaCommand implements Callable<Integer> {

  @Option(
      names = "--data-dir",
      description = "Folder for the broker's data and log (default: a new temporary folder).")
  Path dataDir;

  @Option(
      names = "--create-topics",
      negatable = true,
      defaultValue = "true",
      description = "Create the standard topics (default: ${DEFAULT-VALUE}).")
  boolean createTopics;

  @Option(
      names = "--partitions",
      defaultValue = "2",
      description = "Partitions of the data topics (default: ${DEFAULT-VALUE}).")
  int partitions;

  @Option(
      names = "--scram",
      description =
          "Also open a SASL_PLAINTEXT SCRAM-SHA-256 listener with a generated user, and write"
              + " its client properties (for --kafka-properties) to client-scram.properties in"
              + " the data folder.")
  boolean scram;

  @Override
  public Integer call() throws InterruptedException, IOException {
    Path dir = dataDir != null ? dataDir : Files.createTempDirectory("qoiflow-kafka-");
    LocalKafkaBroker broker =
        LocalKafkaBroker.start(dir, scram ? LocalKafkaBroker.ScramUser.generate() : null);
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  broker.close();
                  stopped.countDown();
                }));
    if (createTopics) {
      broker.createTopics(Topics.all(partitions));
    }
    System.out.println(broker.bootstrapServers());
    if (scram) {
      Path file = dir.resolve("client-scram.properties");
      Properties p = broker.scramClientProperties(broker.scramUser()).toProperties();
      try (Writer w = Files.newBufferedWriter(file)) {
        p.store(w, "qoiflow kafka --scram: --kafka-properties for the SCRAM listener");
      }
      System.out.println(file);
    }
    System.out.flush();
    System.err.printf(
        "Kafka broker pid %d, data in %s. Ctrl-C stops it.%n", broker.pid(), broker.workDir());
    stopped.await();
    return 0;
  }
}
