package io.qoiflow.benchmarks;

import io.qoiflow.records.DeadLetter;
import io.qoiflow.records.FusionResult;
import io.qoiflow.schemas.SingleObjectSerde;
import io.qoiflow.schemas.Topics;
import io.qoiflow.schemas.WireFormatException;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * Watches the results topic while a job runs, with two consumers from the same start offsets: one
 * {@code read_uncommitted} (sees a result when the sink has written it into its open transaction)
 * and one {@code read_committed} (sees it when the checkpoint has committed the transaction, as a
 * downstream consumer would). Each records the wall time at which it first saw each result (key:
 * rig and capture time). The uncommitted side also snapshots CPU times at its first and latest poll
 * with records, for throughput and CPU per FrameSet between the two.
 */
final class ResultWatcher implements AutoCloseable {
  static final String ENGINE_THREAD = "qoiflow-inference";

  /** CPU times (ns) of this JVM, the engine's batcher thread and the broker at one moment. */
  record CpuSnapshot(long wallNanos, long processNs, long engineThreadNs, long brokerNs) {}

  /** CPU ns of this JVM's threads by group (task name, numbers dropped) when {@code count} seen. */
  record ThreadCpu(long wallNanos, int count, long processNs, Map<String, Long> byGroup) {}

  private static final long THREAD_SNAPSHOT_NANOS = 500_000_000L;
  private volatile ThreadCpu threadsFirst;
  private volatile ThreadCpu threadsLast;

  private final String bootstrap;
  private final Map<TopicPartition, Long> from;
  private final long brokerPid;
  private final Map<String, Long> writtenAt = new ConcurrentHashMap<>();
  private final Map<String, Long> committedAt = new ConcurrentHashMap<>();
  private final Map<String, FusionResult> results = new ConcurrentHashMap<>();
  private final Thread uncommitted;
  private final Thread committed;
  private volatile boolean running = true;
  private volatile CpuSnapshot first;
  private volatile int firstCount;
  private volatile CpuSnapshot last;
  private volatile int lastCount;
  private long engineThreadId = -1;

  ResultWatcher(String bootstrap, Map<TopicPartition, Long> from, long brokerPid) {
    this.bootstrap = bootstrap;
    this.from = from;
    this.brokerPid = brokerPid;
    this.uncommitted =
        new Thread(() -> watch("read_uncommitted", writtenAt, true), "watch-written");
    this.committed = new Thread(() -> watch("read_committed", committedAt, false), "watch-commit");
    uncommitted.setDaemon(true);
    committed.setDaemon(true);
    uncommitted.start();
    committed.start();
  }

  /** The results topic's current end offsets: where a watcher for the next run starts. */
  static Map<TopicPartition, Long> endOffsets(String bootstrap) {
    return endOffsets(bootstrap, Topics.RESULTS_FUSION);
  }

  static Map<TopicPartition, Long> endOffsets(String bootstrap, String topic) {
    try (KafkaConsumer<byte[], byte[]> c = consumer(bootstrap, "read_uncommitted")) {
      List<TopicPartition> parts =
          c.partitionsFor(topic).stream()
              .map(i -> new TopicPartition(topic, i.partition()))
              .toList();
      return new HashMap<>(c.endOffsets(parts));
    }
  }

  /** Committed dead letters from {@code from} to the end, counted by reason code. */
  static Map<String, Integer> deadLetterReasons(String bootstrap, Map<TopicPartition, Long> from) {
    SingleObjectSerde<DeadLetter> serde = SingleObjectSerde.forClass(DeadLetter.class);
    Map<String, Integer> out = new TreeMap<>();
    try (KafkaConsumer<byte[], byte[]> c = consumer(bootstrap, "read_committed")) {
      c.assign(from.keySet());
      from.forEach(c::seek);
      Map<TopicPartition, Long> end = c.endOffsets(from.keySet());
      long deadline = System.currentTimeMillis() + 10_000;
      while (System.currentTimeMillis() < deadline
          && from.keySet().stream().anyMatch(tp -> c.position(tp) < end.get(tp))) {
        for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(100))) {
          try {
            out.merge(serde.decode(r.value()).getReasonCode(), 1, Integer::sum);
          } catch (WireFormatException e) {
            out.merge("undecodable", 1, Integer::sum);
          }
        }
      }
    }
    return out;
  }

  static String key(CharSequence rig, long captureMs) {
    return rig + "@" + captureMs;
  }

  private static KafkaConsumer<byte[], byte[]> consumer(String bootstrap, String isolation) {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, isolation);
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    p.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 20);
    return new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
  }

  private void watch(String isolation, Map<String, Long> seenAt, boolean keep) {
    SingleObjectSerde<FusionResult> serde = SingleObjectSerde.forClass(FusionResult.class);
    try (KafkaConsumer<byte[], byte[]> c = consumer(bootstrap, isolation)) {
      c.assign(from.keySet());
      from.forEach(c::seek);
      while (running) {
        ConsumerRecords<byte[], byte[]> recs = c.poll(Duration.ofMillis(50));
        if (recs.isEmpty()) {
          continue;
        }
        long now = System.currentTimeMillis();
        for (ConsumerRecord<byte[], byte[]> r : recs) {
          FusionResult res;
          try {
            res = serde.decode(r.value());
          } catch (WireFormatException e) {
            continue; // not ours to judge here; the job's own tests cover the wire format
          }
          String k = key(res.getRigId(), res.getCaptureTime().toEpochMilli());
          if (seenAt.putIfAbsent(k, now) == null && keep) {
            results.put(k, res);
          }
        }
        if (keep) {
          CpuSnapshot s = snapshot();
          if (first == null) {
            first = s;
            firstCount = seenAt.size();
          }
          last = s;
          lastCount = seenAt.size();
          // Every thread's CPU time is dearer (hundreds of threads): twice a second at most.
          ThreadCpu tl = threadsLast;
          if (threadsFirst == null) {
            threadsFirst = threads(seenAt.size());
            threadsLast = threadsFirst;
          } else if (s.wallNanos() - tl.wallNanos() > THREAD_SNAPSHOT_NANOS) {
            threadsLast = threads(seenAt.size());
          }
        }
      }
    }
  }

  /** CPU times now; the engine thread's is -1 while it does not exist. */
  synchronized CpuSnapshot snapshot() {
    ThreadMXBean mx = ManagementFactory.getThreadMXBean();
    long process =
        ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
            .getProcessCpuTime();
    long engine = -1;
    if (engineThreadId >= 0) {
      engine = mx.getThreadCpuTime(engineThreadId);
    }
    if (engine < 0) {
      engineThreadId = -1;
      for (ThreadInfo t : mx.getThreadInfo(mx.getAllThreadIds())) {
        if (t != null && t.getThreadName().equals(ENGINE_THREAD)) {
          engineThreadId = t.getThreadId();
          engine = mx.getThreadCpuTime(engineThreadId);
        }
      }
    }
    return new CpuSnapshot(System.nanoTime(), process, engine, processCpuNanos(brokerPid));
  }

  private static ThreadCpu threads(int count) {
    ThreadMXBean mx = ManagementFactory.getThreadMXBean();
    Map<String, Long> by = new HashMap<>();
    for (ThreadInfo t : mx.getThreadInfo(mx.getAllThreadIds())) {
      if (t == null) {
        continue;
      }
      long c = mx.getThreadCpuTime(t.getThreadId());
      if (c > 0) {
        by.merge(group(t.getThreadName()), c, Long::sum);
      }
    }
    long process =
        ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
            .getProcessCpuTime();
    return new ThreadCpu(System.nanoTime(), count, process, by);
  }

  /** A thread's group: Flink's subtask suffix and every number dropped. */
  static String group(String threadName) {
    return threadName
        .replaceAll("\\s*\\(\\d+/\\d+\\)#\\d+$", "")
        .replaceAll("\\d+", "#")
        .replaceAll("bench-#", "bench");
  }

  /**
   * CPU ms per FrameSet by thread group between the first and the latest thread snapshot, the
   * groups above 0.02 ms, largest first; {@code unattributed}: the process's CPU time that no live
   * Java thread accounts for (GC and JIT threads, threads that ended in between, small groups).
   */
  Map<String, Double> cpuMsPerFrameSetByThread() {
    ThreadCpu a = threadsFirst;
    ThreadCpu b = threadsLast;
    Map<String, Double> out = new LinkedHashMap<>();
    if (a == null || b == null || b.count() <= a.count()) {
      return out;
    }
    int n = b.count() - a.count();
    b.byGroup().entrySet().stream()
        .map(
            e ->
                Map.entry(
                    e.getKey(),
                    (e.getValue() - a.byGroup().getOrDefault(e.getKey(), 0L)) / 1e6 / n))
        .filter(e -> e.getValue() > 0.02)
        .sorted(Map.Entry.<String, Double>comparingByValue().reversed())
        .forEach(e -> out.put(e.getKey(), e.getValue()));
    double listed = out.values().stream().mapToDouble(Double::doubleValue).sum();
    out.put("unattributed", (b.processNs() - a.processNs()) / 1e6 / n - listed);
    return out;
  }

  /** utime + stime of a process from /proc (Linux), ns; -1 where unavailable. */
  static long processCpuNanos(long pid) {
    try {
      String stat = Files.readString(Path.of("/proc", String.valueOf(pid), "stat"));
      String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      // Fields 14 and 15 of stat; after the command name they are at index 11 and 12.
      long ticks = Long.parseLong(f[11]) + Long.parseLong(f[12]);
      return ticks * 10_000_000L; // USER_HZ = 100 on Linux
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }

  int writtenCount() {
    return writtenAt.size();
  }

  int committedCount() {
    return committedAt.size();
  }

  Map<String, Long> writtenAt() {
    return writtenAt;
  }

  Map<String, Long> committedAt() {
    return committedAt;
  }

  Map<String, FusionResult> results() {
    return results;
  }

  /** Snapshots at the first and latest poll with results, with the counts seen by then. */
  CpuSnapshot first() {
    return first;
  }

  int firstCount() {
    return firstCount;
  }

  CpuSnapshot last() {
    return last;
  }

  int lastCount() {
    return lastCount;
  }

  /** Waits until the committed side has seen {@code n} results or the timeout passes. */
  boolean awaitCommitted(int n, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (committedAt.size() < n && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    return committedAt.size() >= n;
  }

  /** Same for the written (uncommitted) side. */
  boolean awaitWritten(int n, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (writtenAt.size() < n && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    return writtenAt.size() >= n;
  }

  @Override
  public void close() {
    running = false;
    try {
      uncommitted.join(5_000);
      committed.join(5_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
