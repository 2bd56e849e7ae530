package io.qoiflow.operators.patterns;

import io.qoiflow.records.Telemetry;
import java.time.Duration;
import org.apache.flink.cep.nfa.aftermatch.AfterMatchSkipStrategy;
import org.apache.flink.cep.pattern.Pattern;
import org.apache.flink.cep.pattern.conditions.SimpleCondition;

/** N consecutive readings whose p99 inference latency is over the objective: step down. */
public final class LatencyObjectiveBreach implements BudgetPattern {
  private static final long serialVersionUID = 1L;

  @Override
  public String name() {
    return "p99-over-objective";
  }

  @Override
  public BudgetSignal.Direction direction() {
    return BudgetSignal.Direction.DOWN;
  }

  @Override
  public Pattern<Telemetry, ?> pattern(BudgetThresholds th) {
    return Pattern.<Telemetry>begin("slow", AfterMatchSkipStrategy.skipPastLastEvent())
        .where(SimpleCondition.of(t -> t.getInferenceP99Ms() > th.latencyObjectiveMs()))
        .times(th.latencyBreachRun())
        .consecutive()
        .within(Duration.ofMillis(th.windowMs()));
  }
}
