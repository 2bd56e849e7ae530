package io.qoiflow.simulator;

/** One object of the scene: class, pose, motion and per-object appearance jitter. */
public final class SimObject {
  public final ObjectClass cls;
  public double x;
  public double y;

  /** Heading, radians from +x (counter-clockwise). */
  public double heading;

  /** Speed along the heading, cm/s (0 unless moving). */
  public double speed;

  /** Speed it drives at when moving, cm/s. */
  public double cruiseSpeed;

  public Status status;

  /** Turn rate when moving, rad/s (replay only). */
  public double turnRate;

  /** Appearance jitter: colour gain per channel, size scale, pitch of the sound. */
  public final double[] colourGain = new double[3];

  public double sizeScale = 1.0;
  public double pitchScale = 1.0;

  /** Random phases for sound and radar micro-motion. */
  public double phase;

  public SimObject(ObjectClass cls) {
    this.cls = cls;
  }

  public double vx() {
    return speed == 0 ? 0.0 : speed * Math.cos(heading);
  }

  public double vy() {
    return speed == 0 ? 0.0 : speed * Math.sin(heading);
  }

  public double length() {
    return cls.length * sizeScale;
  }

  public double width() {
    return cls.width * sizeScale;
  }

  public double height() {
    return cls.height * sizeScale;
  }

  public double range() {
    return Rig.range(x, y);
  }
}
