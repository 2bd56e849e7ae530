package io.qoiflow.simulator;

/** One-vs-all ridge regression classifier on standardised features (closed form). */
final class RidgeClassifier {
  private final double[] mean;
  private final double[] scale;
  private final double[][] w;

  private RidgeClassifier(double[] mean, double[] scale, double[][] w) {
    this.mean = mean;
    this.scale = scale;
    this.w = w;
  }

  static RidgeClassifier fit(double[][] x, int[] y, int classes, double lambda) {
    int n = x.length;
    int d = x[0].length;
    double[] mean = new double[d];
    double[] scale = new double[d];
    for (double[] row : x) {
      for (int j = 0; j < d; j++) {
        mean[j] += row[j] / n;
      }
    }
    for (double[] row : x) {
      for (int j = 0; j < d; j++) {
        scale[j] += (row[j] - mean[j]) * (row[j] - mean[j]) / n;
      }
    }
    for (int j = 0; j < d; j++) {
      scale[j] = Math.sqrt(scale[j]) + 1e-9;
    }
    int p = d + 1;
    double[][] a = new double[p][p];
    double[][] b = new double[p][classes];
    double[] z = new double[p];
    for (int i = 0; i < n; i++) {
      standardise(x[i], mean, scale, z);
      for (int r = 0; r < p; r++) {
        for (int c = 0; c < p; c++) {
          a[r][c] += z[r] * z[c];
        }
        b[r][y[i]] += z[r];
      }
    }
    for (int r = 0; r < d; r++) {
      a[r][r] += lambda;
    }
    return new RidgeClassifier(mean, scale, solve(a, b));
  }

  private static void standardise(double[] x, double[] mean, double[] scale, double[] z) {
    for (int j = 0; j < x.length; j++) {
      z[j] = (x[j] - mean[j]) / scale[j];
    }
    z[x.length] = 1;
  }

  int predict(double[] x) {
    double[] z = new double[x.length + 1];
    standardise(x, mean, scale, z);
    int best = 0;
    double bestScore = Double.NEGATIVE_INFINITY;
    for (int k = 0; k < w[0].length; k++) {
      double s = 0;
      for (int j = 0; j < z.length; j++) {
        s += z[j] * w[j][k];
      }
      if (s > bestScore) {
        bestScore = s;
        best = k;
      }
    }
    return best;
  }

  double accuracy(double[][] x, int[] y) {
    int ok = 0;
    for (int i = 0; i < x.length; i++) {
      if (predict(x[i]) == y[i]) {
        ok++;
      }
    }
    return ok / (double) x.length;
  }

  /** Solves A W = B by Gauss-Jordan elimination with partial pivoting. */
  private static double[][] solve(double[][] a, double[][] b) {
    int n = a.length;
    int k = b[0].length;
    for (int col = 0; col < n; col++) {
      int piv = col;
      for (int r = col + 1; r < n; r++) {
        if (Math.abs(a[r][col]) > Math.abs(a[piv][col])) {
          piv = r;
        }
      }
      double[] t = a[col];
      a[col] = a[piv];
      a[piv] = t;
      t = b[col];
      b[col] = b[piv];
      b[piv] = t;
      double d = a[col][col];
      if (Math.abs(d) < 1e-12) {
        continue;
      }
      for (int c = 0; c < n; c++) {
        a[col][c] /= d;
      }
      for (int c = 0; c < k; c++) {
        b[col][c] /= d;
      }
      for (int r = 0; r < n; r++) {
        if (r == col || a[r][col] == 0) {
          continue;
        }
        double f = a[r][col];
        for (int c = 0; c < n; c++) {
          a[r][c] -= f * a[col][c];
        }
        for (int c = 0; c < k; c++) {
          b[r][c] -= f * b[col][c];
        }
      }
    }
    return b;
  }
}
