package io.qoiflow.operators.patterns;

import io.qoiflow.records.Telemetry;
import java.io.Serializable;
import java.util.List;
import org.apache.flink.cep.pattern.Pattern;

/** A named CEP pattern over one pool's telemetry that asks for a budget step down or up. */
public interface BudgetPattern extends Serializable {
  /** The reason written into budget decisions, e.g. {@code sustained-high-utilisation}. */
  String name();

  BudgetSignal.Direction direction();

  Pattern<Telemetry, ?> pattern(BudgetThresholds thresholds);

  /** Every pattern the job runs. */
  static List<BudgetPattern> all() {
    return List.of(
        new SustainedHighUtilisation(),
        new ThrottleThenHot(),
        new LatencyObjectiveBreach(),
        new GrowingConsumerLag(),
        new SustainedHeadroom());
  }
}
