package io.qoiflow.local;

import io.qoiflow.schemas.KafkaClientProperties;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.errors.TopicExistsException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real single-node Kafka broker (KRaft, combined broker and controller) in a child JVM on
 * loopback, for the demo, the CLI and tests. Started from this JVM's classpath (which must hold
 * {@code kafka_2.13}); storage is formatted fresh in a work folder; stopped by PID on close.
 */
public final class LocalKafkaBroker implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(LocalKafkaBroker.class);
  private static final Duration START_TIMEOUT = Duration.ofSeconds(90);

  private final Path workDir;
  private final int port;
  private final int controllerPort;
  private final String clusterId;
  // A SASL_PLAINTEXT listener with one SCRAM-SHA-256 user, or null (PLAINTEXT only).
  private final ScramUser scram;
  private final int saslPort;

  /** The one user of a SCRAM listener, made at format time. */
  public record ScramUser(String name, String password) {
    public static final String MECHANISM = "SCRAM-SHA-256";

    /** A user with a random password. */
    public static ScramUser generate() {
      return new ScramUser("qoiflow", Uuid.randomUuid().toString().replace("-", ""));
    }

    @Override
    public String toString() {
      return "ScramUser[" + name + "]";
    }
  }

  private JvmProcess process;

  private LocalKafkaBroker(
      Path workDir, int port, int controllerPort, String clusterId, ScramUser scram) {
    this.workDir = workDir;
    this.port = port;
    this.controllerPort = controllerPort;
    this.clusterId = clusterId;
    this.scram = scram;
    this.saslPort = scram == null ? -1 : JvmProcess.freePort();
  }

  /** Starts a broker in a new temporary folder on free ports and waits until it serves. */
  public static LocalKafkaBroker start() {
    try {
      return start(Files.createTempDirectory("qoiflow-kafka-"));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Starts a broker whose data and log live in {@code workDir}. */
  public static LocalKafkaBroker start(Path workDir) {
    return start(workDir, null);
  }

  /**
   * Starts a broker that also has a SASL_PLAINTEXT listener (SCRAM-SHA-256) on loopback, with
   * {@code user} its one credential ({@link #scramClientProperties}); the PLAINTEXT listener stays
   * for the broker's own use. {@code user} null: PLAINTEXT only.
   */
  public static LocalKafkaBroker start(Path workDir, ScramUser user) {
    LocalKafkaBroker broker =
        new LocalKafkaBroker(
            workDir,
            JvmProcess.freePort(),
            JvmProcess.freePort(),
            Uuid.randomUuid().toString(),
            user);
    broker.writeConfig();
    broker.format();
    broker.launch();
    return broker;
  }

  public String bootstrapServers() {
    return "127.0.0.1:" + port;
  }

  /**
   * Client properties for the SCRAM listener as {@code user} (pass another password to see a
   * refusal); the listener must be on ({@link #start(Path, ScramUser)}).
   */
  public KafkaClientProperties scramClientProperties(ScramUser user) {
    if (scram == null) {
      throw new IllegalStateException("this broker has no SCRAM listener");
    }
    return KafkaClientProperties.of(
        "127.0.0.1:" + saslPort,
        null,
        Map.of(
            "security.protocol",
            "SASL_PLAINTEXT",
            "sasl.mechanism",
            ScramUser.MECHANISM,
            "sasl.jaas.config",
            "org.apache.kafka.common.security.scram.ScramLoginModule required username=\""
                + user.name()
                + "\" password=\""
                + user.password()
                + "\";"));
  }

  /** The SCRAM listener's user, or null. */
  public ScramUser scramUser() {
    return scram;
  }

  public int port() {
    return port;
  }

  public long pid() {
    return process.pid();
  }

  public Path workDir() {
    return workDir;
  }

  /** Stops the broker (SIGTERM) and keeps its data, so {@link #restart()} resumes it. */
  public void stop() {
    if (process != null) {
      process.close();
      process = null;
    }
  }

  /** Starts the broker again on the same ports and data, e.g. after {@link #stop()}. */
  public void restart() {
    stop();
    launch();
  }

  /** Creates topics, ignoring those that exist already. */
  public void createTopics(Map<String, Integer> partitionsByTopic) {
    createTopics(bootstrapServers(), partitionsByTopic);
  }

  /** Creates topics on any cluster with replication factor 1, ignoring those that exist. */
  public static void createTopics(String bootstrap, Map<String, Integer> partitionsByTopic) {
    createTopics(KafkaClientProperties.bootstrap(bootstrap), partitionsByTopic, (short) 1);
  }

  /**
   * Creates topics on any cluster, with {@code kafka}'s client properties (security, SASL, SSL),
   * ignoring those that exist already.
   */
  public static void createTopics(
      KafkaClientProperties kafka, Map<String, Integer> partitionsByTopic, short replication) {
    String bootstrap = kafka.bootstrapServers();
    List<NewTopic> topics = new ArrayList<>();
    partitionsByTopic.forEach(
        (name, partitions) -> topics.add(new NewTopic(name, partitions, replication)));
    try (Admin admin = Admin.create(adminProps(kafka))) {
      for (var entry : admin.createTopics(topics).values().entrySet()) {
        try {
          entry.getValue().get(60, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
          if (!(e.getCause() instanceof TopicExistsException)) {
            throw new IllegalStateException("cannot create topic " + entry.getKey(), e.getCause());
          }
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    } catch (TimeoutException e) {
      throw new IllegalStateException("timed out creating topics on " + bootstrap, e);
    }
  }

  /** Names of the topics on the broker. */
  public Set<String> listTopics() {
    try (Admin admin =
        Admin.create(adminProps(KafkaClientProperties.bootstrap(bootstrapServers())))) {
      return admin.listTopics().names().get(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    } catch (ExecutionException | TimeoutException e) {
      throw new IllegalStateException(e);
    }
  }

  private static Properties adminProps(KafkaClientProperties kafka) {
    return kafka.over(
        Map.of(
            AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000,
            AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 30_000));
  }

  private Path configFile() {
    return workDir.resolve("server.properties");
  }

  private void writeConfig() {
    Path logs = workDir.resolve("data");
    String config =
        String.join(
            "\n",
            "process.roles=broker,controller",
            "node.id=1",
            "controller.quorum.voters=1@127.0.0.1:" + controllerPort,
            "listeners=PLAINTEXT://127.0.0.1:"
                + port
                + ",CONTROLLER://127.0.0.1:"
                + controllerPort
                + (scram == null ? "" : ",SASL_PLAINTEXT://127.0.0.1:" + saslPort),
            "advertised.listeners=PLAINTEXT://127.0.0.1:"
                + port
                + (scram == null ? "" : ",SASL_PLAINTEXT://127.0.0.1:" + saslPort),
            "controller.listener.names=CONTROLLER",
            "inter.broker.listener.name=PLAINTEXT",
            "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT"
                + ",SASL_PLAINTEXT:SASL_PLAINTEXT",
            scram == null ? "" : "sasl.enabled.mechanisms=" + ScramUser.MECHANISM,
            scram == null
                ? ""
                : "listener.name.sasl_plaintext.scram-sha-256.sasl.jaas.config="
                    + "org.apache.kafka.common.security.scram.ScramLoginModule required;",
            "log.dirs=" + logs,
            "num.partitions=1",
            // A single node: every internal topic has one replica.
            "offsets.topic.replication.factor=1",
            "transaction.state.log.replication.factor=1",
            "transaction.state.log.min.isr=1",
            "share.coordinator.state.topic.replication.factor=1",
            "share.coordinator.state.topic.min.isr=1",
            "min.insync.replicas=1",
            "default.replication.factor=1",
            "group.initial.rebalance.delay.ms=0",
            // Large frames (camera, lidar) and batched results.
            "message.max.bytes=8388608",
            "replica.fetch.max.bytes=8388608",
            "transaction.max.timeout.ms=900000",
            "auto.create.topics.enable=false",
            "log.retention.hours=-1",
            "");
    try {
      Files.createDirectories(workDir);
      Files.writeString(configFile(), config, StandardCharsets.UTF_8);
      Files.writeString(
          workDir.resolve("log4j2.properties"),
          String.join(
              "\n",
              "rootLogger.level=WARN",
              "rootLogger.appenderRef.stdout.ref=STDOUT",
              "appender.stdout.type=Console",
              "appender.stdout.name=STDOUT",
              "appender.stdout.layout.type=PatternLayout",
              "appender.stdout.layout.pattern=[%d] %p %m (%c)%n",
              "logger.kafka.name=kafka",
              "logger.kafka.level=INFO",
              ""),
          StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private List<String> jvmOptions() {
    return List.of(
        "-Xms256m",
        "-Xmx768m",
        "-XX:+UseG1GC",
        "-Dlog4j2.configurationFile=" + workDir.resolve("log4j2.properties"),
        "-Dlog4j.configurationFile=" + workDir.resolve("log4j2.properties"));
  }

  private void format() {
    try (JvmProcess format =
        JvmProcess.start(
            "kafka-format",
            workDir,
            JvmProcess.currentClasspath(),
            jvmOptions(),
            "kafka.tools.StorageTool",
            formatArguments())) {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (format.isAlive() && System.nanoTime() < deadline) {
        sleep(100);
      }
      if (format.isAlive()) {
        throw new IllegalStateException("formatting Kafka storage timed out");
      }
      if (!format.logTail(4000).contains("Formatting")) {
        throw new IllegalStateException(
            "formatting Kafka storage failed:\n" + format.logTail(4000));
      }
    }
  }

  private List<String> formatArguments() {
    List<String> args =
        new ArrayList<>(List.of("format", "-t", clusterId, "-c", configFile().toString()));
    if (scram != null) {
      // KRaft: SCRAM credentials are written into the metadata log when the storage is formatted.
      args.addAll(
          List.of(
              "--add-scram",
              ScramUser.MECHANISM
                  + "=[name="
                  + scram.name()
                  + ",password="
                  + scram.password()
                  + "]"));
    }
    return args;
  }

  private void launch() {
    long t0 = System.nanoTime();
    process =
        JvmProcess.start(
            "kafka",
            workDir,
            JvmProcess.currentClasspath(),
            jvmOptions(),
            "kafka.Kafka",
            List.of(configFile().toString()));
    awaitReady(t0);
  }

  private void awaitReady(long t0) {
    long deadline = t0 + START_TIMEOUT.toNanos();
    Properties props = adminProps(KafkaClientProperties.bootstrap(bootstrapServers()));
    props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 2_000);
    props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 3_000);
    try (Admin admin = Admin.create(props)) {
      while (System.nanoTime() < deadline) {
        if (!process.isAlive()) {
          throw new IllegalStateException("Kafka broker exited:\n" + process.logTail(6000));
        }
        try {
          Collection<?> nodes = admin.describeCluster().nodes().get(3, TimeUnit.SECONDS);
          if (!nodes.isEmpty()) {
            LOG.info(
                "Kafka broker up at {} (pid {}) in {} ms",
                bootstrapServers(),
                process.pid(),
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
            return;
          }
        } catch (ExecutionException | TimeoutException notYet) {
          sleep(200);
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
    String tail = process.logTail(6000);
    close();
    throw new IllegalStateException("Kafka broker not ready in " + START_TIMEOUT + ":\n" + tail);
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  @Override
  public void close() {
    stop();
  }
}
