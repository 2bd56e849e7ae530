package io.qoiflow.simulator.render;

import io.qoiflow.simulator.Rig;
import io.qoiflow.simulator.Rng;
import io.qoiflow.simulator.Scene;
import io.qoiflow.simulator.SimObject;
import io.qoiflow.simulator.Status;
import java.util.SplittableRandom;

/**
 * Range-azimuth heatmap of an FMCW radar at the rig: row r = range bin (250 + 25 r .. 275 + 25 r
 * cm), column a = azimuth bin (-48 + 3 a .. -45 + 3 a deg, negative = left). Channel 0 is the
 * received power in dB (noise floor about 0 dB), channel 1 the power-weighted mean radial velocity
 * in m/s (positive = moving away). Objects are clusters of point scatterers with a class-specific
 * cross-section, extent and micro-Doppler spread; floor clutter is static; each object has a weaker
 * multipath ghost via the nearest side wall. The radar sees through occluders.
 */
public final class MmwaveRenderer {
  public static final int R = Rig.RADAR_BINS;
  public static final int AZ = Rig.RADAR_BINS;
  private static final double WALL_X = Rig.ARENA_HALF + 60;
  private static final double SIGMA_R = 0.7;
  private static final double SIGMA_A = 0.9;
  private final double[] power = new double[R * AZ];
  private final double[] pv = new double[R * AZ];
  private final double[] wr = new double[5];
  private final double[] wa = new double[5];

  /** Renders into {@code out} (2*R*AZ floats). */
  public void render(Scene scene, SplittableRandom noise, float[] out) {
    for (int r = 0; r < R; r++) {
      double rangeCm = Rig.RADAR_R0 + (r + 0.5) * Rig.RADAR_DR;
      double clutterDb = scene.clutterDb + 8 - 25 * Math.log10(rangeCm / 250.0);
      double clutter = Math.pow(10, clutterDb / 10);
      for (int a = 0; a < AZ; a++) {
        int p = r * AZ + a;
        double pn = Rng.exp(noise);
        double pc = clutter * Rng.exp(noise);
        power[p] = pn + pc;
        pv[p] = pn * 0.6 * Rng.gauss(noise);
      }
    }
    for (SimObject o : scene.objects) {
      int n = Math.max(2, (int) Math.round(o.length() / 30.0));
      double rcs = Math.pow(10, o.cls.rcsDb / 10);
      double c = Math.cos(o.heading);
      double s = Math.sin(o.heading);
      double azObj = Rig.azimuth(o.x, o.y);
      // Broadside aspect reflects more than end-on.
      double aspect = 0.6 + 0.8 * Math.abs(Math.sin(o.heading - (Math.PI / 2 - azObj)));
      for (int k = 0; k < n; k++) {
        double along = (n == 1 ? 0 : (k / (double) (n - 1) - 0.5)) * o.length() * 0.9;
        double across = (k % 2 == 0 ? 0.25 : -0.25) * o.width();
        double sx = o.x + along * c - across * s;
        double sy = o.y + along * s + across * c;
        double rr = Rig.range(sx, sy);
        double vr = (o.vx() * (sx - Rig.RIG_X) + o.vy() * (sy - Rig.RIG_Y)) / rr / 100.0;
        if (o.status == Status.MOVING) {
          vr += o.cls.microDoppler * Math.sin(o.phase + 2.1 * k);
        }
        double p = rcs * aspect / n * 1e6 / Math.pow(rr / 100.0, 4) * Rng.exp(noise) * 0.5;
        p += rcs * aspect / n * 1e6 / Math.pow(rr / 100.0, 4) * 0.5;
        splat(rr, Rig.azimuth(sx, sy), p, vr);
        // Multipath ghost via the nearer side wall: longer path, mirrored bearing, -12 dB.
        double wall = sx >= 0 ? WALL_X : -WALL_X;
        double ix = 2 * wall - sx;
        double ri = Rig.range(ix, sy);
        double vri = (-o.vx() * (ix - Rig.RIG_X) + o.vy() * (sy - Rig.RIG_Y)) / ri / 100.0;
        splat(0.5 * (rr + ri), Rig.azimuth(ix, sy), p * 0.063, 0.5 * (vr + vri));
      }
    }
    int plane = R * AZ;
    for (int p = 0; p < plane; p++) {
      out[p] = (float) (10 * Math.log10(power[p]));
      out[plane + p] = (float) (pv[p] / power[p]);
    }
  }

  private void splat(double rangeCm, double az, double p, double v) {
    double rc = (rangeCm - Rig.RADAR_R0) / Rig.RADAR_DR - 0.5;
    double ac = (Math.toDegrees(az) + Rig.RADAR_AZ_HALF_DEG) / 3.0 - 0.5;
    if (rc < -3 || rc > R + 2 || ac < -3 || ac > AZ + 2) {
      return;
    }
    int r0 = (int) Math.round(rc) - 2;
    int a0 = (int) Math.round(ac) - 2;
    for (int i = 0; i < 5; i++) {
      double d = (r0 + i - rc) / SIGMA_R;
      wr[i] = Math.exp(-0.5 * d * d);
      double e = (a0 + i - ac) / SIGMA_A;
      wa[i] = Math.exp(-0.5 * e * e);
    }
    for (int i = 0; i < 5; i++) {
      int r = r0 + i;
      if (r < 0 || r >= R) {
        continue;
      }
      // Azimuth sidelobes of the small antenna array: -22 dB across the whole row.
      double side = p * wr[i] * 0.006;
      for (int a = 0; a < AZ; a++) {
        power[r * AZ + a] += side;
        pv[r * AZ + a] += side * v;
      }
      for (int j = 0; j < 5; j++) {
        int a = a0 + j;
        if (a < 0 || a >= AZ) {
          continue;
        }
        double w = p * wr[i] * wa[j];
        power[r * AZ + a] += w;
        pv[r * AZ + a] += w * v;
      }
    }
  }
}
