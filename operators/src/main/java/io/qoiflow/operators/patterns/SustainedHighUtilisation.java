package io.qoiflow.operators.patterns;

import io.qoiflow.records.Telemetry;
import java.time.Duration;
import org.apache.flink.cep.nfa.aftermatch.AfterMatchSkipStrategy;
import org.apache.flink.cep.pattern.Pattern;
import org.apache.flink.cep.pattern.conditions.SimpleCondition;

/** N consecutive readings with utilisation over the threshold: step down. */
public final class SustainedHighUtilisation implements BudgetPattern {
  private static final long serialVersionUID = 1L;

  @Override
  public String name() {
    return "sustained-high-utilisation";
  }

  @Override
  public BudgetSignal.Direction direction() {
    return BudgetSignal.Direction.DOWN;
  }

  @Override
  public Pattern<Telemetry, ?> pattern(BudgetThresholds th) {
    return Pattern.<Telemetry>begin("saturated", AfterMatchSkipStrategy.skipPastLastEvent())
        .where(SimpleCondition.of(t -> t.getGpuUtilization() > th.highUtilisation()))
        .times(th.highUtilisationRun())
        .consecutive()
        .within(Duration.ofMillis(th.windowMs()));
  }
}
