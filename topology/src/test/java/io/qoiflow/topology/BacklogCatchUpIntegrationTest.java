package io.qoiflow.topology;

import static org.assertj.core.api.Assertions.assertThat;

import io.qoiflow.engine.ModelLocator;
import io.qoiflow.local.LocalKafkaBroker;
import io.qoiflow.records.DeadLetter;
import io.qoiflow.records.FusionResult;
import io.qoiflow.records.ModalityUsage;
import io.qoiflow.schemas.SingleObjectSerde;
import io.qoiflow.schemas.Topics;
import io.qoiflow.simulator.replay.ReplayPublisher;
import io.qoiflow.simulator.replay.Scenario;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import org.apache.flink.core.execution.JobClient;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A backlog read by the job as a user starts it: minutes of frames of several rigs are in the
 * topics before the job starts, and the job runs from {@link QoiFlowJob#environment} (what {@code
 * main} runs) with nothing but the broker and the model given, no cluster configuration (so no
 * checkpoint storage configured), on the local environment Flink gives a program. The five frame
 * sources then read a large backlog at their own speeds, and checkpoints carry a large join state.
 *
 * <p>The job must catch up with one result per FrameSet, no frame dead-lettered as {@code late} and
 * (all five modalities were sent for every set) no set fused short.
 *
 * <p>{@code -Dqoiflow.backlog.seconds=N} (default 300) and {@code -Dqoiflow.backlog.rigs=K}
 * (default 4) size the backlog; {@code -Dqoiflow.backlog.args="--idleness-ms 2000 ..."} adds job
 * arguments (how the mechanism was measured: docs/RELIABILITY.md).
 */
class BacklogCatchUpIntegrationTest {
  private static final int RIGS = Integer.getInteger("qoiflow.backlog.rigs", 4);
  private static final int SECONDS = Integer.getInteger("qoiflow.backlog.seconds", 300);
  private static final String EXTRA_ARGS = System.getProperty("qoiflow.backlog.args", "").trim();
  private static final Duration CATCH_UP_LIMIT = Duration.ofMinutes(15);

  private LocalKafkaBroker broker;

  @BeforeEach
  void startBroker() {
    broker = LocalKafkaBroker.start();
  }

  @AfterEach
  void stopBroker() {
    if (broker != null) {
      broker.close();
    }
  }

  @Test
  void aBacklogWrittenBeforeTheJobStartsIsFusedWholeWithTheJobsDefaults() throws Exception {
    String bootstrap = broker.bootstrapServers();
    broker.createTopics(Topics.all(2));

    // The backlog: a clean scenario (every modality of every set sent), ending now.
    Scenario scenario =
        new Scenario("backlog", SECONDS, 10, RIGS, 16, List.of(), null, 0, Scenario.Faults.NONE);
    long start = System.currentTimeMillis() - SECONDS * 1000L;
    Map<String, Integer> framesPerSet = new HashMap<>();
    long writeStart = System.nanoTime();
    try (KafkaProducer<String, byte[]> producer =
        new KafkaProducer<>(
            ReplayPublisher.producerProperties(bootstrap),
            new StringSerializer(),
            new ByteArraySerializer())) {
      new ReplayPublisher(
              scenario,
              (topic, key, value, ts) -> {
                if (topic.startsWith("frames.")) {
                  framesPerSet.merge(key + "@" + ts, 1, Integer::sum);
                }
                producer.send(new ProducerRecord<>(topic, null, ts, key, value));
              },
              start,
              0)
          .run();
      producer.flush();
    }
    double writeS = (System.nanoTime() - writeStart) / 1e9;
    int sets = framesPerSet.size();
    assertThat(framesPerSet.values()).as("every set sent whole").containsOnly(5);

    List<String> args =
        new ArrayList<>(List.of("--bootstrap", bootstrap, "--model", model().toString()));
    if (!EXTRA_ARGS.isEmpty()) {
      args.addAll(List.of(EXTRA_ARGS.split("\\s+")));
    }
    long jobStart = System.nanoTime();
    JobClient job =
        QoiFlowJob.environment(args.toArray(String[]::new)).executeAsync(QoiFlowJob.JOB_NAME);
    Outputs seen;
    try {
      seen = Outputs.collect(bootstrap, sets, job, jobStart, CATCH_UP_LIMIT);
    } finally {
      job.cancel().exceptionally(e -> null).get();
    }

    Map<String, Long> lateByTopic = new TreeMap<>();
    for (DeadLetter d : seen.deadLetters) {
      if (d.getReasonCode().equals("late")) {
        lateByTopic.merge(String.valueOf(d.getSourceTopic()), 1L, Long::sum);
      }
    }
    String figures =
        String.format(
            "backlog %d rigs x %d s: %d sets, %d frames written in %.1f s; results %d (distinct"
                + " %d) caught up %.1f s after the job was submitted; fused short %d; dead letters"
                + " %s; late by topic %s; job args %s",
            RIGS,
            SECONDS,
            sets,
            5L * sets,
            writeS,
            seen.results.size(),
            seen.resultKeys().size(),
            seen.lastResultS,
            seen.short_(),
            seen.deadLettersByReason(),
            lateByTopic,
            args);
    System.out.println(figures);

    assertThat(seen.deadLettersByReason()).as(figures).doesNotContainKey("late");
    assertThat(seen.resultKeys()).as(figures).isEqualTo(framesPerSet.keySet());
    assertThat(seen.results).as("one result per set: " + figures).hasSize(sets);
    assertThat(seen.short_()).as("sets fused short: " + figures).isZero();
  }

  private static java.nio.file.Path model() {
    return ModelLocator.defaultModel();
  }

  /** What the job wrote to results.fusion and deadletter, as a read_committed consumer sees it. */
  static final class Outputs {
    final List<FusionResult> results = new ArrayList<>();
    final List<DeadLetter> deadLetters = new ArrayList<>();
    double lastResultS = Double.NaN;

    Set<String> resultKeys() {
      Set<String> keys = new HashSet<>();
      for (FusionResult r : results) {
        keys.add(r.getRigId() + "@" + r.getCaptureTime().toEpochMilli());
      }
      return keys;
    }

    /** Results of sets that lacked a modality (every set was sent whole). */
    long short_() {
      return results.stream()
          .filter(r -> r.getModalities().stream().anyMatch(m -> !presentIn(m)))
          .count();
    }

    private static boolean presentIn(ModalityUsage m) {
      return m.getPresent();
    }

    Map<String, Long> deadLettersByReason() {
      Map<String, Long> by = new TreeMap<>();
      for (DeadLetter d : deadLetters) {
        by.merge(d.getReasonCode(), 1L, Long::sum);
      }
      return by;
    }

    /**
     * Reads both topics until {@code expected} results are in (then 3 s more, so a duplicate would
     * show), the job ends, or {@code limit} passes.
     */
    static Outputs collect(
        String bootstrap, int expected, JobClient job, long sinceNanos, Duration limit)
        throws Exception {
      SingleObjectSerde<FusionResult> results = SingleObjectSerde.forClass(FusionResult.class);
      SingleObjectSerde<DeadLetter> deadLetters = SingleObjectSerde.forClass(DeadLetter.class);
      Properties p = new Properties();
      p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
      p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
      p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
      p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
      Outputs out = new Outputs();
      long deadline = System.nanoTime() + limit.toNanos();
      long settleUntil = Long.MAX_VALUE;
      try (KafkaConsumer<byte[], byte[]> c =
          new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
        List<TopicPartition> partitions = new ArrayList<>();
        for (String topic : List.of(Topics.RESULTS_FUSION, Topics.DEADLETTER)) {
          c.partitionsFor(topic)
              .forEach(i -> partitions.add(new TopicPartition(topic, i.partition())));
        }
        c.assign(partitions);
        c.seekToBeginning(partitions);
        while (System.nanoTime() < Math.min(deadline, settleUntil)) {
          for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(500))) {
            if (r.topic().equals(Topics.RESULTS_FUSION)) {
              out.results.add(results.decode(r.value()));
              out.lastResultS = (System.nanoTime() - sinceNanos) / 1e9;
            } else {
              out.deadLetters.add(deadLetters.decode(r.value()));
            }
          }
          if (settleUntil == Long.MAX_VALUE && out.results.size() >= expected) {
            settleUntil = System.nanoTime() + 3_000_000_000L;
          }
          if (job.getJobStatus().get().isGloballyTerminalState()) {
            break;
          }
        }
      }
      return out;
    }
  }
}
