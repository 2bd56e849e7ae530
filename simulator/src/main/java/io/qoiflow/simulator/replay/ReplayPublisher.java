package io.qoiflow.simulator.replay;

import io.qoiflow.records.ObjectState;
import io.qoiflow.records.QaPair;
import io.qoiflow.records.QaQuestion;
import io.qoiflow.records.SensorFrame;
import io.qoiflow.records.Telemetry;
import io.qoiflow.schemas.KafkaClientProperties;
import io.qoiflow.schemas.SensorContract;
import io.qoiflow.schemas.SingleObjectSerde;
import io.qoiflow.schemas.Topics;
import io.qoiflow.simulator.Corruption;
import io.qoiflow.simulator.Questions;
import io.qoiflow.simulator.Rng;
import io.qoiflow.simulator.Scene;
import io.qoiflow.simulator.Simulator;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Properties;
import java.util.SplittableRandom;
import java.util.TreeMap;
import org.apache.kafka.clients.producer.ProducerConfig;

/**
 * Plays a {@link Scenario}: K rigs with continuously moving scenes, frames per modality to the
 * frame topics (keyed by rig id, single-object Avro), telemetry of the inference pool and scene
 * questions, with optional send-time jitter, reordering, duplicates and malformed records.
 */
public final class ReplayPublisher {
  /** Where records go (Kafka in the CLI, a list in tests). */
  public interface Sink {
    void send(String topic, String key, byte[] value, long timestampMs);
  }

  /** What was sent, per topic, plus the injected faults. */
  public static final class Stats {
    public final Map<String, Long> perTopic = new TreeMap<>();
    public long malformed;
    public long duplicates;
    public long reordered;
    public long ticks;

    void count(String topic) {
      perTopic.merge(topic, 1L, Long::sum);
    }

    @Override
    public String toString() {
      return "ticks="
          + ticks
          + " records="
          + perTopic
          + " malformed="
          + malformed
          + " duplicates="
          + duplicates
          + " reordered="
          + reordered;
    }
  }

  private record Pending(long dueMs, long order, String topic, String key, byte[] value, long ts)
      implements Comparable<Pending> {
    @Override
    public int compareTo(Pending o) {
      int c = Long.compare(dueMs, o.dueMs);
      return c != 0 ? c : Long.compare(order, o.order);
    }
  }

  private static final SingleObjectSerde<SensorFrame> FRAME_SERDE =
      SingleObjectSerde.forClass(SensorFrame.class);
  private static final SingleObjectSerde<Telemetry> TELEMETRY_SERDE =
      SingleObjectSerde.forClass(Telemetry.class);
  private static final SingleObjectSerde<QaQuestion> QUESTION_SERDE =
      SingleObjectSerde.forClass(QaQuestion.class);
  private static final SingleObjectSerde<ObjectState> TRUTH_SERDE =
      SingleObjectSerde.forClass(ObjectState.class);

  private final Scenario scenario;
  private final Sink sink;
  private final long startTimeMs;
  private final double speed;
  private final PriorityQueue<Pending> queue = new PriorityQueue<>();
  private final Stats stats = new Stats();
  private long order;
  private boolean publishTruth;

  /**
   * @param startTimeMs event time of scenario second 0, epoch ms
   * @param speed real-time factor for pacing (1 = real time, 0 = as fast as possible)
   */
  public ReplayPublisher(Scenario scenario, Sink sink, long startTimeMs, double speed) {
    this.scenario = scenario;
    this.sink = sink;
    this.startTimeMs = startTimeMs;
    this.speed = speed;
  }

  /**
   * Also publish each rig's true target state per tick to {@link Topics#SIM_TRUTH} (for the
   * dashboard); off by default, so runs that only feed the job send nothing extra.
   */
  public ReplayPublisher withTruth(boolean publish) {
    this.publishTruth = publish;
    return this;
  }

  /**
   * The event time of scenario second 0 for a replay that starts now at {@code speed}, chosen so
   * that no frame is ever stamped ahead of the clock: at real time or slower the scenario starts
   * now; faster, it starts as far back as the replay gains on the clock (duration × (1 − 1/speed));
   * as fast as possible ({@code speed <= 0}) it ends now. A job rejects frames stamped too far in
   * the future ({@code future-timestamp}), so a fast replay stamped from now would lose most of its
   * sets.
   */
  public static long startTimeEndingNoLaterThanNow(Scenario scenario, double speed, long nowMs) {
    double durationMs = scenario.durationS() * 1000;
    double aheadMs = speed <= 0 ? durationMs : Math.max(0, durationMs * (1 - 1 / speed));
    return nowMs - (long) Math.ceil(aheadMs);
  }

  /** Producer settings for replaying into Kafka: a little linger, room for the largest frames. */
  public static Properties producerProperties(String bootstrap) {
    return producerProperties(KafkaClientProperties.bootstrap(bootstrap));
  }

  /** The same defaults with the user's client properties over them. */
  public static Properties producerProperties(KafkaClientProperties kafka) {
    return kafka.over(
        Map.of(
            ProducerConfig.LINGER_MS_CONFIG,
            "5",
            ProducerConfig.MAX_REQUEST_SIZE_CONFIG,
            String.valueOf(4 * 1024 * 1024)));
  }

  public static String rigId(int r) {
    return "rig-" + r;
  }

  public Stats run() throws InterruptedException {
    int rigs = scenario.rigs();
    long seed = scenario.seed();
    List<Scene> scenes = new ArrayList<>();
    List<Simulator> sims = new ArrayList<>();
    List<SplittableRandom> motion = new ArrayList<>();
    for (int r = 0; r < rigs; r++) {
      scenes.add(Scene.random(Rng.stream(seed, r, 100)));
      sims.add(new Simulator(seed, scenario.specAt(0), rigId(r)));
      motion.add(Rng.stream(seed, r, 101));
    }
    SplittableRandom faults = Rng.stream(seed, -1, 102);
    SplittableRandom telemetryNoise = Rng.stream(seed, -1, 103);
    Scenario.Faults f = scenario.faults();
    double dt = 1.0 / scenario.rateHz();
    long ticks = (long) Math.floor(scenario.durationS() * scenario.rateHz());
    long tickMs = Math.max(1, Math.round(1000 * dt));
    long nextTelemetryMs = 0;
    long telemetryPeriod = scenario.telemetry() == null ? 0 : scenario.telemetry().periodMs();
    double nextQuestionS = scenario.questionEveryS() > 0 ? 0 : Double.POSITIVE_INFINITY;
    long questionCounter = 0;
    long wallStart = System.nanoTime();
    for (long k = 0; k < ticks; k++) {
      double t = k * dt;
      long tMs = Math.round(t * 1000);
      drainUntil(tMs, wallStart);
      while (telemetryPeriod > 0 && nextTelemetryMs <= tMs) {
        emitTelemetry(nextTelemetryMs, telemetryNoise);
        nextTelemetryMs += telemetryPeriod;
      }
      long captureTime = startTimeMs + tMs;
      for (int r = 0; r < rigs; r++) {
        Scene scene = scenes.get(r);
        if (k > 0) {
          scene.step(dt, motion.get(r));
        }
        List<Corruption> cs = scenario.specAt(t).draw(Rng.stream(seed + 7919L * r, k, 2));
        List<SensorFrame> frames =
            sims.get(r).render(scene, cs, seed + 7919L * r, k, captureTime, k);
        if (publishTruth) {
          // Sent when the tick is due, unaffected by the frames' injected faults.
          enqueue(
              tMs,
              Topics.SIM_TRUTH,
              rigId(r),
              TRUTH_SERDE.encode(Simulator.state(scene.target())),
              captureTime);
        }
        for (SensorFrame frame : frames) {
          byte[] bytes = FRAME_SERDE.encode(frame);
          long due = tMs;
          if (f.jitterMs() > 0) {
            due += (long) (faults.nextDouble() * f.jitterMs());
          }
          if (f.reorder() > 0 && faults.nextDouble() < f.reorder()) {
            due += tickMs * (1 + faults.nextInt(3));
            stats.reordered++;
          }
          if (f.malformed() > 0 && faults.nextDouble() < f.malformed()) {
            bytes = malform(bytes, faults);
            stats.malformed++;
          }
          String topic = SensorContract.topic(frame.getModality());
          enqueue(due, topic, rigId(r), bytes, captureTime);
          if (f.duplicates() > 0 && faults.nextDouble() < f.duplicates()) {
            enqueue(due + 1 + faults.nextInt((int) tickMs), topic, rigId(r), bytes, captureTime);
            stats.duplicates++;
          }
        }
      }
      if (t >= nextQuestionS) {
        for (int r = 0; r < rigs; r++) {
          List<QaPair> qs = Questions.generate(scenes.get(r), Rng.stream(seed + r, k, 3));
          QaPair q = qs.get(faults.nextInt(qs.size()));
          QaQuestion question =
              QaQuestion.newBuilder()
                  .setQuestionId(rigId(r) + "-q" + questionCounter++)
                  .setRigId(rigId(r))
                  .setAskedTime(Instant.ofEpochMilli(captureTime))
                  .setText(q.getQuestion())
                  .setQuestionType(q.getQuestionType())
                  .build();
          enqueue(tMs, Topics.QA_QUESTIONS, rigId(r), QUESTION_SERDE.encode(question), captureTime);
        }
        nextQuestionS += scenario.questionEveryS();
      }
      stats.ticks++;
    }
    long endMs = Math.round(scenario.durationS() * 1000);
    while (telemetryPeriod > 0 && nextTelemetryMs < endMs) {
      emitTelemetry(nextTelemetryMs, telemetryNoise);
      nextTelemetryMs += telemetryPeriod;
    }
    drainUntil(Long.MAX_VALUE, wallStart);
    return stats;
  }

  private void enqueue(long due, String topic, String key, byte[] value, long ts) {
    queue.add(new Pending(due, order++, topic, key, value, ts));
  }

  private void drainUntil(long virtualMs, long wallStart) throws InterruptedException {
    while (!queue.isEmpty() && queue.peek().dueMs() <= virtualMs) {
      Pending p = queue.poll();
      pace(p.dueMs(), wallStart);
      sink.send(p.topic(), p.key(), p.value(), p.ts());
      stats.count(p.topic());
    }
    if (virtualMs != Long.MAX_VALUE) {
      pace(virtualMs, wallStart);
    }
  }

  private void pace(long virtualMs, long wallStart) throws InterruptedException {
    if (speed <= 0) {
      return;
    }
    long targetNanos = wallStart + (long) (virtualMs * 1e6 / speed);
    long wait = targetNanos - System.nanoTime();
    if (wait > 1_000_000) {
      Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
    }
  }

  private void emitTelemetry(long tMs, SplittableRandom noise) {
    Scenario.Telemetry tel = scenario.telemetry();
    Scenario.TelemetryLevel level = scenario.telemetryAt(tMs / 1000.0);
    if (level == null) {
      return;
    }
    for (int h = 0; h < tel.hosts(); h++) {
      double util = clamp(level.gpuUtilization() + 0.03 * Rng.gauss(noise), 0, 1);
      double mem =
          clamp(level.memoryUsedMb() * (1 + 0.02 * Rng.gauss(noise)), 0, tel.memoryTotalMb());
      double p50 = Math.max(0.1, level.p50Ms() * (1 + 0.05 * Rng.gauss(noise)));
      double p99 = Math.max(p50, level.p99Ms() * (1 + 0.08 * Rng.gauss(noise)));
      Telemetry rec =
          Telemetry.newBuilder()
              .setPoolId(tel.pool())
              .setHostId(tel.pool() + "-host-" + h)
              .setTime(Instant.ofEpochMilli(startTimeMs + tMs))
              .setGpuUtilization(util)
              .setMemoryUsedMb(mem)
              .setMemoryTotalMb(tel.memoryTotalMb())
              .setTemperatureC(level.temperatureC() + 0.5 * Rng.gauss(noise))
              .setThrottled(level.throttled())
              .setInferenceP50Ms(p50)
              .setInferenceP99Ms(p99)
              .setQueueDepth(Math.max(0, level.queueDepth() + (int) Math.round(Rng.gauss(noise))))
              .setConsumerLag(level.consumerLag())
              .build();
      enqueue(
          tMs, Topics.TELEMETRY, rec.getHostId(), TELEMETRY_SERDE.encode(rec), startTimeMs + tMs);
    }
  }

  /** One of: bad marker, unknown fingerprint, truncated body, random garbage. */
  static byte[] malform(byte[] good, SplittableRandom r) {
    byte[] b;
    switch (r.nextInt(4)) {
      case 0 -> {
        b = good.clone();
        b[0] = (byte) 0x7B;
      }
      case 1 -> {
        b = good.clone();
        b[5] ^= (byte) 0x5A;
      }
      case 2 -> b = java.util.Arrays.copyOf(good, 10 + r.nextInt(Math.max(1, good.length / 2)));
      default -> {
        b = new byte[1 + r.nextInt(64)];
        for (int i = 0; i < b.length; i++) {
          b[i] = (byte) r.nextInt(256);
        }
      }
    }
    return b;
  }

  private static double clamp(double v, double lo, double hi) {
    return Math.max(lo, Math.min(hi, v));
  }
}
