package io.qoiflow.simulator;

import io.qoiflow.records.LabelledSample;
import io.qoiflow.records.Modality;
import io.qoiflow.records.SensorFrame;
import io.qoiflow.simulator.render.CameraDepthRenderer;
import java.util.Arrays;

/**
 * Simple hand-made per-modality features for the baseline classifier test: what a person would
 * compute from each frame to guess the target's class without any learning of representations.
 */
final class Features {
  private Features() {}

  static float[] frame(LabelledSample s, Modality m) {
    for (SensorFrame f : s.getFrames()) {
      if (f.getModality() == m) {
        return Frames.values(f);
      }
    }
    return null;
  }

  static double[] of(Modality m, float[] v) {
    return switch (m) {
      case CAMERA -> camera(v);
      case DEPTH -> depth(v);
      case MMWAVE -> mmwave(v);
      case LIDAR -> lidar(v);
      case AUDIO -> audio(v);
    };
  }

  /**
   * Chromaticity histogram and brightness of the pixels that stand out from the floor, nearest
   * object first: pixels within 8 rows of the lowest outstanding pixel (the nearest object is the
   * lowest in the image) count fully, the rest a little.
   */
  static double[] camera(float[] v) {
    int n = 48 * 48;
    double[] med = new double[3];
    for (int c = 0; c < 3; c++) {
      float[] ch = Arrays.copyOfRange(v, c * n, (c + 1) * n);
      Arrays.sort(ch);
      med[c] = ch[n / 2];
    }
    boolean[] obj = new boolean[n];
    int lowest = -1;
    for (int p = 0; p < n; p++) {
      double dist =
          Math.abs(v[p] - med[0]) + Math.abs(v[n + p] - med[1]) + Math.abs(v[2 * n + p] - med[2]);
      obj[p] = dist > 60;
      if (obj[p]) {
        lowest = p / 48;
      }
    }
    double[] f = new double[6 * 6 + 3];
    int count = 0;
    double bright = 0;
    for (int p = 0; p < n; p++) {
      if (!obj[p]) {
        continue;
      }
      double w = p / 48 >= lowest - 8 ? 1.0 : 0.1;
      double r = v[p];
      double g = v[n + p];
      double b = v[2 * n + p];
      double sum = r + g + b + 1;
      int i = Math.min(5, (int) (6 * r / sum * 1.5));
      int j = Math.min(5, (int) (6 * g / sum * 1.5));
      f[i * 6 + j] += w;
      if (w == 1.0) {
        bright += sum;
        count++;
      }
    }
    double total = 1e-6;
    for (int k = 0; k < 36; k++) {
      total += f[k];
    }
    for (int k = 0; k < 36; k++) {
      f[k] /= total;
    }
    f[36] = Math.log1p(count);
    f[37] = count == 0 ? 0 : bright / count / 765.0;
    f[38] = Math.log1p(total);
    return f;
  }

  /** Height profile and size of the nearest object seen by the depth camera. */
  static double[] depth(float[] v) {
    int n = 48;
    double[] z = new double[n * n];
    double[] dcm = new double[n * n];
    double nearest = Double.POSITIVE_INFINITY;
    for (int i = 0; i < n; i++) {
      double dz = CameraDepthRenderer.depthRayTanElevation(i);
      for (int j = 0; j < n; j++) {
        int p = i * n + j;
        if (v[p] == 0) {
          z[p] = -1;
          continue;
        }
        double d = v[p] / 10.0;
        z[p] = Rig.DEPTH_CAM_H + d * dz;
        dcm[p] = Math.hypot(d, d * CameraDepthRenderer.depthRayTanAzimuth(j));
        if (z[p] > 10 && dcm[p] < nearest) {
          nearest = dcm[p];
        }
      }
    }
    double[] f = new double[12];
    double area = 0;
    double maxZ = 0;
    for (int p = 0; p < n * n; p++) {
      if (z[p] > 10 && dcm[p] < nearest + 80) {
        double w = (v[p] / 10.0) * (v[p] / 10.0) / 1e5; // pixel area grows with distance^2
        int bin = Math.min(9, (int) (z[p] / 20));
        f[bin] += w;
        area += w;
        maxZ = Math.max(maxZ, z[p]);
      }
    }
    f[10] = maxZ / 100;
    f[11] = Math.log1p(area);
    return f;
  }

  /** Height, width and reflectivity of the nearest object in the LiDAR range image. */
  static double[] lidar(float[] v) {
    int b = 16;
    int a = 128;
    double nearest = Double.POSITIVE_INFINITY;
    double[] z = new double[b * a];
    double[] hr = new double[b * a];
    for (int i = 0; i < b; i++) {
      double el = Math.toRadians(Rig.LIDAR_EL_TOP_DEG - Rig.LIDAR_EL_STEP_DEG * i);
      for (int j = 0; j < a; j++) {
        int p = i * a + j;
        double r = v[p] * 100;
        if (r <= 0) {
          z[p] = -1;
          continue;
        }
        z[p] = Rig.LIDAR_H + r * Math.sin(el);
        hr[p] = r * Math.cos(el);
        if (z[p] > 10 && hr[p] < nearest) {
          nearest = hr[p];
        }
      }
    }
    double[] f = new double[14];
    int count = 0;
    int minCol = a;
    int maxCol = -1;
    double maxZ = 0;
    for (int i = 0; i < b; i++) {
      for (int j = 0; j < a; j++) {
        int p = i * a + j;
        if (z[p] > 10 && hr[p] < nearest + 80) {
          count++;
          maxZ = Math.max(maxZ, z[p]);
          minCol = Math.min(minCol, j);
          maxCol = Math.max(maxCol, j);
          f[Math.min(5, (int) (v[b * a + p] * 6))] += 1;
          f[6 + Math.min(5, (int) (z[p] / 35))] += 1;
        }
      }
    }
    for (int k = 0; k < 12; k++) {
      f[k] /= Math.max(1, count);
    }
    f[12] = maxZ / 100;
    f[13] = count == 0 ? 0 : (maxCol - minCol + 1) * nearest / 1000.0;
    return f;
  }

  /** Strength (range-compensated), extent and velocity spread of the nearest strong return. */
  static double[] mmwave(float[] v) {
    int n = 32;
    int best = -1;
    for (int r = 0; r < n && best < 0; r++) {
      for (int a = 0; a < n; a++) {
        if (v[r * n + a] > 17 && (best < 0 || v[r * n + a] > v[best])) {
          best = r * n + a;
        }
      }
    }
    double[] f = new double[6];
    if (best < 0) {
      return f;
    }
    // Climb to the local maximum of the cluster.
    int r0 = best / n;
    int a0 = best % n;
    for (int r = r0; r < Math.min(n, r0 + 3); r++) {
      for (int a = Math.max(0, a0 - 2); a <= Math.min(n - 1, a0 + 2); a++) {
        if (v[r * n + a] > v[best]) {
          best = r * n + a;
        }
      }
    }
    r0 = best / n;
    a0 = best % n;
    double peak = v[best];
    double range = Rig.RADAR_R0 + (r0 + 0.5) * Rig.RADAR_DR;
    int ext = 0;
    double vs = 0;
    double vss = 0;
    double vabs = 0;
    for (int r = Math.max(0, r0 - 3); r <= Math.min(n - 1, r0 + 3); r++) {
      for (int a = Math.max(0, a0 - 2); a <= Math.min(n - 1, a0 + 2); a++) {
        int p = r * n + a;
        if (v[p] > peak - 8) {
          ext++;
          double vel = v[n * n + p];
          vs += vel;
          vss += vel * vel;
          vabs += Math.abs(vel);
        }
      }
    }
    double mean = vs / ext;
    f[0] = (peak + 40 * Math.log10(range / 100)) / 10;
    f[1] = ext / 5.0;
    f[2] = Math.sqrt(Math.max(0, vss / ext - mean * mean));
    f[3] = vabs / ext;
    f[4] = peak / 10;
    f[5] = range / 300;
    return f;
  }

  /** Mean log-mel spectrum relative to its median, and the amount of modulation per band. */
  static double[] audio(float[] v) {
    int m = 32;
    int t = 48;
    double[] f = new double[m + 8];
    double[] spec = new double[m];
    for (int b = 0; b < m; b++) {
      double s = 0;
      for (int c = 0; c < 2; c++) {
        for (int k = 0; k < t; k++) {
          s += v[(c * m + b) * t + k];
        }
      }
      spec[b] = s / (2 * t);
    }
    double[] sorted = spec.clone();
    Arrays.sort(sorted);
    double med = sorted[m / 2];
    for (int b = 0; b < m; b++) {
      f[b] = (spec[b] - med) / 10;
    }
    for (int g = 0; g < 8; g++) {
      double mod = 0;
      for (int b = g * 4; b < g * 4 + 4; b++) {
        double mean = spec[b];
        double ss = 0;
        for (int k = 0; k < t; k++) {
          double d = v[b * t + k] - mean;
          ss += d * d;
        }
        mod += Math.sqrt(ss / t);
      }
      f[m + g] = mod / 40;
    }
    return f;
  }
}
