package io.qoiflow.simulator.cli;

import io.qoiflow.schemas.Topics;
import io.qoiflow.simulator.replay.ReplayPublisher;
import io.qoiflow.simulator.replay.Scenario;
import java.nio.file.Path;
import java.util.Properties;
import java.util.concurrent.Callable;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code qoiflow replay}: publishes a live scenario of K rigs to Kafka. */
@Command(
    name = "replay",
    mixinStandardHelpOptions = true,
    description = {
      "Publish live frames of K rigs, telemetry and questions following a scenario timeline",
      "(simulator/scenarios/*.yaml; docs/SIMULATOR.md)."
    })
public final class ReplayCommand implements Callable<Integer> {
  @Mixin KafkaOptions kafka;

  @Option(names = "--scenario", required = true, description = "Scenario YAML file.")
  Path scenario;

  @Option(names = "--rigs", description = "Number of rigs (default: the scenario's).")
  Integer rigs;

  @Option(names = "--rate", description = "Frames per second per rig (default: the scenario's).")
  Double rate;

  @Option(names = "--duration", description = "Seconds of scenario to play (default: all).")
  Double duration;

  @Option(names = "--jitter-ms", description = "Send-time jitter, ms (default: the scenario's).")
  Double jitterMs;

  @Option(names = "--reorder", description = "Share of frames delayed by 1-3 ticks.")
  Double reorder;

  @Option(names = "--duplicates", description = "Share of frames sent twice.")
  Double duplicates;

  @Option(names = "--malformed", description = "Share of frames replaced by malformed bytes.")
  Double malformed;

  @Option(
      names = "--speed",
      defaultValue = "1.0",
      description = "Real-time factor (1 = real time, 0 = as fast as possible).")
  double speed;

  @Option(
      names = "--start-time",
      description =
          "Event time of scenario second 0, epoch ms (default: now; faster than real time, early"
              + " enough that no frame is stamped in the future: at --speed 0 the scenario ends"
              + " now).")
  Long startTime;

  @Option(
      names = "--truth",
      description =
          "Also publish each rig's true target state to sim.truth (for `qoiflow dashboard`).")
  boolean truth;

  public ReplayCommand() {}

  @Override
  public Integer call() throws Exception {
    Scenario s;
    try {
      s = Scenario.load(scenario);
    } catch (IllegalArgumentException e) {
      System.err.println("replay: " + e.getMessage());
      return 2;
    }
    Scenario.Faults f = s.faults();
    Scenario.Faults faults =
        new Scenario.Faults(
            jitterMs != null ? jitterMs : f.jitterMs(),
            reorder != null ? reorder : f.reorder(),
            duplicates != null ? duplicates : f.duplicates(),
            malformed != null ? malformed : f.malformed());
    s = s.withOverrides(rigs, rate, duration, faults);
    Properties props = ReplayPublisher.producerProperties(kafka.properties());
    long start =
        startTime != null
            ? startTime
            : ReplayPublisher.startTimeEndingNoLaterThanNow(s, speed, System.currentTimeMillis());
    try (KafkaProducer<String, byte[]> producer =
        new KafkaProducer<>(props, new StringSerializer(), new ByteArraySerializer())) {
      ReplayPublisher publisher =
          new ReplayPublisher(
                  s,
                  (topic, key, value, ts) ->
                      producer.send(
                          new ProducerRecord<>(
                              Topics.prefixed(kafka.topicPrefix(), topic), null, ts, key, value)),
                  start,
                  speed)
              .withTruth(truth);
      System.err.printf(
          "replay: scenario %s, %d rigs at %.1f Hz for %.0f s%n",
          s.name(), s.rigs(), s.rateHz(), s.durationS());
      ReplayPublisher.Stats stats = publisher.run();
      producer.flush();
      System.err.println("replay: done, " + stats);
    }
    return 0;
  }
}
