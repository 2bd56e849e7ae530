package io.qoiflow.local;

import static org.assertj.core.api.Assertions.assertThat;

import io.qoiflow.schemas.Topics;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

class LocalKafkaBrokerTest {

  @Test
  void startsARealBrokerThatServesAndStopsFreeingItsPort() throws Exception {
    int port;
    long pid;
    try (LocalKafkaBroker broker = LocalKafkaBroker.start()) {
      port = broker.port();
      pid = broker.pid();
      assertThat(ProcessHandle.of(pid)).isPresent();
      assertThat(ProcessHandle.of(pid).get().info().commandLine().orElse(""))
          .contains("kafka.Kafka");

      broker.createTopics(Topics.all(2));
      assertThat(broker.listTopics()).containsAll(Topics.all(2).keySet());

      Properties producerProps = new Properties();
      producerProps.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
      producerProps.put(ProducerConfig.ACKS_CONFIG, "all");
      try (KafkaProducer<String, String> producer =
          new KafkaProducer<>(producerProps, new StringSerializer(), new StringSerializer())) {
        producer.send(new ProducerRecord<>(Topics.TELEMETRY, "k", "hello")).get();
      }

      Properties consumerProps = new Properties();
      consumerProps.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
      consumerProps.put(ConsumerConfig.GROUP_ID_CONFIG, "launcher-test");
      consumerProps.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
      List<String> values = new ArrayList<>();
      try (KafkaConsumer<String, String> consumer =
          new KafkaConsumer<>(consumerProps, new StringDeserializer(), new StringDeserializer())) {
        consumer.subscribe(List.of(Topics.TELEMETRY));
        long deadline = System.currentTimeMillis() + 30_000;
        while (values.isEmpty() && System.currentTimeMillis() < deadline) {
          for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(500))) {
            values.add(r.value());
          }
        }
      }
      assertThat(values).containsExactly("hello");
    }

    assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)).isFalse();
    try (ServerSocket again = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
      assertThat(again.getLocalPort()).isEqualTo(port);
    }
  }

  @Test
  void topicsCanBeCreatedWithCustomPartitions() {
    try (LocalKafkaBroker broker = LocalKafkaBroker.start()) {
      broker.createTopics(Map.of("custom.topic", 3));
      broker.createTopics(Map.of("custom.topic", 3)); // existing topics are left alone
      assertThat(broker.listTopics()).contains("custom.topic");
    }
  }
}
