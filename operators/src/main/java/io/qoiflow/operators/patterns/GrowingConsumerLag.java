package io.qoiflow.operators.patterns;

import io.qoiflow.records.Telemetry;
import java.time.Duration;
import org.apache.flink.cep.nfa.aftermatch.AfterMatchSkipStrategy;
import org.apache.flink.cep.pattern.Pattern;
import org.apache.flink.cep.pattern.conditions.IterativeCondition;
import org.apache.flink.cep.pattern.conditions.SimpleCondition;

/** Three consecutive readings with lag above the floor and growing each time: step down. */
public final class GrowingConsumerLag implements BudgetPattern {
  private static final long serialVersionUID = 1L;

  @Override
  public String name() {
    return "growing-consumer-lag";
  }

  @Override
  public BudgetSignal.Direction direction() {
    return BudgetSignal.Direction.DOWN;
  }

  @Override
  public Pattern<Telemetry, ?> pattern(BudgetThresholds th) {
    return Pattern.<Telemetry>begin("first", AfterMatchSkipStrategy.skipPastLastEvent())
        .where(SimpleCondition.of(t -> t.getConsumerLag() > th.lagFloor()))
        .next("second")
        .where(growsFrom("first"))
        .next("third")
        .where(growsFrom("second"))
        .within(Duration.ofMillis(th.windowMs()));
  }

  private static IterativeCondition<Telemetry> growsFrom(String previous) {
    return new IterativeCondition<>() {
      private static final long serialVersionUID = 1L;

      @Override
      public boolean filter(Telemetry t, Context<Telemetry> ctx) throws Exception {
        for (Telemetry p : ctx.getEventsForPattern(previous)) {
          if (t.getConsumerLag() <= p.getConsumerLag()) {
            return false;
          }
        }
        return true;
      }
    };
  }
}
