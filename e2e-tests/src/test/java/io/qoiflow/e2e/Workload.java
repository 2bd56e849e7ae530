package io.qoiflow.e2e;

import io.qoiflow.records.LabelledSample;
import io.qoiflow.records.SensorFrame;
import io.qoiflow.schemas.SensorContract;
import io.qoiflow.schemas.SingleObjectSerde;
import io.qoiflow.simulator.CorruptionSpec;
import io.qoiflow.simulator.Simulator;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Simulator samples of K rigs, one "tick" (sample index, 100 ms of event time) after another,
 * rendered as they are sent and produced to the modality topics at a chosen rate. Sample indices
 * continue from one scenario to the next (the test hands out index ranges), so event time keeps
 * moving forward on the shared job.
 *
 * <p>The last {@link #TAIL} ticks produced are not expected as results: they move event time past
 * the join deadline of the last expected sample, so its set is emitted even if incomplete. Every
 * expected sample (one with at least one frame) must leave the job as exactly one result, keyed
 * {@code rig@captureTimeMs}.
 */
public final class Workload {
  /** Trailing ticks: 10 × 100 ms, past max wait (500 ms) + out-of-orderness (200 ms). */
  public static final int TAIL = 10;

  private final long fromIndex;
  private final int maxTicks;
  private final List<Simulator> sims = new ArrayList<>();
  private final SingleObjectSerde<SensorFrame> serde =
      SingleObjectSerde.forClass(SensorFrame.class);
  private final List<List<LabelledSample>> sentSamples = new ArrayList<>();
  private final Map<Integer, List<ProducerRecord<byte[], byte[]>>> recentRecords =
      new ConcurrentHashMap<>();
  private final AtomicInteger ticksSent = new AtomicInteger();
  private List<List<ProducerRecord<byte[], byte[]>>> prerendered;
  private volatile boolean stopRequested;
  private volatile boolean paused;
  private volatile KafkaProducer<byte[], byte[]> replacement;
  private volatile boolean done;

  private Workload(long fromIndex, int maxTicks) {
    this.fromIndex = fromIndex;
    this.maxTicks = maxTicks;
  }

  /**
   * Rigs {@code <prefix>-0..k-1}, at most {@code ticks} expected sample indices from {@code
   * fromIndex} (plus the tail); {@link #stop()} ends it earlier.
   */
  public static Workload of(String prefix, int rigs, long fromIndex, int ticks, long seed) {
    Workload w = new Workload(fromIndex, ticks + TAIL);
    for (int r = 0; r < rigs; r++) {
      w.sims.add(new Simulator(seed + r, CorruptionSpec.parse("random"), prefix + "-" + r));
    }
    return w;
  }

  /** The most index numbers this workload may use (tail included). */
  public int maxTicks() {
    return maxTicks;
  }

  public static String topicOf(SensorFrame f) {
    return SensorContract.topic(f.getModality());
  }

  public static String key(String rig, long captureTimeMs) {
    return rig + "@" + captureTimeMs;
  }

  public static String key(LabelledSample s) {
    SensorFrame first = s.getFrames().get(0);
    return key(first.getRigId(), first.getCaptureTime().toEpochMilli());
  }

  /** Expected samples by key: every tick sent but the tail. Call after production ended. */
  public Map<String, LabelledSample> expected() {
    if (!done) {
      throw new IllegalStateException("still producing");
    }
    Map<String, LabelledSample> out = new LinkedHashMap<>();
    synchronized (sentSamples) {
      for (int t = 0; t < sentSamples.size() - TAIL; t++) {
        for (LabelledSample s : sentSamples.get(t)) {
          out.put(key(s), s);
        }
      }
    }
    return out;
  }

  public int ticksSent() {
    return ticksSent.get();
  }

  public boolean done() {
    return done;
  }

  /** The records of tick {@code t}, while it is one of the last few sent. */
  public List<ProducerRecord<byte[], byte[]>> recordsOf(int t) {
    return recentRecords.get(t);
  }

  /** Renders every tick now, so producing costs no rendering (for high offered rates). */
  public Workload prerender() {
    List<List<ProducerRecord<byte[], byte[]>>> all = new ArrayList<>();
    for (int t = 0; t < maxTicks; t++) {
      all.add(render(t));
    }
    synchronized (sentSamples) {
      prerendered = all;
      pending = new ArrayList<>(sentSamples);
      sentSamples.clear();
    }
    return this;
  }

  private List<List<LabelledSample>> pending;

  /** Holds production (before the next tick) until {@link #resume()}; pacing restarts then. */
  public void pause() {
    paused = true;
  }

  public void resume() {
    paused = false;
  }

  /**
   * From the next tick on, sends through {@code producer} instead (e.g. after a broker restart).
   */
  public void useProducer(KafkaProducer<byte[], byte[]> producer) {
    replacement = producer;
  }

  /** Ends production early: only {@link #TAIL} more ticks are sent. */
  public void stop() {
    stopRequested = true;
  }

  private List<ProducerRecord<byte[], byte[]>> render(int t) {
    List<LabelledSample> samples = new ArrayList<>();
    List<ProducerRecord<byte[], byte[]>> records = new ArrayList<>();
    for (Simulator sim : sims) {
      LabelledSample s = sim.sample(fromIndex + t);
      if (s.getFrames().isEmpty()) {
        continue;
      }
      samples.add(s);
      for (SensorFrame f : s.getFrames()) {
        records.add(
            new ProducerRecord<>(
                topicOf(f),
                null,
                f.getCaptureTime().toEpochMilli(),
                f.getRigId().getBytes(),
                serde.encode(f)));
      }
    }
    synchronized (sentSamples) {
      sentSamples.add(samples);
    }
    recentRecords.put(t, records);
    recentRecords.remove(t - 8);
    return records;
  }

  /**
   * Renders and produces tick after tick, {@code ticksPerSecond} a second (0: as fast as possible);
   * {@code beforeTick} (may be null) runs before each tick with its number.
   */
  public void produce(
      KafkaProducer<byte[], byte[]> producer,
      double ticksPerSecond,
      java.util.function.IntConsumer beforeTick) {
    long t0 = System.nanoTime();
    int last = maxTicks;
    for (int t = 0; t < last; t++) {
      if (stopRequested && last == maxTicks) {
        last = Math.min(maxTicks, t + TAIL);
      }
      if (paused) {
        while (paused) {
          FlinkCluster.sleep(50);
        }
        t0 = System.nanoTime() - (long) (t * 1e9 / Math.max(ticksPerSecond, 1e-9));
      }
      if (ticksPerSecond > 0) {
        long wait = t0 + (long) (t * 1e9 / ticksPerSecond) - System.nanoTime();
        if (wait > 0) {
          FlinkCluster.sleep(TimeUnit.NANOSECONDS.toMillis(wait));
        }
      }
      List<ProducerRecord<byte[], byte[]>> records;
      if (prerendered != null) {
        records = prerendered.get(t);
        synchronized (sentSamples) {
          sentSamples.add(pending.get(t));
        }
      } else {
        records = render(t);
      }
      if (beforeTick != null) {
        beforeTick.accept(t);
      }
      if (replacement != null) {
        producer = replacement;
      }
      for (ProducerRecord<byte[], byte[]> r : records) {
        producer.send(r);
      }
      ticksSent.incrementAndGet();
    }
    if (replacement != null) {
      producer = replacement;
    }
    producer.flush();
    done = true;
  }

  /** Produces in a background thread; failures land in {@code failures}. */
  public Thread produceInBackground(
      KafkaProducer<byte[], byte[]> producer, double ticksPerSecond, List<Throwable> failures) {
    Thread t =
        new Thread(
            () -> {
              try {
                produce(producer, ticksPerSecond, null);
              } catch (Throwable e) {
                failures.add(e);
                done = true;
              }
            },
            "produce");
    t.setDaemon(true);
    t.start();
    return t;
  }

  /** A producer that rides out a broker restart: idempotent, acks=all, long delivery timeout. */
  public static KafkaProducer<byte[], byte[]> producer(String bootstrap) {
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    p.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, 8 << 20);
    p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 300_000);
    p.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 30_000);
    p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 300_000);
    p.put(ProducerConfig.LINGER_MS_CONFIG, 5);
    p.put(ProducerConfig.BUFFER_MEMORY_CONFIG, 256L << 20);
    return new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
  }
}
