package io.qoiflow.operators.functions;

import io.qoiflow.operators.deadletter.Outcome;
import io.qoiflow.records.DeadLetter;
import java.util.HashMap;
import java.util.Map;
import org.apache.avro.specific.SpecificRecordBase;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

/**
 * Valid records go on; rejected ones go to the {@link #DEAD_LETTERS} side output and are counted in
 * {@code deadLetters.<reason>} (metric group {@code deadLetters}, one counter per reason code).
 */
public final class DeadLetterSplitter<T extends SpecificRecordBase>
    extends ProcessFunction<Outcome<T>, T> {
  private static final long serialVersionUID = 1L;

  public static final OutputTag<DeadLetter> DEAD_LETTERS =
      new OutputTag<>(
          "dead-letters",
          new org.apache.flink.formats.avro.typeutils.AvroTypeInfo<>(DeadLetter.class));

  private transient DeadLetterCounters counters;

  @Override
  public void open(OpenContext openContext) {
    counters = new DeadLetterCounters(getRuntimeContext().getMetricGroup());
  }

  @Override
  public void processElement(Outcome<T> in, Context ctx, Collector<T> out) {
    if (in.isValid()) {
      out.collect(in.value);
    } else {
      counters.count(in.deadLetter.getReasonCode());
      ctx.output(DEAD_LETTERS, in.deadLetter);
    }
  }

  /**
   * Dead letters counted by reason code: one counter {@code deadLetters} per reason, the reason a
   * label ({@code addGroup("reason", code)}; Prometheus: {@code
   * …_operator_reason_deadLetters{reason="bad_marker"}}).
   */
  public static final class DeadLetterCounters {
    private final MetricGroup group;
    private final Map<String, Counter> byReason = new HashMap<>();

    public DeadLetterCounters(MetricGroup parent) {
      this.group = parent;
    }

    public void count(String reason) {
      byReason
          .computeIfAbsent(reason, r -> group.addGroup("reason", r).counter("deadLetters"))
          .inc();
    }
  }
}
