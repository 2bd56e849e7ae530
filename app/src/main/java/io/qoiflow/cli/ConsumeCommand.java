package io.qoiflow.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.qoiflow.schemas.SingleObjectSerde;
import io.qoiflow.schemas.Topics;
import io.qoiflow.schemas.WireFormatException;
import io.qoiflow.simulator.cli.KafkaOptions;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericEnumSymbol;
import org.apache.avro.generic.GenericFixed;
import org.apache.avro.generic.IndexedRecord;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code qoiflow consume}: one JSON object per record of a QoIFlow topic, decoded from Avro
 * single-object encoding, committed records only. Reads every partition without a consumer group
 * (nothing is committed; it never disturbs the job's or a team's group).
 */
@Command(
    name = "consume",
    mixinStandardHelpOptions = true,
    description = {
      "Print the records of a QoIFlow topic as JSON, one object per line (read_committed).",
      "Fields as in the .avsc files; timestamps as epoch ms, bytes as base64, enums as names."
    })
public final class ConsumeCommand implements Callable<Integer> {

  @Mixin KafkaOptions kafka;

  @Option(
      names = "--topic",
      required = true,
      description =
          "results.fusion, results.qa, budget, deadletter (or an input topic: frames.*,"
              + " telemetry, qa.questions, sim.truth); --topic-prefix is added to it.")
  String topic;

  @Option(
      names = "--from-beginning",
      description = "Start at the earliest record (default: only records committed from now on).")
  boolean fromBeginning;

  @Option(names = "--max", description = "Exit after this many records.")
  Long max;

  @Option(
      names = "--timeout-ms",
      description = "Exit when no record arrives for this long (default: wait until Ctrl-C).")
  Long timeoutMs;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  private static final ObjectMapper JSON = new ObjectMapper();

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    Class<? extends SpecificRecord> recordClass = Topics.recordClass(topic).orElse(null);
    if (recordClass == null) {
      err.println("consume: unknown topic " + topic + "; one of " + Topics.all(1).keySet());
      return 2;
    }
    SingleObjectSerde<? extends SpecificRecord> serde = SingleObjectSerde.forClass(recordClass);
    String name = Topics.prefixed(kafka.topicPrefix(), topic);
    Map<String, Object> defaults =
        Map.of(
            ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed",
            ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false",
            ConsumerConfig.CLIENT_ID_CONFIG, "qoiflow-consume");
    long limit = max == null ? Long.MAX_VALUE : max;
    long printed = 0;
    CountDownLatch closed = new CountDownLatch(1);
    try (KafkaConsumer<String, byte[]> consumer =
        new KafkaConsumer<>(
            kafka.properties().over(defaults),
            new StringDeserializer(),
            new ByteArrayDeserializer())) {
      Thread hook =
          new Thread(
              () -> {
                consumer.wakeup(); // Ctrl-C: leave poll, close the consumer
                awaitQuietly(closed);
              });
      Runtime.getRuntime().addShutdownHook(hook);
      try {
        List<TopicPartition> partitions =
            consumer.partitionsFor(name, Duration.ofSeconds(30)).stream()
                .map(p -> new TopicPartition(p.topic(), p.partition()))
                .toList();
        if (partitions.isEmpty()) {
          err.println("consume: topic " + name + " does not exist");
          return 2;
        }
        consumer.assign(partitions);
        if (fromBeginning) {
          consumer.seekToBeginning(partitions);
        } else {
          consumer.seekToEnd(partitions);
        }
        long lastRecordNanos = System.nanoTime();
        while (printed < limit) {
          var records = consumer.poll(Duration.ofMillis(200));
          if (records.isEmpty()) {
            if (timeoutMs != null && System.nanoTime() - lastRecordNanos >= timeoutMs * 1_000_000) {
              break;
            }
            continue;
          }
          lastRecordNanos = System.nanoTime();
          for (ConsumerRecord<String, byte[]> r : records) {
            try {
              out.println(JSON.writeValueAsString(toJson(serde.decode(r.value()))));
              out.flush();
              if (++printed >= limit) {
                break;
              }
            } catch (WireFormatException e) {
              // Not ours, or a schema this build does not know: said once, on stderr; stdout
              // stays one JSON object per line.
              err.printf(
                  "consume: %s-%d offset %d is not a %s: %s%n",
                  r.topic(),
                  r.partition(),
                  r.offset(),
                  recordClass.getSimpleName(),
                  e.getMessage());
              err.flush();
            } catch (JsonProcessingException e) {
              throw new UncheckedIOException(e);
            }
          }
        }
      } catch (WakeupException interrupted) {
        // Ctrl-C
      } finally {
        try {
          Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
          // the hook is running: it waits for the close below
        }
      }
    } finally {
      closed.countDown();
    }
    return 0;
  }

  /**
   * A decoded record as JSON: its fields by name, nested records as objects, timestamps (Avro
   * {@code timestamp-millis}) as epoch ms, bytes as base64, enums by name.
   */
  static JsonNode toJson(Object value) {
    JsonNodeFactory f = JsonNodeFactory.instance;
    if (value == null) {
      return f.nullNode();
    } else if (value instanceof IndexedRecord r) {
      ObjectNode o = f.objectNode();
      for (Schema.Field field : r.getSchema().getFields()) {
        o.set(field.name(), toJson(r.get(field.pos())));
      }
      return o;
    } else if (value instanceof CharSequence s) {
      return f.textNode(s.toString());
    } else if (value instanceof Instant t) {
      return f.numberNode(t.toEpochMilli());
    } else if (value instanceof ByteBuffer b) {
      ByteBuffer copy = b.duplicate();
      byte[] bytes = new byte[copy.remaining()];
      copy.get(bytes);
      return f.textNode(Base64.getEncoder().encodeToString(bytes));
    } else if (value instanceof GenericFixed fixed) {
      return f.textNode(Base64.getEncoder().encodeToString(fixed.bytes()));
    } else if (value instanceof Enum<?> || value instanceof GenericEnumSymbol<?>) {
      return f.textNode(value.toString());
    } else if (value instanceof Map<?, ?> m) {
      ObjectNode o = f.objectNode();
      m.forEach((k, v) -> o.set(k.toString(), toJson(v)));
      return o;
    } else if (value instanceof Iterable<?> items) {
      ArrayNode a = f.arrayNode();
      items.forEach(v -> a.add(toJson(v)));
      return a;
    } else {
      return JSON.valueToTree(value); // numbers and booleans
    }
  }

  private static void awaitQuietly(CountDownLatch latch) {
    try {
      latch.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
