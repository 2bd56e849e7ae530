package io.qoiflow.operators.patterns;

import io.qoiflow.records.Telemetry;
import java.time.Duration;
import org.apache.flink.cep.nfa.aftermatch.AfterMatchSkipStrategy;
import org.apache.flink.cep.pattern.Pattern;
import org.apache.flink.cep.pattern.conditions.SimpleCondition;

/**
 * N consecutive calm readings (low utilisation, p99 under half the objective, lag under the floor,
 * no throttling): the budget may step up.
 */
public final class SustainedHeadroom implements BudgetPattern {
  private static final long serialVersionUID = 1L;

  @Override
  public String name() {
    return "sustained-headroom";
  }

  @Override
  public BudgetSignal.Direction direction() {
    return BudgetSignal.Direction.UP;
  }

  @Override
  public Pattern<Telemetry, ?> pattern(BudgetThresholds th) {
    return Pattern.<Telemetry>begin("calm", AfterMatchSkipStrategy.skipPastLastEvent())
        .where(
            SimpleCondition.of(
                t ->
                    t.getGpuUtilization() < th.headroomUtilisation()
                        && t.getInferenceP99Ms() < th.latencyObjectiveMs() / 2
                        && t.getConsumerLag() < th.lagFloor()
                        && !t.getThrottled()))
        .times(th.headroomRun())
        .consecutive()
        .within(Duration.ofMillis(th.windowMs()));
  }
}
