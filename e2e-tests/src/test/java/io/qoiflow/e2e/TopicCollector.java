package io.qoiflow.e2e;

import io.qoiflow.schemas.SingleObjectSerde;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.function.Predicate;
import org.apache.avro.specific.SpecificRecordBase;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionTimeoutException;

/**
 * Reads one output topic from the beginning with {@code isolation.level=read_committed}, all the
 * time, in a background thread: what a downstream consumer would see. Each record is kept with the
 * wall-clock time it became visible. Survives broker restarts (the consumer reconnects).
 */
public final class TopicCollector<T extends SpecificRecordBase> implements AutoCloseable {
  /** A decoded record and when this consumer first saw it. */
  public record Seen<T>(T value, long seenAtMs, int partition, long offset) {}

  private final String topic;
  private final SingleObjectSerde<T> serde;
  private final List<Seen<T>> seen = new ArrayList<>();
  private final Thread thread;
  private volatile boolean running = true;
  private volatile Throwable failure;

  public TopicCollector(String bootstrap, String topic, Class<T> type) {
    this.topic = topic;
    this.serde = SingleObjectSerde.forClass(type);
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    p.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, 16 << 20);
    p.put(ConsumerConfig.FETCH_MAX_BYTES_CONFIG, 32 << 20);
    KafkaConsumer<byte[], byte[]> consumer =
        new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    List<TopicPartition> partitions =
        consumer.partitionsFor(topic, Duration.ofSeconds(30)).stream()
            .map(i -> new TopicPartition(topic, i.partition()))
            .toList();
    consumer.assign(partitions);
    consumer.seekToBeginning(partitions);
    thread =
        new Thread(
            () -> {
              try (consumer) {
                while (running) {
                  for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    T value = serde.decode(r.value());
                    synchronized (seen) {
                      seen.add(
                          new Seen<>(value, System.currentTimeMillis(), r.partition(), r.offset()));
                    }
                  }
                }
              } catch (Throwable t) {
                failure = t;
              }
            },
            "collect-" + topic);
    thread.setDaemon(true);
    thread.start();
  }

  public String topic() {
    return topic;
  }

  /** Everything seen so far. */
  public List<Seen<T>> all() {
    check();
    synchronized (seen) {
      return new ArrayList<>(seen);
    }
  }

  public List<T> values(Predicate<T> filter) {
    return all().stream().map(Seen::value).filter(filter).toList();
  }

  /** Waits until {@code filter} matches at least {@code n} records; returns the count seen. */
  public long await(Predicate<T> filter, long n, long timeoutMs) {
    try {
      return Awaitility.await(n + " records of " + topic)
          .atMost(Duration.ofMillis(timeoutMs))
          .pollInterval(Duration.ofMillis(250))
          .until(() -> values(filter).size(), count -> count >= n);
    } catch (ConditionTimeoutException e) {
      return values(filter).size();
    }
  }

  private void check() {
    if (failure != null) {
      throw new IllegalStateException("collector of " + topic + " failed", failure);
    }
  }

  @Override
  public void close() {
    running = false;
    try {
      thread.join(5_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
