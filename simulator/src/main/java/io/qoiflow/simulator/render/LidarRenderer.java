package io.qoiflow.simulator.render;

import io.qoiflow.simulator.Rig;
import io.qoiflow.simulator.Rng;
import io.qoiflow.simulator.Scene;
import io.qoiflow.simulator.SimObject;
import java.util.SplittableRandom;

/**
 * Range image of a 16-beam LiDAR at (0, -600, 80) cm: row b = beam at elevation 7.5 - 1.5 b deg
 * (row 0 highest), column a = azimuth -50 + (a + 0.5) * 100 / 128 deg (negative = left). Channel 0
 * is the range in metres (0 = no return within 15 m), channel 1 the intensity 0..1 (reflectivity
 * times incidence, falling slowly with range).
 */
public final class LidarRenderer {
  public static final int B = Rig.LIDAR_BEAMS;
  public static final int A = Rig.LIDAR_AZ;
  private static final double[] DX = new double[B * A];
  private static final double[] DY = new double[B * A];
  private static final double[] DZ = new double[B * A];
  private static final double[] AZ = new double[A];

  static {
    for (int a = 0; a < A; a++) {
      AZ[a] = Math.toRadians(-Rig.LIDAR_AZ_HALF_DEG + (a + 0.5) * 2 * Rig.LIDAR_AZ_HALF_DEG / A);
    }
    for (int b = 0; b < B; b++) {
      double el = Math.toRadians(Rig.LIDAR_EL_TOP_DEG - Rig.LIDAR_EL_STEP_DEG * b);
      for (int a = 0; a < A; a++) {
        int p = b * A + a;
        DX[p] = Math.sin(AZ[a]) * Math.cos(el);
        DY[p] = Math.cos(AZ[a]) * Math.cos(el);
        DZ[p] = Math.sin(el);
      }
    }
  }

  /** Range noise sigma = RANGE_SIGMA0_CM + RANGE_SIGMA_REL * range. */
  static final double RANGE_SIGMA0_CM = 1.5;

  static final double RANGE_SIGMA_REL = 0.004;

  /** A return is kept with probability min(1, received / RETURN_THRESHOLD). */
  static final double RETURN_THRESHOLD = 0.1;

  static final double RETURN_FLAT_CM = 600;

  private final Raycaster.Hit hit = new Raycaster.Hit();
  private final double[] tBest = new double[B * A];
  private final int[] objBest = new int[B * A];
  private final double[] intensityBest = new double[B * A];

  /** Renders into {@code out} (2*B*A floats). */
  public void render(Scene scene, SplittableRandom noise, float[] out) {
    double oz = Rig.LIDAR_H;
    for (int p = 0; p < B * A; p++) {
      double dz = DZ[p];
      double t = dz < 0 ? -oz / dz : Double.POSITIVE_INFINITY;
      tBest[p] = t;
      objBest[p] = -1;
      if (t < Rig.LIDAR_MAX_CM) {
        double fx = Rig.RIG_X + t * DX[p];
        double fy = Rig.RIG_Y + t * DY[p];
        boolean inside = Math.abs(fx) < Rig.ARENA_HALF + 20 && Math.abs(fy) < Rig.ARENA_HALF + 20;
        double grazing = -dz;
        intensityBest[p] = (inside ? 0.18 : 0.1) * (0.5 + 2.5 * grazing);
      }
    }
    for (int k = 0; k < scene.objects.size(); k++) {
      SimObject o = scene.objects.get(k);
      double r = o.range();
      double az = Rig.azimuth(o.x, o.y);
      double span = Math.asin(Math.min(1, (o.cls.boundingRadius() * o.sizeScale + 5) / r));
      int aLo = (int) Math.floor((Math.toDegrees(az - span) + Rig.LIDAR_AZ_HALF_DEG) * A / 100.0);
      int aHi = (int) Math.ceil((Math.toDegrees(az + span) + Rig.LIDAR_AZ_HALF_DEG) * A / 100.0);
      aLo = Math.max(0, aLo);
      aHi = Math.min(A - 1, aHi);
      for (int b = 0; b < B; b++) {
        for (int a = aLo; a <= aHi; a++) {
          int p = b * A + a;
          hit.t = tBest[p];
          if (Raycaster.intersect(o, k, Rig.RIG_X, Rig.RIG_Y, oz, DX[p], DY[p], DZ[p], hit)) {
            tBest[p] = hit.t;
            objBest[p] = k;
            double cosInc = Math.abs(hit.nx * DX[p] + hit.ny * DY[p] + hit.nz * DZ[p]);
            double refl = o.cls.reflectivity;
            if (Raycaster.accent(o, hit)) {
              // Paint barely matters at the laser's infrared wavelength: accents differ a little.
              refl = Math.min(1.0, refl * 1.15);
            }
            intensityBest[p] = refl * (0.35 + 0.65 * cosInc);
          }
        }
      }
    }
    int plane = B * A;
    for (int p = 0; p < plane; p++) {
      double t = tBest[p];
      // Returned power ~ intensity / range^2 (flat up to 6 m): dark or grazing surfaces far away
      // lose their returns, the way real LiDARs drop black cars and distant floor.
      double received =
          intensityBest[p] * Math.pow(RETURN_FLAT_CM / Math.max(t, RETURN_FLAT_CM), 2);
      if (t >= Rig.LIDAR_MAX_CM || noise.nextDouble() * RETURN_THRESHOLD > received) {
        out[p] = 0f;
        out[plane + p] = 0f;
        continue;
      }
      // Range noise grows with range (weaker returns time less precisely).
      double sigmaCm = RANGE_SIGMA0_CM + RANGE_SIGMA_REL * t;
      double rangeM = (t + sigmaCm * Rng.gauss(noise)) / 100.0;
      double inten = intensityBest[p] * (1.0 - 0.25 * t / Rig.LIDAR_MAX_CM);
      inten += 0.04 * Rng.gauss(noise);
      out[p] = (float) rangeM;
      out[plane + p] = (float) Math.max(0, Math.min(1, inten));
    }
  }
}
