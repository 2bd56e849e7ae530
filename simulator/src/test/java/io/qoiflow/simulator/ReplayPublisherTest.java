package io.qoiflow.simulator;

import static org.assertj.core.api.Assertions.assertThat;

import io.qoiflow.records.Modality;
import io.qoiflow.records.ObjectState;
import io.qoiflow.records.QaQuestion;
import io.qoiflow.records.SensorFrame;
import io.qoiflow.records.Telemetry;
import io.qoiflow.schemas.SingleObjectSerde;
import io.qoiflow.schemas.Topics;
import io.qoiflow.schemas.WireFormatException;
import io.qoiflow.simulator.replay.ReplayPublisher;
import io.qoiflow.simulator.replay.Scenario;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ReplayPublisherTest {
  record Sent(String topic, String key, byte[] value, long ts) {}

  static final SingleObjectSerde<SensorFrame> FRAMES =
      SingleObjectSerde.forClass(SensorFrame.class);

  @Test
  void examplesParse() throws Exception {
    for (String name : List.of("night-shift.yaml", "sensor-storm.yaml")) {
      Scenario s = Scenario.load(Path.of("scenarios", name));
      assertThat(s.segments()).isNotEmpty();
      assertThat(s.telemetry().levels()).isNotEmpty();
      assertThat(s.durationS()).isPositive();
    }
    // A YAML segment may hold a per-sample mix of alternatives.
    Scenario storm = Scenario.load(Path.of("scenarios", "sensor-storm.yaml"));
    assertThat(storm.specAt(90).alternatives()).isEqualTo(4);
    assertThat(storm.specAt(10).isClean()).isTrue();
  }

  @Test
  void followsTheTimelineAndInjectsFaults() throws Exception {
    Scenario base = Scenario.load(Path.of("scenarios", "night-shift.yaml"));
    Scenario s =
        new Scenario(
            "t",
            4,
            10,
            2,
            5,
            List.of(
                new Scenario.Segment(0, 2, CorruptionSpec.clean()),
                new Scenario.Segment(2, 4, CorruptionSpec.parse("depth:off,camera:lowlight:0.9"))),
            base.telemetry(),
            1,
            new Scenario.Faults(20, 0.05, 0.05, 0.05));
    List<Sent> sent = new ArrayList<>();
    ReplayPublisher.Stats stats =
        new ReplayPublisher(s, (t, k, v, ts) -> sent.add(new Sent(t, k, v, ts)), 1_000_000L, 0)
            .run();
    assertThat(stats.ticks).isEqualTo(40);
    int malformed = 0;
    Map<String, Set<Long>> seqs = new HashMap<>();
    int depthAfter = 0;
    int duplicates = 0;
    boolean outOfOrder = false;
    Map<String, Long> lastSeq = new HashMap<>();
    for (Sent x : sent) {
      if (!x.topic.startsWith("frames.")) {
        continue;
      }
      SensorFrame f;
      try {
        f = FRAMES.decode(x.value);
      } catch (WireFormatException e) {
        malformed++;
        continue;
      }
      assertThat(x.key).isEqualTo(f.getRigId()).isIn("rig-0", "rig-1");
      assertThat(x.topic).isEqualTo(ReplayPublisher.topic(f.getModality()));
      String id = f.getRigId() + "/" + f.getModality();
      if (!seqs.computeIfAbsent(id, k -> new HashSet<>()).add(f.getSequence())) {
        duplicates++;
      }
      Long prev = lastSeq.put(id, f.getSequence());
      if (prev != null && prev > f.getSequence()) {
        outOfOrder = true;
      }
      long sec = (f.getCaptureTime().toEpochMilli() - 1_000_000L) / 1000;
      if (f.getModality() == Modality.DEPTH && sec >= 2) {
        depthAfter++;
      }
    }
    assertThat(stats.malformed).isPositive();
    // A malformed record may also be one of the duplicated ones.
    assertThat((long) malformed).isBetween(stats.malformed, stats.malformed + stats.duplicates);
    assertThat(duplicates).isPositive();
    assertThat(outOfOrder).isTrue();
    assertThat(depthAfter).as("depth is off after 2 s").isZero();
    // 5 modalities for the first 20 ticks, 4 after, per rig, plus duplicates.
    long frames =
        stats.perTopic.entrySet().stream()
            .filter(e -> e.getKey().startsWith("frames."))
            .mapToLong(Map.Entry::getValue)
            .sum();
    assertThat(frames).isEqualTo(2 * (20 * 5 + 20 * 4) + stats.duplicates);
    SingleObjectSerde<Telemetry> tel = SingleObjectSerde.forClass(Telemetry.class);
    List<Telemetry> telemetry = new ArrayList<>();
    for (Sent x : sent) {
      if (x.topic.equals(Topics.TELEMETRY)) {
        telemetry.add(tel.decode(x.value));
      }
    }
    assertThat(telemetry).hasSize(8 * 2);
    assertThat(telemetry).allSatisfy(t -> assertThat(t.getGpuUtilization()).isBetween(0.3, 0.6));
    SingleObjectSerde<QaQuestion> qs = SingleObjectSerde.forClass(QaQuestion.class);
    int questions = 0;
    for (Sent x : sent) {
      if (x.topic.equals(Topics.QA_QUESTIONS)) {
        QaQuestion q = qs.decode(x.value);
        assertThat(q.getText()).endsWith("?");
        questions++;
      }
    }
    assertThat(questions).isEqualTo(4 * 2);
  }

  @Test
  void telemetryFollowsTheScenario() throws Exception {
    Scenario s =
        Scenario.load(Path.of("scenarios", "night-shift.yaml"))
            .withOverrides(1, 1.0, 60.0, Scenario.Faults.NONE);
    List<Telemetry> hot = new ArrayList<>();
    List<Telemetry> calm = new ArrayList<>();
    SingleObjectSerde<Telemetry> tel = SingleObjectSerde.forClass(Telemetry.class);
    new ReplayPublisher(
            s,
            (t, k, v, ts) -> {
              if (t.equals(Topics.TELEMETRY)) {
                try {
                  Telemetry r = tel.decode(v);
                  (r.getThrottled() ? hot : calm).add(r);
                } catch (WireFormatException e) {
                  throw new AssertionError(e);
                }
              }
            },
            0L,
            0)
        .run();
    assertThat(calm).hasSize(2 * 80);
    assertThat(hot).hasSize(2 * 40);
    assertThat(hot).allSatisfy(t -> assertThat(t.getGpuUtilization()).isGreaterThan(0.85));
  }

  @Test
  void truthIsPublishedOnlyWhenAskedAndMatchesTheScene() throws Exception {
    Scenario s =
        Scenario.load(Path.of("scenarios", "night-shift.yaml"))
            .withOverrides(2, 5.0, 2.0, Scenario.Faults.NONE);
    List<Sent> without = new ArrayList<>();
    new ReplayPublisher(s, (t, k, v, ts) -> without.add(new Sent(t, k, v, ts)), 0L, 0).run();
    assertThat(without).noneMatch(x -> x.topic().equals(Topics.SIM_TRUTH));

    List<Sent> with = new ArrayList<>();
    new ReplayPublisher(s, (t, k, v, ts) -> with.add(new Sent(t, k, v, ts)), 0L, 0)
        .withTruth(true)
        .run();
    SingleObjectSerde<ObjectState> truth = SingleObjectSerde.forClass(ObjectState.class);
    List<Sent> truths = with.stream().filter(x -> x.topic().equals(Topics.SIM_TRUTH)).toList();
    // One per rig and tick, stamped with the capture time of that tick's frames.
    assertThat(truths).hasSize(2 * 10);
    Set<String> frameKeys = new HashSet<>();
    for (Sent x : with) {
      if (x.topic().startsWith("frames.")) {
        frameKeys.add(x.key() + "@" + x.ts());
      }
    }
    for (Sent x : truths) {
      assertThat(frameKeys).contains(x.key() + "@" + x.ts());
      ObjectState o = truth.decode(x.value());
      assertThat(Math.abs(o.getXCm())).isLessThanOrEqualTo(300.0);
      assertThat(Math.abs(o.getYCm())).isLessThanOrEqualTo(300.0);
    }
    // The frames themselves are unchanged by publishing the truth.
    assertThat(with.stream().filter(x -> !x.topic().equals(Topics.SIM_TRUTH)).count())
        .isEqualTo(without.size());
  }
}
