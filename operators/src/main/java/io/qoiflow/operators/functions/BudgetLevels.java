package io.qoiflow.operators.functions;

import java.io.Serializable;
import java.util.Arrays;

/**
 * The budget ladder: fractions of all backbone layers the pool may run at, ascending, with the
 * initial level and how long an upward step must wait after any change (down steps never wait).
 */
public record BudgetLevels(double[] fractions, double initial, long upCooldownMs)
    implements Serializable {

  public BudgetLevels {
    fractions = fractions.clone();
    Arrays.sort(fractions);
    if (fractions.length == 0 || fractions[0] <= 0 || fractions[fractions.length - 1] > 1) {
      throw new IllegalArgumentException("budget fractions must lie in (0, 1]");
    }
  }

  /** 25/33/50/67/100 % of all layers, starting at full depth, 10 s before each step up. */
  public static BudgetLevels defaults() {
    return new BudgetLevels(new double[] {0.25, 0.33, 0.5, 0.67, 1.0}, 1.0, 10_000);
  }

  /** Drops levels below the model's minimum (one layer per modality). */
  public BudgetLevels atLeast(double minFraction) {
    double[] kept = Arrays.stream(fractions).filter(f -> f >= minFraction - 1e-9).toArray();
    if (kept.length == 0) {
      kept = new double[] {minFraction};
    }
    return new BudgetLevels(kept, Math.max(initial, kept[0]), upCooldownMs);
  }

  public double lower(double current) {
    double result = fractions[0];
    for (double f : fractions) {
      if (f < current - 1e-9) {
        result = f;
      }
    }
    return Math.min(result, current);
  }

  public double higher(double current) {
    for (double f : fractions) {
      if (f > current + 1e-9) {
        return f;
      }
    }
    return current;
  }
}
