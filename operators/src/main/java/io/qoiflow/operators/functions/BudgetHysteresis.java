package io.qoiflow.operators.functions;

import io.qoiflow.operators.patterns.BudgetSignal;
import io.qoiflow.records.BudgetDecision;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;

/**
 * Turns pattern signals of a pool into budget decisions with hysteresis: a DOWN signal steps down
 * one level at once (overload hurts now); an UP signal steps up one level only when the last change
 * is at least the cool-down old (so a pool does not oscillate). Never below the lowest level, which
 * the job sets to the model's minimum. Keyed by pool id.
 *
 * <p>Signals come from one CEP operator per pattern, unioned, so they arrive in no particular
 * order. Each is held until the watermark passes its time and then applied in event-time order
 * (DOWN before UP at equal times): the decisions are the same whichever pattern's operator ran
 * first. The cost is one watermark hop of delay; the CEP operators already wait for the watermark.
 */
public final class BudgetHysteresis
    extends KeyedProcessFunction<String, BudgetSignal, BudgetDecision> {
  private static final long serialVersionUID = 1L;

  private static final Comparator<BudgetSignal> ORDER =
      Comparator.<BudgetSignal>comparingLong(s -> s.time)
          .thenComparing(s -> s.direction)
          .thenComparing(s -> s.pattern);

  private final BudgetLevels levels;
  private transient ValueState<Double> current;
  private transient ValueState<Long> lastChange;
  private transient MapState<Long, List<BudgetSignal>> held;
  private transient volatile double lastEmitted;

  public BudgetHysteresis(BudgetLevels levels) {
    this.levels = levels;
  }

  @Override
  public void open(OpenContext openContext) {
    current = getRuntimeContext().getState(new ValueStateDescriptor<>("budget", Types.DOUBLE));
    lastChange =
        getRuntimeContext().getState(new ValueStateDescriptor<>("last-change", Types.LONG));
    held =
        getRuntimeContext()
            .getMapState(
                new MapStateDescriptor<>(
                    "held-signals",
                    Types.LONG,
                    Types.LIST(TypeInformation.of(BudgetSignal.class))));
    lastEmitted = levels.initial();
    getRuntimeContext().getMetricGroup().gauge("budgetFraction", (Gauge<Double>) () -> lastEmitted);
  }

  @Override
  public void processElement(BudgetSignal signal, Context ctx, Collector<BudgetDecision> out)
      throws Exception {
    List<BudgetSignal> atTime = held.get(signal.time);
    if (atTime == null) {
      atTime = new ArrayList<>();
      ctx.timerService().registerEventTimeTimer(signal.time);
    }
    atTime.add(signal);
    held.put(signal.time, atTime);
  }

  @Override
  public void onTimer(long timestamp, OnTimerContext ctx, Collector<BudgetDecision> out)
      throws Exception {
    List<BudgetSignal> due = new ArrayList<>();
    List<Long> times = new ArrayList<>();
    for (var e : held.entries()) {
      if (e.getKey() <= timestamp) {
        due.addAll(e.getValue());
        times.add(e.getKey());
      }
    }
    for (Long t : times) {
      held.remove(t);
    }
    due.sort(ORDER);
    for (BudgetSignal signal : due) {
      apply(signal, out);
    }
  }

  private void apply(BudgetSignal signal, Collector<BudgetDecision> out) throws Exception {
    double now = current.value() == null ? levels.initial() : current.value();
    Long changedAt = lastChange.value();
    double next;
    if (signal.direction == BudgetSignal.Direction.DOWN) {
      next = levels.lower(now);
    } else {
      boolean cooled = changedAt == null || signal.time - changedAt >= levels.upCooldownMs();
      next = cooled ? levels.higher(now) : now;
    }
    if (next == now) {
      return;
    }
    current.update(next);
    lastChange.update(signal.time);
    lastEmitted = next;
    out.collect(
        BudgetDecision.newBuilder()
            .setPoolId(signal.poolId)
            .setTime(Instant.ofEpochMilli(signal.time))
            .setBudgetFraction(next)
            .setReason(signal.pattern)
            .setPreviousBudgetFraction(now)
            .build());
  }
}
