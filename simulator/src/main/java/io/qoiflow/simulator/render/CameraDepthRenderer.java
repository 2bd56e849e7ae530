package io.qoiflow.simulator.render;

import io.qoiflow.simulator.Rig;
import io.qoiflow.simulator.Rng;
import io.qoiflow.simulator.Scene;
import io.qoiflow.simulator.SimObject;
import java.util.SplittableRandom;

/**
 * Ray-cast RGB camera and depth camera, 48 x 48 pixels each. The camera is on a pole at (0, -500,
 * 1000) cm aimed at the arena centre, 40 deg field of view, antialiased near objects; values 0..255
 * per channel (planes R, G, B). The depth camera is on the rig at (0, -600, 150) cm looking level
 * (see {@link #renderDepth}); depth in mm, 0 where nothing is within 12 m.
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

  /** Supersampling factor per axis for pixels that may show an object. */
  static final int SS = 3;

  /** Depth noise: sigma = DEPTH_SIGMA0_MM + DEPTH_SIGMA2_MM * d^2 mm, d in m. */
  static final double DEPTH_SIGMA0_MM = 3;

  static final double DEPTH_SIGMA2_MM = 1.2;

  /** Depth camera field of view as tangents: azimuth +-42 deg, elevation +4 .. -26 deg. */
  static final double DEPTH_TAN_AZ = Math.tan(Math.toRadians(42));

  static final double DEPTH_TAN_TOP = Math.tan(Math.toRadians(4));
  static final double DEPTH_TAN_BOTTOM = Math.tan(Math.toRadians(-26));

  private final Raycaster.Hit hit = new Raycaster.Hit();
  private final int[] rect = new int[4 * 8];
  private final double[] col = new double[3];

  /** Renders into {@code rgb} (3*N*N, 0..255) and {@code depthMm} (N*N). */
  public void render(Scene scene, SplittableRandom noise, float[] rgb, float[] depthMm) {
    int nObj = scene.objects.size();
    for (int k = 0; k < nObj; k++) {
      screenRect(scene.objects.get(k), k);
    }
    for (int i = 0; i < N; i++) {
      for (int j = 0; j < N; j++) {
        int p = i * N + j;
        trace(scene, nObj, i, j, DX[p], DY[p], DZ[p]);
        double cr = col[0];
        double cg = col[1];
        double cb = col[2];
        if (nearObject(nObj, i, j)) {
          // Antialiasing: near objects the colour is the mean of SS x SS rays spread over the
          // pixel, so a 3-8 px target keeps its shape and its accent colours as partial pixels.
          cr = 0;
          cg = 0;
          cb = 0;
          for (int si = 0; si < SS; si++) {
            double b = -(i + (si + 0.5) / SS - N / 2.0) / Rig.CAM_FOCAL_PX;
            for (int sj = 0; sj < SS; sj++) {
              double a = (j + (sj + 0.5) / SS - N / 2.0) / Rig.CAM_FOCAL_PX;
              trace(scene, nObj, i, j, FWD[0] + a, FWD[1] + b * UP[1], FWD[2] + b * UP[2]);
              cr += col[0];
              cg += col[1];
              cb += col[2];
            }
          }
          cr /= SS * SS;
          cg /= SS * SS;
          cb /= SS * SS;
        }
        rgb[p] = (float) clamp255(cr * 255 + 2.0 * Rng.gauss(noise));
        rgb[N * N + p] = (float) clamp255(cg * 255 + 2.0 * Rng.gauss(noise));
        rgb[2 * N * N + p] = (float) clamp255(cb * 255 + 2.0 * Rng.gauss(noise));
      }
    }
    renderDepth(scene, noise, depthMm);
  }

  /**
   * The depth camera: at the rig (0, -600) cm, 150 cm high, looking level along +y; columns span
   * +-42 deg of azimuth, rows +4 .. -26 deg of elevation (a lens-shifted pinhole, uniform in
   * tangent), so the arena floor fills the lower rows and objects stand out against the floor or
   * the empty sky. Values are the depth along +y in mm (0 = no return within 12 m).
   */
  private void renderDepth(Scene scene, SplittableRandom noise, float[] depthMm) {
    int nObj = scene.objects.size();
    for (int k = 0; k < nObj; k++) {
      SimObject o = scene.objects.get(k);
      double az = Rig.azimuth(o.x, o.y);
      double span = Math.asin(Math.min(1, (o.cls.boundingRadius() * o.sizeScale + 5) / o.range()));
      rect[k * 4 + 2] = (int) Math.floor((Math.tan(az - span) / DEPTH_TAN_AZ + 1) * N / 2) - 1;
      rect[k * 4 + 3] = (int) Math.ceil((Math.tan(az + span) / DEPTH_TAN_AZ + 1) * N / 2) + 1;
    }
    for (int i = 0; i < N; i++) {
      double dz = depthRayTanElevation(i);
      for (int j = 0; j < N; j++) {
        int p = i * N + j;
        double dx = depthRayTanAzimuth(j);
        double tFloor = dz < 0 ? -Rig.DEPTH_CAM_H / dz : Double.POSITIVE_INFINITY;
        hit.t = Math.min(tFloor, Rig.DEPTH_MAX_CM * 2);
        hit.object = -1;
        for (int k = 0; k < nObj; k++) {
          if (j < rect[k * 4 + 2] || j > rect[k * 4 + 3]) {
            continue;
          }
          Raycaster.intersect(
              scene.objects.get(k), k, Rig.RIG_X, Rig.RIG_Y, Rig.DEPTH_CAM_H, dx, 1, dz, hit);
        }
        // The ray's forward component is 1, so t is the depth along +y in cm.
        double depth = hit.object >= 0 ? hit.t : tFloor;
        if (depth > Rig.DEPTH_MAX_CM) {
          depthMm[p] = 0f;
        } else {
          // Noise grows with the square of the distance (structured-light / ToF style).
          double m = depth / 100.0;
          double sigmaMm = DEPTH_SIGMA0_MM + DEPTH_SIGMA2_MM * m * m;
          depthMm[p] = (float) Math.max(1, Math.rint(depth * 10 + sigmaMm * Rng.gauss(noise)));
        }
      }
    }
  }

  private boolean nearObject(int nObj, int i, int j) {
    for (int k = 0; k < nObj; k++) {
      int r = k * 4;
      if (i >= rect[r] && i <= rect[r + 1] && j >= rect[r + 2] && j <= rect[r + 3]) {
        return true;
      }
    }
    return false;
  }

  /**
   * Casts one ray of pixel (i, j) (the pixel selects the candidate objects); leaves its colour
   * (0..1 per channel) in {@link #col} and returns its z-depth in cm (infinite for the sky).
   */
  private double trace(Scene scene, int nObj, int i, int j, double dx, double dy, double dz) {
    double illum = scene.illumination;
    double[] l = scene.light;
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
    if (hit.object >= 0) {
      SimObject o = scene.objects.get(hit.object);
      double[] c = Raycaster.accent(o, hit) ? o.cls.accent : o.cls.body;
      double lambert = Math.max(0, hit.nx * l[0] + hit.ny * l[1] + hit.nz * l[2]);
      double shade = illum * (0.45 + 0.55 * lambert);
      col[0] = c[0] * o.colourGain[0] * shade;
      col[1] = c[1] * o.colourGain[1] * shade;
      col[2] = c[2] * o.colourGain[2] * shade;
      return hit.t;
    }
    if (tFloor < Double.POSITIVE_INFINITY) {
      double fx = CAM[0] + tFloor * dx;
      double fy = CAM[1] + tFloor * dy;
      double tile = 1 - 0.2 * Math.max(tileLine(fx), tileLine(fy));
      double outside =
          Math.abs(fx) > Rig.ARENA_HALF + 20 || Math.abs(fy) > Rig.ARENA_HALF + 20 ? 0.8 : 1.0;
      double s = illum * (0.45 + 0.55 * l[2]) * tile * outside;
      col[0] = scene.floor[0] * s;
      col[1] = scene.floor[1] * s;
      col[2] = scene.floor[2] * s;
      return tFloor;
    }
    double sky = illum * (0.85 - 0.3 * (i / (double) N));
    col[0] = 0.72 * sky;
    col[1] = 0.78 * sky;
    col[2] = 0.88 * sky;
    return Double.POSITIVE_INFINITY;
  }

  /** Depth pixel row i looks along (x, 1, z) with z = this (tangent of its elevation). */
  public static double depthRayTanElevation(int i) {
    return DEPTH_TAN_TOP - (i + 0.5) * (DEPTH_TAN_TOP - DEPTH_TAN_BOTTOM) / N;
  }

  /** Depth pixel column j looks along (x, 1, z) with x = this (tangent of its azimuth). */
  public static double depthRayTanAzimuth(int j) {
    return DEPTH_TAN_AZ * (2 * (j + 0.5) / N - 1);
  }

  /**
   * Darkening of the 1 m tile grid at floor coordinate v: a soft line about a pixel's footprint
   * wide (sampled at one ray per pixel, thin hard lines would alias into random dashes).
   */
  private static double tileLine(double v) {
    double f = (v + 10000) % 100.0;
    double d = Math.min(f, 100 - f) / 10.0;
    return Math.exp(-d * d);
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
