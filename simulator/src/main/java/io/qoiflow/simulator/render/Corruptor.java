package io.qoiflow.simulator.render;

import io.qoiflow.simulator.CorruptionType;
import io.qoiflow.simulator.Rng;
import java.util.SplittableRandom;

/**
 * Applies a corruption of a given level in (0, 1] to a rendered frame in place. At level 1 each
 * corruption destroys most of its modality's information; it never touches another modality.
 */
public final class Corruptor {
  private final float[] tmp = new float[3 * 48 * 48];
  private final double[] kernel = new double[64];

  /** Camera: 3 planes of n x n values 0..255. */
  public void camera(CorruptionType type, double level, float[] rgb, int n, SplittableRandom r) {
    int plane = n * n;
    switch (type) {
      case NOISE -> {
        double sigma = 150 * level;
        for (int i = 0; i < 3 * plane; i++) {
          rgb[i] = clamp255(rgb[i] + sigma * Rng.gauss(r));
        }
      }
      case LOWLIGHT -> {
        double gamma = 1 + 2 * level;
        double gain = 1 - 0.9 * level;
        double sigma = 3 + 10 * level;
        for (int i = 0; i < 3 * plane; i++) {
          double v = 255 * Math.pow(rgb[i] / 255.0, gamma) * gain;
          rgb[i] = clamp255(Math.rint(v + sigma * Rng.gauss(r)));
        }
      }
      case BLUR -> {
        double sigma = 0.3 + 3.5 * level;
        int rad = (int) Math.ceil(2.5 * sigma);
        double sum = 0;
        for (int k = -rad; k <= rad; k++) {
          kernel[k + rad] = Math.exp(-0.5 * k * k / (sigma * sigma));
          sum += kernel[k + rad];
        }
        for (int k = 0; k <= 2 * rad; k++) {
          kernel[k] /= sum;
        }
        for (int c = 0; c < 3; c++) {
          int o = c * plane;
          for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
              double acc = 0;
              for (int k = -rad; k <= rad; k++) {
                int jj = Math.max(0, Math.min(n - 1, j + k));
                acc += kernel[k + rad] * rgb[o + i * n + jj];
              }
              tmp[o + i * n + j] = (float) acc;
            }
          }
          for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
              double acc = 0;
              for (int k = -rad; k <= rad; k++) {
                int ii = Math.max(0, Math.min(n - 1, i + k));
                acc += kernel[k + rad] * tmp[o + ii * n + j];
              }
              rgb[o + i * n + j] = (float) acc;
            }
          }
        }
      }
      case OCCLUSION -> {
        int cells = 6;
        int size = n / cells;
        boolean[] occ = new boolean[cells * cells];
        boolean any = false;
        for (int cell = 0; cell < occ.length; cell++) {
          occ[cell] = r.nextDouble() < level;
          any |= occ[cell];
        }
        if (!any) {
          occ[r.nextInt(occ.length)] = true;
        }
        for (int cell = 0; cell < occ.length; cell++) {
          if (!occ[cell]) {
            continue;
          }
          double g = Rng.uniform(r, 0.08, 0.55) * 255;
          double tint = Rng.uniform(r, -20, 20);
          int ci = cell / cells;
          int cj = cell % cells;
          for (int i = ci * size; i < (ci + 1) * size; i++) {
            for (int j = cj * size; j < (cj + 1) * size; j++) {
              double tex = 6 * Rng.gauss(r);
              rgb[i * n + j] = clamp255(g + tint + tex);
              rgb[plane + i * n + j] = clamp255(g + tex);
              rgb[2 * plane + i * n + j] = clamp255(g - tint + tex);
            }
          }
        }
      }
      default -> throw new IllegalArgumentException("camera cannot have " + type);
    }
  }

  /** Depth: n x n millimetres, 0 = no return. */
  public void depth(CorruptionType type, double level, float[] mm, int n, SplittableRandom r) {
    switch (type) {
      case NOISE -> {
        // Strong ambient light / multipath: large range noise, lost pixels, and spurious returns
        // at random depths where nothing was seen (so silhouettes against the sky blur away too).
        double sigma = 1500 * level;
        for (int i = 0; i < n * n; i++) {
          if (mm[i] == 0) {
            if (r.nextDouble() < 0.5 * level) {
              mm[i] = (float) Math.rint(500 + 11500 * r.nextDouble());
            }
            continue;
          }
          if (r.nextDouble() < 0.3 * level) {
            mm[i] = 0;
            continue;
          }
          mm[i] = (float) Math.max(1, Math.min(65535, Math.rint(mm[i] + sigma * Rng.gauss(r))));
        }
      }
      case MISSING -> {
        int cells = 8;
        int size = n / cells;
        for (int cell = 0; cell < cells * cells; cell++) {
          if (r.nextDouble() >= 0.9 * level) {
            continue;
          }
          int ci = cell / cells;
          int cj = cell % cells;
          for (int i = ci * size; i < (ci + 1) * size; i++) {
            for (int j = cj * size; j < (cj + 1) * size; j++) {
              mm[i * n + j] = 0;
            }
          }
        }
        for (int i = 0; i < n * n; i++) {
          if (r.nextDouble() < 0.5 * level) {
            mm[i] = 0;
          }
        }
      }
      default -> throw new IllegalArgumentException("depth cannot have " + type);
    }
  }

  /** mmWave: [2, rows, cols], channel 0 dB, channel 1 m/s. */
  public void mmwave(
      CorruptionType type, double level, float[] map, int rows, int cols, SplittableRandom r) {
    int plane = rows * cols;
    switch (type) {
      case NOISE -> {
        double pn0 = Math.pow(10, 3.5 * level);
        for (int p = 0; p < plane; p++) {
          addPower(map, plane, p, pn0 * Rng.exp(r), 3.0 * Rng.gauss(r));
        }
      }
      case INTERFERENCE -> {
        double floor = Math.pow(10, 1.5 * level);
        for (int p = 0; p < plane; p++) {
          addPower(map, plane, p, floor * Rng.exp(r), 2.0 * Rng.gauss(r));
        }
        int bands = 1 + (int) Math.round(6 * level);
        for (int k = 0; k < bands; k++) {
          int width = 2 + r.nextInt(3);
          int a0 = r.nextInt(cols);
          double bandDb = 15 + 25 * level;
          double slope = Rng.uniform(r, -0.4, 0.4);
          double v = Rng.uniform(r, -8, 8);
          for (int row = 0; row < rows; row++) {
            for (int w = 0; w < width; w++) {
              int a = Math.floorMod(a0 + w + (int) Math.round(slope * row), cols);
              double p = Math.pow(10, (bandDb - 3.0 * Math.abs(w - width / 2.0)) / 10);
              addPower(map, plane, row * cols + a, p * Rng.exp(r), v + Rng.gauss(r));
            }
          }
        }
      }
      default -> throw new IllegalArgumentException("mmwave cannot have " + type);
    }
  }

  private static void addPower(float[] map, int plane, int p, double added, double v) {
    double pOld = Math.pow(10, map[p] / 10.0);
    double pNew = pOld + added;
    map[plane + p] = (float) ((pOld * map[plane + p] + added * v) / pNew);
    map[p] = (float) (10 * Math.log10(pNew));
  }

  /** LiDAR: [2, beams, az], channel 0 range m (0 = none), channel 1 intensity 0..1. */
  public void lidar(
      CorruptionType type, double level, float[] img, int beams, int az, SplittableRandom r) {
    int plane = beams * az;
    switch (type) {
      case DROPOUT -> {
        for (int b = 0; b < beams; b++) {
          boolean beamLost = r.nextDouble() < 0.6 * level;
          for (int a = 0; a < az; a++) {
            int p = b * az + a;
            if (beamLost || r.nextDouble() < 0.97 * level) {
              img[p] = 0;
              img[plane + p] = 0;
            }
          }
        }
      }
      case NOISE -> {
        double sigma = 0.01 + 1.2 * level;
        for (int p = 0; p < plane; p++) {
          if (r.nextDouble() < 0.2 * level) {
            img[p] = (float) Rng.uniform(r, 0.5, 15);
            img[plane + p] = (float) r.nextDouble();
            continue;
          }
          if (img[p] == 0) {
            continue;
          }
          img[p] = (float) Math.max(0.05, img[p] + sigma * Rng.gauss(r));
          img[plane + p] =
              (float) Math.max(0, Math.min(1, img[plane + p] + 0.3 * level * Rng.gauss(r)));
        }
      }
      default -> throw new IllegalArgumentException("lidar cannot have " + type);
    }
  }

  /** Audio: [2, mels, frames] dB. */
  public void audio(
      CorruptionType type, double level, float[] spec, int mels, int frames, SplittableRandom r) {
    switch (type) {
      case NOISE -> {
        double pn = Math.pow(10, (20 + 50 * level) / 10);
        for (int i = 0; i < spec.length; i++) {
          spec[i] = (float) (10 * Math.log10(Math.pow(10, spec[i] / 10.0) + pn * Rng.exp(r)));
        }
      }
      case CLIPPING -> {
        double keep = 1 - 0.9 * level;
        for (int c = 0; c < 2; c++) {
          for (int t = 0; t < frames; t++) {
            double peak = Double.NEGATIVE_INFINITY;
            for (int b = 0; b < mels; b++) {
              peak = Math.max(peak, spec[(c * mels + b) * frames + t]);
            }
            double thr = peak - 30 * level;
            double distortion = Math.pow(10, (thr - 6) / 10) * level;
            for (int b = 0; b < mels; b++) {
              int i = (c * mels + b) * frames + t;
              double v = spec[i];
              if (v > thr) {
                v = thr + (v - thr) * keep;
              }
              double p = Math.pow(10, v / 10) + distortion * (0.5 + 0.5 * Rng.exp(r));
              spec[i] = (float) (10 * Math.log10(p));
            }
          }
        }
      }
      default -> throw new IllegalArgumentException("audio cannot have " + type);
    }
  }

  private static float clamp255(double v) {
    return (float) (v < 0 ? 0 : v > 255 ? 255 : v);
  }
}
