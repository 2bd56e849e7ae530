package io.qoiflow.simulator.render;

import io.qoiflow.simulator.Rig;
import io.qoiflow.simulator.Rng;
import io.qoiflow.simulator.Scene;
import io.qoiflow.simulator.SimObject;
import java.util.SplittableRandom;

/**
 * Ray-cast RGB camera and depth camera sharing one viewpoint: at (0, -600, 300) cm, pitched down to
 * the arena centre, 70 deg field of view, 48 x 48 pixels. Camera values are 0..255 per channel
 * (planes R, G, B); depth is the z-depth along the optical axis in mm, 0 where nothing is within 12
 * m (above the horizon).
 */
public final class CameraDepthRenderer {
  public static final int N = Rig.IMG;
  private static final double[] CAM = {Rig.RIG_X, Rig.CAM_Y, Rig.CAM_H};

  /** Ray direction per pixel, scaled so that its component along the optical axis is 1. */
  private static final double[] DX = new double[N * N];

  private static final double[] DY = new double[N * N];
  private static final double[] DZ = new double[N * N];
  private static final double[] FWD = {0, Math.cos(Rig.CAM_PITCH), -Math.sin(Rig.CAM_PITCH)};
  private static final double[] UP = {0, Math.sin(Rig.CAM_PITCH), Math.cos(Rig.CAM_PITCH)};

  static {
    for (int i = 0; i < N; i++) {
      for (int j = 0; j < N; j++) {
        double a = (j + 0.5 - N / 2.0) / Rig.CAM_FOCAL_PX;
        double b = -(i + 0.5 - N / 2.0) / Rig.CAM_FOCAL_PX;
        int p = i * N + j;
        DX[p] = FWD[0] + a;
        DY[p] = FWD[1] + b * UP[1];
        DZ[p] = FWD[2] + b * UP[2];
      }
    }
  }

  private final Raycaster.Hit hit = new Raycaster.Hit();
  private final int[] rect = new int[4 * 8];

  /** Renders into {@code rgb} (3*N*N, 0..255) and {@code depthMm} (N*N). */
  public void render(Scene scene, SplittableRandom noise, float[] rgb, float[] depthMm) {
    int nObj = scene.objects.size();
    for (int k = 0; k < nObj; k++) {
      screenRect(scene.objects.get(k), k);
    }
    double illum = scene.illumination;
    double[] l = scene.light;
    double floorShade = illum * (0.45 + 0.55 * l[2]);
    for (int i = 0; i < N; i++) {
      for (int j = 0; j < N; j++) {
        int p = i * N + j;
        double dx = DX[p];
        double dy = DY[p];
        double dz = DZ[p];
        double tFloor = dz < 0 ? -CAM[2] / dz : Double.POSITIVE_INFINITY;
        hit.t = Math.min(tFloor, Rig.DEPTH_MAX_CM * 2);
        hit.object = -1;
        for (int k = 0; k < nObj; k++) {
          int r = k * 4;
          if (i < rect[r] || i > rect[r + 1] || j < rect[r + 2] || j > rect[r + 3]) {
            continue;
          }
          Raycaster.intersect(scene.objects.get(k), k, CAM[0], CAM[1], CAM[2], dx, dy, dz, hit);
        }
        double cr;
        double cg;
        double cb;
        double depth;
        if (hit.object >= 0) {
          SimObject o = scene.objects.get(hit.object);
          double[] col = Raycaster.accent(o, hit) ? o.cls.accent : o.cls.body;
          double lambert = Math.max(0, hit.nx * l[0] + hit.ny * l[1] + hit.nz * l[2]);
          double shade = illum * (0.45 + 0.55 * lambert);
          cr = col[0] * o.colourGain[0] * shade;
          cg = col[1] * o.colourGain[1] * shade;
          cb = col[2] * o.colourGain[2] * shade;
          depth = hit.t;
        } else if (tFloor < Double.POSITIVE_INFINITY) {
          double fx = CAM[0] + tFloor * dx;
          double fy = CAM[1] + tFloor * dy;
          double tile = tileLine(fx) || tileLine(fy) ? 0.78 : 1.0;
          double outside =
              Math.abs(fx) > Rig.ARENA_HALF + 20 || Math.abs(fy) > Rig.ARENA_HALF + 20 ? 0.8 : 1.0;
          double s = floorShade * tile * outside;
          cr = scene.floor[0] * s;
          cg = scene.floor[1] * s;
          cb = scene.floor[2] * s;
          depth = tFloor;
        } else {
          double sky = illum * (0.85 - 0.3 * (i / (double) N));
          cr = 0.72 * sky;
          cg = 0.78 * sky;
          cb = 0.88 * sky;
          depth = Double.POSITIVE_INFINITY;
        }
        rgb[p] = (float) clamp255(cr * 255 + 2.0 * Rng.gauss(noise));
        rgb[N * N + p] = (float) clamp255(cg * 255 + 2.0 * Rng.gauss(noise));
        rgb[2 * N * N + p] = (float) clamp255(cb * 255 + 2.0 * Rng.gauss(noise));
        if (depth > Rig.DEPTH_MAX_CM) {
          depthMm[p] = 0f;
        } else {
          // Sensor noise grows with the square of the distance (structured-light style).
          double sigmaMm = 2 + 0.002 * depth * depth / 100.0;
          depthMm[p] = (float) Math.max(1, Math.rint(depth * 10 + sigmaMm * Rng.gauss(noise)));
        }
      }
    }
  }

  private static boolean tileLine(double v) {
    double f = (v + 10000) % 100.0;
    return f < 4.0;
  }

  static double clamp255(double v) {
    return v < 0 ? 0 : v > 255 ? 255 : v;
  }

  /** Pixel rectangle [iMin, iMax, jMin, jMax] that may contain object k. */
  private void screenRect(SimObject o, int k) {
    double rad = o.cls.boundingRadius() * o.sizeScale + 2;
    double h = o.height() + 2;
    int iMin = N;
    int iMax = -1;
    int jMin = N;
    int jMax = -1;
    boolean behind = false;
    for (int c = 0; c < 8; c++) {
      double px = o.x + ((c & 1) == 0 ? -rad : rad) - CAM[0];
      double py = o.y + ((c & 2) == 0 ? -rad : rad) - CAM[1];
      double pz = ((c & 4) == 0 ? 0 : h) - CAM[2];
      double zc = py * FWD[1] + pz * FWD[2];
      if (zc < 1) {
        behind = true;
        break;
      }
      double xc = px;
      double yc = py * UP[1] + pz * UP[2];
      double u = N / 2.0 + Rig.CAM_FOCAL_PX * xc / zc;
      double v = N / 2.0 - Rig.CAM_FOCAL_PX * yc / zc;
      iMin = Math.min(iMin, (int) Math.floor(v) - 1);
      iMax = Math.max(iMax, (int) Math.ceil(v) + 1);
      jMin = Math.min(jMin, (int) Math.floor(u) - 1);
      jMax = Math.max(jMax, (int) Math.ceil(u) + 1);
    }
    int r = k * 4;
    if (behind) {
      rect[r] = 0;
      rect[r + 1] = N;
      rect[r + 2] = 0;
      rect[r + 3] = N;
    } else {
      rect[r] = iMin;
      rect[r + 1] = iMax;
      rect[r + 2] = jMin;
      rect[r + 3] = jMax;
    }
  }
}
