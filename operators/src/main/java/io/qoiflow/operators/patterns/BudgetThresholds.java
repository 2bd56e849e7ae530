package io.qoiflow.operators.patterns;

import java.io.Serializable;

/**
 * Thresholds of the budget patterns.
 *
 * @param highUtilisation utilisation above which the device counts as saturated
 * @param highUtilisationRun consecutive saturated readings that trigger a step down
 * @param throttleHotTemperatureC temperature that, after a throttle event, triggers a step down
 * @param latencyObjectiveMs the p99 inference latency objective
 * @param latencyBreachRun consecutive readings over the objective that trigger a step down
 * @param lagFloor consumer lag below which lag growth is ignored
 * @param headroomUtilisation utilisation below which the device has headroom
 * @param headroomRun consecutive headroom readings that allow a step up
 * @param windowMs time within which a pattern must complete
 */
public record BudgetThresholds(
    double highUtilisation,
    int highUtilisationRun,
    double throttleHotTemperatureC,
    double latencyObjectiveMs,
    int latencyBreachRun,
    long lagFloor,
    double headroomUtilisation,
    int headroomRun,
    long windowMs)
    implements Serializable {

  public static BudgetThresholds defaults() {
    return new BudgetThresholds(0.9, 3, 85.0, 250.0, 2, 500, 0.5, 5, 30_000);
  }
}
