package io.qoiflow.operators.patterns;

/** A CEP pattern match over a pool's telemetry: a request to move the budget down or up. */
public class BudgetSignal {
  public enum Direction {
    DOWN,
    UP
  }

  public String poolId;
  public long time;
  public String pattern;
  public Direction direction;

  /** For Flink's POJO serializer. */
  public BudgetSignal() {}

  public BudgetSignal(String poolId, long time, String pattern, Direction direction) {
    this.poolId = poolId;
    this.time = time;
    this.pattern = pattern;
    this.direction = direction;
  }

  @Override
  public String toString() {
    return "BudgetSignal[" + poolId + " " + direction + " by " + pattern + " at " + time + "]";
  }
}
