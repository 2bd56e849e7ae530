package io.qoiflow.simulator;

/**
 * Geometry of the arena and the sensor rig. World coordinates in cm: x to the right, y away from
 * the rig, z up; origin at the arena centre on the floor. The arena is 600 cm x 600 cm. The rig
 * stands outside the arena on its near side at (0, -600) and looks along +y; its camera mast is at
 * (0, -500).
 */
public final class Rig {
  public static final double ARENA_HALF = 300.0;
  public static final double RIG_X = 0.0;
  public static final double RIG_Y = -600.0;

  /**
   * The camera is on a pole behind the arena at (0, -500) cm, 1000 cm high, aimed at the arena
   * centre (pitched down 63.4 deg), 40 deg field of view: the whole arena fills the image at 15-23
   * cm per pixel (surveillance-style view; the sides of objects are still visible).
   */
  public static final double CAM_Y = -500.0;

  public static final double CAM_H = 1000.0;
  public static final double CAM_PITCH = Math.atan2(CAM_H, 0 - CAM_Y);
  public static final int IMG = 48;
  public static final double CAM_FOCAL_PX = (IMG / 2.0) / Math.tan(Math.toRadians(20));

  /** The depth camera stands on the rig at (0, -600) cm, this high, looking level along +y. */
  public static final double DEPTH_CAM_H = 150.0;

  /** Depth camera maximum range (cm); farther surfaces give no return (0). */
  public static final double DEPTH_MAX_CM = 1200.0;

  /** LiDAR: height, 16 beams from +7.5 deg down to -15 deg, 128 azimuth bins over [-50, 50) deg. */
  public static final double LIDAR_H = 80.0;

  public static final int LIDAR_BEAMS = 16;
  public static final int LIDAR_AZ = 128;
  public static final double LIDAR_EL_TOP_DEG = 7.5;
  public static final double LIDAR_EL_STEP_DEG = 1.5;
  public static final double LIDAR_AZ_HALF_DEG = 50.0;
  public static final double LIDAR_MAX_CM = 1500.0;

  /** mmWave radar: 32 range bins from 250 cm (25 cm each), 32 azimuth bins over [-48, 48) deg. */
  public static final double RADAR_H = 80.0;

  public static final int RADAR_BINS = 32;
  public static final double RADAR_R0 = 250.0;
  public static final double RADAR_DR = 25.0;
  public static final double RADAR_AZ_HALF_DEG = 48.0;

  /** Microphones: two, 60 cm apart along x, on the rig. */
  public static final double MIC_BASELINE_CM = 60.0;

  private Rig() {}

  /** Horizontal range from the rig to (x, y), cm. */
  public static double range(double x, double y) {
    return Math.hypot(x - RIG_X, y - RIG_Y);
  }

  /** Azimuth of (x, y) seen from the rig, radians; 0 straight ahead (+y), positive to the right. */
  public static double azimuth(double x, double y) {
    return Math.atan2(x - RIG_X, y - RIG_Y);
  }
}
