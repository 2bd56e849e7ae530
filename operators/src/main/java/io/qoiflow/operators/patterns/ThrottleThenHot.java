package io.qoiflow.operators.patterns;

import io.qoiflow.records.Telemetry;
import java.time.Duration;
import org.apache.flink.cep.nfa.aftermatch.AfterMatchSkipStrategy;
import org.apache.flink.cep.pattern.Pattern;
import org.apache.flink.cep.pattern.conditions.SimpleCondition;

/** A throttle event followed (not necessarily at once) by a high temperature: step down. */
public final class ThrottleThenHot implements BudgetPattern {
  private static final long serialVersionUID = 1L;

  @Override
  public String name() {
    return "throttle-then-hot";
  }

  @Override
  public BudgetSignal.Direction direction() {
    return BudgetSignal.Direction.DOWN;
  }

  @Override
  public Pattern<Telemetry, ?> pattern(BudgetThresholds th) {
    return Pattern.<Telemetry>begin("throttled", AfterMatchSkipStrategy.skipPastLastEvent())
        .where(SimpleCondition.of(Telemetry::getThrottled))
        .followedBy("hot")
        .where(SimpleCondition.of(t -> t.getTemperatureC() >= th.throttleHotTemperatureC()))
        .within(Duration.ofMillis(th.windowMs()));
  }
}
