package io.qoiflow.simulator;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The state of the arena at one instant: objects (target first) and the environment. The target is
 * always the object nearest to the rig: every distractor is at least {@link #RANGE_MARGIN_CM}
 * farther away (horizontal range), so each modality can tell which object is meant.
 */
public final class Scene {
  public static final double RANGE_MARGIN_CM = 60.0;
  public static final double MIN_SEPARATION_CM = 110.0;
  public static final double TARGET_HALF = 270.0;
  public static final int MAX_DISTRACTORS = 3;

  public final List<SimObject> objects = new ArrayList<>();

  /** Global illumination gain and the floor colour (0..1). */
  public double illumination = 1.0;

  public final double[] floor = {0.5, 0.48, 0.45};

  /** Unit vector towards the light. */
  public final double[] light = {0.3, -0.4, 0.86};

  /** Ambient acoustic noise level, dB, and radar clutter level, dB. */
  public double ambientDb = 18.0;

  public double clutterDb = 0.0;

  public SimObject target() {
    return objects.get(0);
  }

  /** A fresh random scene. */
  public static Scene random(SplittableRandom r) {
    Scene s = new Scene();
    s.illumination = Rng.uniform(r, 0.8, 1.15);
    double g = Rng.uniform(r, 0.35, 0.6);
    s.floor[0] = g * Rng.uniform(r, 0.9, 1.1);
    s.floor[1] = g * Rng.uniform(r, 0.9, 1.05);
    s.floor[2] = g * Rng.uniform(r, 0.8, 1.0);
    double sunAz = Rng.uniform(r, -Math.PI, Math.PI);
    double sunEl = Math.toRadians(Rng.uniform(r, 35, 70));
    s.light[0] = Math.cos(sunEl) * Math.cos(sunAz);
    s.light[1] = Math.cos(sunEl) * Math.sin(sunAz);
    s.light[2] = Math.sin(sunEl);
    s.ambientDb = Rng.uniform(r, 14, 22);
    s.clutterDb = Rng.uniform(r, -3, 3);

    ObjectClass targetClass = ObjectClass.ALL.get(r.nextInt(ObjectClass.ALL.size()));
    SimObject t = newObject(targetClass, r);
    t.x = Rng.uniform(r, -TARGET_HALF, TARGET_HALF);
    t.y = Rng.uniform(r, -TARGET_HALF, TARGET_HALF);
    s.objects.add(t);
    int distractors = r.nextInt(MAX_DISTRACTORS + 1);
    for (int i = 0; i < distractors; i++) {
      ObjectClass c = ObjectClass.ALL.get(r.nextInt(ObjectClass.ALL.size() - 1));
      if (c.ordinal() >= targetClass.ordinal()) {
        c = ObjectClass.ALL.get(c.ordinal() + 1);
      }
      SimObject d = newObject(c, r);
      for (int attempt = 0; attempt < 25; attempt++) {
        double x = Rng.uniform(r, -TARGET_HALF, TARGET_HALF);
        double y = Rng.uniform(r, -TARGET_HALF, TARGET_HALF);
        if (s.fits(x, y)) {
          d.x = x;
          d.y = y;
          s.objects.add(d);
          break;
        }
      }
    }
    return s;
  }

  private boolean fits(double x, double y) {
    if (Rig.range(x, y) < target().range() + RANGE_MARGIN_CM) {
      return false;
    }
    for (SimObject o : objects) {
      if (Math.hypot(o.x - x, o.y - y) < MIN_SEPARATION_CM) {
        return false;
      }
    }
    return true;
  }

  static SimObject newObject(ObjectClass c, SplittableRandom r) {
    SimObject o = new SimObject(c);
    o.heading = Rng.uniform(r, -Math.PI, Math.PI);
    double u = r.nextDouble();
    o.status = u < 0.5 ? Status.MOVING : u < 0.75 ? Status.STOPPED : Status.PARKED;
    o.cruiseSpeed = Rng.uniform(r, c.minSpeed, c.maxSpeed);
    o.speed = o.status == Status.MOVING ? o.cruiseSpeed : 0.0;
    o.turnRate = Rng.uniform(r, -0.4, 0.4);
    for (int k = 0; k < 3; k++) {
      o.colourGain[k] = Rng.uniform(r, 0.88, 1.12);
    }
    o.sizeScale = Rng.uniform(r, 0.92, 1.08);
    o.pitchScale = Rng.uniform(r, 0.95, 1.05);
    o.phase = Rng.uniform(r, 0, 2 * Math.PI);
    return o;
  }

  /**
   * Advances the scene by {@code dt} seconds for live replay: smooth turning, bouncing at the
   * walls, random stops and starts; distractors are pushed back behind the target's range.
   */
  public void step(double dt, SplittableRandom r) {
    for (SimObject o : objects) {
      switch (o.status) {
        case MOVING -> {
          if (r.nextDouble() < dt / 8.0) {
            o.status = Status.STOPPED;
          } else if (r.nextDouble() < dt / 60.0) {
            o.status = Status.PARKED;
          }
        }
        case STOPPED -> {
          if (r.nextDouble() < dt / 3.0) {
            o.status = Status.MOVING;
          }
        }
        case PARKED -> {
          if (r.nextDouble() < dt / 20.0) {
            o.status = Status.MOVING;
          }
        }
      }
      o.speed = o.status == Status.MOVING ? o.cruiseSpeed : 0.0;
      if (o.status == Status.MOVING) {
        o.turnRate += Rng.gauss(r) * 0.3 * Math.sqrt(dt);
        o.turnRate = Math.max(-0.8, Math.min(0.8, o.turnRate));
        o.heading += o.turnRate * dt;
        o.x += o.vx() * dt;
        o.y += o.vy() * dt;
        if (Math.abs(o.x) > TARGET_HALF) {
          o.x = Math.copySign(TARGET_HALF, o.x);
          o.heading = Math.PI - o.heading;
        }
        if (Math.abs(o.y) > TARGET_HALF) {
          o.y = Math.copySign(TARGET_HALF, o.y);
          o.heading = -o.heading;
        }
        o.heading = Math.atan2(Math.sin(o.heading), Math.cos(o.heading));
      }
    }
    double minRange = target().range() + RANGE_MARGIN_CM;
    for (int i = 1; i < objects.size(); i++) {
      SimObject d = objects.get(i);
      double rd = d.range();
      if (rd < minRange) {
        double az = Rig.azimuth(d.x, d.y);
        d.x = Rig.RIG_X + minRange * Math.sin(az);
        d.y = Rig.RIG_Y + minRange * Math.cos(az);
      }
    }
  }
}
