package io.qoiflow.engine;

/** Latency percentiles, one definition for the job's telemetry and the benches. */
public final class Percentiles {
  private Percentiles() {}

  /**
   * Nearest-rank percentile of ascending {@code sorted} values ({@code q} in [0, 1]); NaN for no
   * values, so that an empty window is never mistaken for a zero latency.
   */
  public static double nearestRank(double[] sorted, double q) {
    if (sorted.length == 0) {
      return Double.NaN;
    }
    int rank = (int) Math.ceil(q * sorted.length);
    return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
  }
}
