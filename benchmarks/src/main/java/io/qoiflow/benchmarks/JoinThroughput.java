package io.qoiflow.benchmarks;

import io.qoiflow.operators.functions.FrameJoinFunction;
import io.qoiflow.operators.functions.JoinConfig;
import io.qoiflow.records.DType;
import io.qoiflow.records.FrameSet;
import io.qoiflow.records.Modality;
import io.qoiflow.records.QaQuestion;
import io.qoiflow.records.SensorFrame;
import io.qoiflow.topology.JobEnvironment;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.accumulators.LongCounter;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.formats.avro.typeutils.AvroTypeInfo;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;

/**
 * The join operator alone, as the job runs it: a Flink job (MiniCluster, parallelism 1) whose
 * source makes frames with 4-byte payloads for {@code rigs} rigs at 10 Hz (every modality of a tick
 * in a row), keyed by rig over the network into {@link FrameJoinFunction}, then a discarding sink
 * chained to it. The figure is frames per second of the join task thread's CPU time (which also
 * deserializes its input from the network), so it is per core whatever else runs on the machine.
 */
public final class JoinThroughput {
  static final String JOIN_NAME = "join alone";
  private static final long T0 = 1_767_225_600_000L;
  private static final long TICK_MS = 100;

  /**
   * @param frames frames through the join
   * @param framesPerSecondCpu frames per second of the join thread's CPU time
   * @param framesPerSecondWall frames per second of the job's wall time (start-up included)
   * @param frameSets FrameSets the join emitted (must be frames / 5)
   */
  public record Result(
      long frames, double framesPerSecondCpu, double framesPerSecondWall, long frameSets) {}

  private JoinThroughput() {}

  public static Result measure(int rigs, long frames) throws Exception {
    int modalities = Modality.values().length;
    long n = frames / (rigs * modalities) * (rigs * modalities);
    StreamExecutionEnvironment env =
        StreamExecutionEnvironment.createLocalEnvironment(1, JobEnvironment.jobConfiguration());
    DataStream<SensorFrame> in =
        env.fromSequence(0, n - 1)
            .map(new MakeFrame(rigs), new AvroTypeInfo<>(SensorFrame.class))
            .name("make frames")
            .assignTimestampsAndWatermarks(
                WatermarkStrategy.<SensorFrame>forMonotonousTimestamps()
                    .withTimestampAssigner((f, ts) -> f.getCaptureTime().toEpochMilli()));
    DataStream<QaQuestion> none =
        env.fromSequence(0, 0)
            .filter(x -> false)
            .map(x -> (QaQuestion) null, new AvroTypeInfo<>(QaQuestion.class));
    var joined =
        in.keyBy(f -> f.getRigId())
            .connect(none.keyBy(q -> q.getRigId()))
            .process(
                new FrameJoinFunction(JoinConfig.defaults()), new AvroTypeInfo<>(FrameSet.class))
            .name(JOIN_NAME)
            .uid("join-alone");
    joined.map(new CountSets()).name("count sets").sinkTo(new DiscardingSink<>());

    ThreadSampler sampler = new ThreadSampler(JOIN_NAME);
    sampler.start();
    long t0 = System.nanoTime();
    var result = env.execute("qoiflow-bench-join");
    long t1 = System.nanoTime();
    sampler.interrupt();
    sampler.join();
    long sets = result.<Long>getAccumulatorResult(CountSets.NAME);
    return new Result(n, n / (sampler.cpuNanos / 1e9), n / ((t1 - t0) / 1e9), sets);
  }

  /** Frame number {@code i}: tick i / (rigs·5), rig and modality from the rest. */
  static final class MakeFrame implements MapFunction<Long, SensorFrame> {
    private static final long serialVersionUID = 1L;
    private static final List<Integer> SHAPE = List.of(1, 2, 2);
    private final int rigs;

    MakeFrame(int rigs) {
      this.rigs = rigs;
    }

    @Override
    public SensorFrame map(Long i) {
      int modalities = Modality.values().length;
      long tick = i / (rigs * modalities);
      int rest = (int) (i % (rigs * modalities));
      return new SensorFrame(
          "rig-" + rest / modalities,
          Modality.values()[rest % modalities],
          Instant.ofEpochMilli(T0 + tick * TICK_MS),
          tick,
          SHAPE,
          DType.UINT8,
          ByteBuffer.wrap(new byte[] {1, 2, 3, 4}),
          Map.of());
    }
  }

  /** Counts the FrameSets the join emits (chained to it, so nearly free). */
  static final class CountSets extends RichMapFunction<FrameSet, Long> {
    private static final long serialVersionUID = 1L;
    static final String NAME = "framesets";
    private transient LongCounter sets;

    @Override
    public void open(OpenContext ctx) {
      sets = new LongCounter();
      getRuntimeContext().addAccumulator(NAME, sets);
    }

    @Override
    public Long map(FrameSet s) {
      sets.add(1);
      return 1L;
    }
  }

  /** Follows the CPU time of the task thread whose name starts with a prefix, every 20 ms. */
  static final class ThreadSampler extends Thread {
    private final String prefix;
    volatile long cpuNanos;

    ThreadSampler(String prefix) {
      super("join-cpu-sampler");
      this.prefix = prefix;
      setDaemon(true);
    }

    @Override
    public void run() {
      ThreadMXBean mx = ManagementFactory.getThreadMXBean();
      long id = -1;
      while (!isInterrupted()) {
        if (id < 0) {
          for (ThreadInfo t : mx.getThreadInfo(mx.getAllThreadIds())) {
            if (t != null && t.getThreadName().startsWith(prefix)) {
              id = t.getThreadId();
            }
          }
        }
        if (id >= 0) {
          long c = mx.getThreadCpuTime(id);
          if (c > 0) {
            cpuNanos = c;
          }
        }
        try {
          Thread.sleep(20);
        } catch (InterruptedException e) {
          return;
        }
      }
    }
  }
}
