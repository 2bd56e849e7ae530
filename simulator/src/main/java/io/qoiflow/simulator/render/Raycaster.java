package io.qoiflow.simulator.render;

import io.qoiflow.simulator.ObjectClass;
import io.qoiflow.simulator.SimObject;

/** Ray intersection with the scene's oriented boxes and vertical cylinders. */
final class Raycaster {
  /** Result of the nearest hit. */
  static final class Hit {
    double t;
    int object;
    double nx;
    double ny;
    double nz;

    /** Local coordinates of the hit: along the heading, across, height (cm). */
    double u;

    double v;
    double z;
    boolean top;

    /** cos/sin of each object's heading by object index, reused across a frame's many rays. */
    private final SimObject[] trigOf = new SimObject[16];

    private final double[] trigHeading = new double[16];
    private final double[] cosHeading = new double[16];
    private final double[] sinHeading = new double[16];
  }

  private Raycaster() {}

  /**
   * Intersects the ray o + t d (t in (0, tMax)) with object {@code o}; when it is nearer than
   * {@code hit.t}, fills {@code hit} and returns true.
   */
  static boolean intersect(
      SimObject obj,
      int index,
      double ox,
      double oy,
      double oz,
      double dx,
      double dy,
      double dz,
      Hit hit) {
    double c;
    double s;
    if (index >= 0 && index < hit.trigOf.length) {
      if (hit.trigOf[index] != obj || hit.trigHeading[index] != obj.heading) {
        hit.trigOf[index] = obj;
        hit.trigHeading[index] = obj.heading;
        hit.cosHeading[index] = Math.cos(obj.heading);
        hit.sinHeading[index] = Math.sin(obj.heading);
      }
      c = hit.cosHeading[index];
      s = hit.sinHeading[index];
    } else {
      c = Math.cos(obj.heading);
      s = Math.sin(obj.heading);
    }
    double rx = ox - obj.x;
    double ry = oy - obj.y;
    double lox = rx * c + ry * s;
    double loy = -rx * s + ry * c;
    double ldx = dx * c + dy * s;
    double ldy = -dx * s + dy * c;
    double h = obj.height();
    if (obj.cls.shape == ObjectClass.Shape.BOX) {
      double a = obj.length() / 2;
      double b = obj.width() / 2;
      double tmin = 1e-6;
      double tmax = hit.t;
      int axis = -1;
      boolean negSide = false;
      // x slab
      if (Math.abs(ldx) < 1e-12) {
        if (lox < -a || lox > a) {
          return false;
        }
      } else {
        double t1 = (-a - lox) / ldx;
        double t2 = (a - lox) / ldx;
        boolean neg = t1 < t2;
        double tn = neg ? t1 : t2;
        double tf = neg ? t2 : t1;
        if (tn > tmin) {
          tmin = tn;
          axis = 0;
          negSide = neg;
        }
        tmax = Math.min(tmax, tf);
        if (tmin > tmax) {
          return false;
        }
      }
      if (Math.abs(ldy) < 1e-12) {
        if (loy < -b || loy > b) {
          return false;
        }
      } else {
        double t1 = (-b - loy) / ldy;
        double t2 = (b - loy) / ldy;
        boolean neg = t1 < t2;
        double tn = neg ? t1 : t2;
        double tf = neg ? t2 : t1;
        if (tn > tmin) {
          tmin = tn;
          axis = 1;
          negSide = neg;
        }
        tmax = Math.min(tmax, tf);
        if (tmin > tmax) {
          return false;
        }
      }
      if (Math.abs(dz) < 1e-12) {
        if (oz < 0 || oz > h) {
          return false;
        }
      } else {
        double t1 = (0 - oz) / dz;
        double t2 = (h - oz) / dz;
        boolean neg = t1 < t2;
        double tn = neg ? t1 : t2;
        double tf = neg ? t2 : t1;
        if (tn > tmin) {
          tmin = tn;
          axis = 2;
          negSide = neg;
        }
        tmax = Math.min(tmax, tf);
        if (tmin > tmax) {
          return false;
        }
      }
      if (axis < 0 || tmin >= hit.t) {
        return false;
      }
      hit.t = tmin;
      hit.object = index;
      double lnx = 0;
      double lny = 0;
      double lnz = 0;
      if (axis == 0) {
        lnx = negSide ? -1 : 1;
      } else if (axis == 1) {
        lny = negSide ? -1 : 1;
      } else {
        lnz = negSide ? -1 : 1;
      }
      hit.nx = lnx * c - lny * s;
      hit.ny = lnx * s + lny * c;
      hit.nz = lnz;
      hit.u = lox + tmin * ldx;
      hit.v = loy + tmin * ldy;
      hit.z = oz + tmin * dz;
      hit.top = axis == 2 && !negSide;
      return true;
    }
    // Vertical cylinder of radius R, z in [0, h].
    double rad = obj.width() / 2;
    double best = hit.t;
    boolean found = false;
    boolean top = false;
    double qa = ldx * ldx + ldy * ldy;
    if (qa > 1e-12) {
      double qb = 2 * (lox * ldx + loy * ldy);
      double qc = lox * lox + loy * loy - rad * rad;
      double disc = qb * qb - 4 * qa * qc;
      if (disc >= 0) {
        double t = (-qb - Math.sqrt(disc)) / (2 * qa);
        if (t > 1e-6 && t < best) {
          double zz = oz + t * dz;
          if (zz >= 0 && zz <= h) {
            best = t;
            found = true;
          }
        }
      }
    }
    if (dz < -1e-12) {
      double t = (h - oz) / dz;
      if (t > 1e-6 && t < best) {
        double px = lox + t * ldx;
        double py = loy + t * ldy;
        if (px * px + py * py <= rad * rad) {
          best = t;
          found = true;
          top = true;
        }
      }
    }
    if (!found) {
      return false;
    }
    hit.t = best;
    hit.object = index;
    hit.u = lox + best * ldx;
    hit.v = loy + best * ldy;
    hit.z = oz + best * dz;
    hit.top = top;
    if (top) {
      hit.nx = 0;
      hit.ny = 0;
      hit.nz = 1;
    } else {
      double lnx = hit.u / rad;
      double lny = hit.v / rad;
      hit.nx = lnx * c - lny * s;
      hit.ny = lnx * s + lny * c;
      hit.nz = 0;
    }
    return true;
  }

  /** True when the hit point lies on the class's accent-coloured part. */
  static boolean accent(SimObject obj, Hit hit) {
    double h = obj.height();
    return switch (obj.cls.accentPlace) {
      case ROOF -> hit.top || hit.z > 0.8 * h;
      case CAB -> hit.u > 0.2 * obj.length();
      case STRIPE -> !hit.top && hit.z > 0.55 * h && hit.z < 0.75 * h;
      case LOWER -> hit.z < 0.45 * h;
      case TOP -> hit.top || hit.z > 0.85 * h;
    };
  }
}
