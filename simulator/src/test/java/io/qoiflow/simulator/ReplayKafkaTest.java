package io.qoiflow.simulator;

import static org.assertj.core.api.Assertions.assertThat;

import io.qoiflow.local.LocalKafkaBroker;
import io.qoiflow.records.Modality;
import io.qoiflow.records.SensorFrame;
import io.qoiflow.records.Telemetry;
import io.qoiflow.schemas.SingleObjectSerde;
import io.qoiflow.schemas.Topics;
import io.qoiflow.simulator.cli.ReplayCommand;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** {@code qoiflow replay} against a real broker: frames keyed by rig, telemetry, decodable. */
class ReplayKafkaTest {
  @Test
  void replayPublishesFramesAndTelemetryToTheBroker() throws Exception {
    try (LocalKafkaBroker broker = LocalKafkaBroker.start()) {
      broker.createTopics(Topics.all(2));
      Path scenario = Path.of("..", "simulator", "scenarios", "night-shift.yaml");
      int rc =
          new CommandLine(new ReplayCommand())
              .execute(
                  "--bootstrap",
                  broker.bootstrapServers(),
                  "--scenario",
                  scenario.toString(),
                  "--rigs",
                  "2",
                  "--rate",
                  "5",
                  "--duration",
                  "2",
                  "--speed",
                  "0",
                  "--jitter-ms",
                  "0",
                  "--reorder",
                  "0",
                  "--duplicates",
                  "0",
                  "--malformed",
                  "0",
                  "--start-time",
                  "1767225600000");
      assertThat(rc).isZero();

      Properties props = new Properties();
      props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
      props.put(ConsumerConfig.GROUP_ID_CONFIG, "replay-test");
      props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
      List<ConsumerRecord<String, byte[]>> camera = new ArrayList<>();
      List<ConsumerRecord<String, byte[]>> telemetry = new ArrayList<>();
      try (KafkaConsumer<String, byte[]> consumer =
          new KafkaConsumer<>(props, new StringDeserializer(), new ByteArrayDeserializer())) {
        consumer.subscribe(List.of(Topics.FRAMES_CAMERA, Topics.TELEMETRY));
        long deadline = System.currentTimeMillis() + 30_000;
        while ((camera.size() < 20 || telemetry.size() < 8)
            && System.currentTimeMillis() < deadline) {
          for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(500))) {
            (r.topic().equals(Topics.FRAMES_CAMERA) ? camera : telemetry).add(r);
          }
        }
      }
      // 2 rigs x 2 s x 5 Hz camera frames; 2 hosts x 2 s / 500 ms telemetry records.
      assertThat(camera).hasSize(20);
      assertThat(telemetry).hasSize(8);
      SingleObjectSerde<SensorFrame> frames = SingleObjectSerde.forClass(SensorFrame.class);
      for (ConsumerRecord<String, byte[]> r : camera) {
        SensorFrame f = frames.decode(r.value());
        assertThat(f.getModality()).isEqualTo(Modality.CAMERA);
        assertThat(r.key()).isEqualTo(f.getRigId());
        assertThat(r.timestamp()).isEqualTo(f.getCaptureTime().toEpochMilli());
        assertThat(f.getShape()).containsExactly(3, 48, 48);
      }
      SingleObjectSerde<Telemetry> tel = SingleObjectSerde.forClass(Telemetry.class);
      for (ConsumerRecord<String, byte[]> r : telemetry) {
        assertThat(tel.decode(r.value()).getPoolId()).isEqualTo("pool-0");
      }
    }
  }
}
