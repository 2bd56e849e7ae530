package io.qoiflow.simulator;

import java.util.SplittableRandom;

/** Deterministic random streams and fast table-based Gaussian and exponential draws. */
public final class Rng {
  private static final int TABLE_BITS = 16;
  private static final int TABLE_MASK = (1 << TABLE_BITS) - 1;
  private static final float[] GAUSS = new float[1 << TABLE_BITS];
  private static final float[] EXP = new float[1 << TABLE_BITS];

  static {
    // Inverse-CDF tables at stratified quantiles: deterministic and independent of the JVM.
    int n = 1 << TABLE_BITS;
    for (int i = 0; i < n; i++) {
      double u = (i + 0.5) / n;
      GAUSS[i] = (float) inverseNormal(u);
      EXP[i] = (float) -Math.log(1 - u);
    }
  }

  private Rng() {}

  /** SplitMix64 finaliser: a well-mixed 64-bit hash. */
  public static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
    z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
    return z ^ (z >>> 31);
  }

  /** An independent stream for (seed, index, purpose). */
  public static SplittableRandom stream(long seed, long index, long purpose) {
    return new SplittableRandom(
        mix(mix(mix(seed) + 0x9E3779B97F4A7C15L * (index + 1)) + 0xD1B54A32D192ED03L * purpose));
  }

  /** Standard normal draw (table of 65536 stratified quantiles). */
  public static double gauss(SplittableRandom r) {
    return GAUSS[r.nextInt() & TABLE_MASK];
  }

  /** Unit-mean exponential draw (power of complex Gaussian noise). */
  public static double exp(SplittableRandom r) {
    return EXP[r.nextInt() & TABLE_MASK];
  }

  public static double uniform(SplittableRandom r, double lo, double hi) {
    return lo + (hi - lo) * r.nextDouble();
  }

  /** Acklam's rational approximation of the standard normal quantile. */
  static double inverseNormal(double p) {
    double[] a = {
      -3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
      1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00
    };
    double[] b = {
      -5.447609879822406e+01,
      1.615858368580409e+02,
      -1.556989798598866e+02,
      6.680131188771972e+01,
      -1.328068155288572e+01
    };
    double[] c = {
      -7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
      -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00
    };
    double[] d = {
      7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00
    };
    double q;
    if (p < 0.02425) {
      q = Math.sqrt(-2 * Math.log(p));
      return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5])
          / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
    }
    if (p > 1 - 0.02425) {
      q = Math.sqrt(-2 * Math.log(1 - p));
      return -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5])
          / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
    }
    q = p - 0.5;
    double r = q * q;
    return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5])
        * q
        / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
  }
}
