package io.qoiflow.simulator;

import java.util.List;

/**
 * The fixed, ordered class list of the simulated world (index = {@code classIndex} in the ground
 * truth and in every model's class list). Sizes are in cm. Pairs are deliberately alike in geometry
 * (sizes differ by less than the per-object size jitter of +-8%), so that range sensors tell the
 * four groups apart but hardly the two members of a pair: car/van (red with a black roof vs
 * orange-yellow with a white roof), truck/bus (blue with a grey cab vs teal with a yellow window
 * stripe), motorcycle/bicycle (dark green with a black lower half vs lime with a white one),
 * pedestrian/robot (cylinders; skin and blue trousers vs grey with a yellow top light). The members
 * of a pair differ in colour (camera, the class sensor), sound (audio), radar cross-section and
 * micro-Doppler (mmWave), and hardly in LiDAR reflectivity.
 */
public enum ObjectClass {
  CAR(
      "car",
      "cars",
      Shape.BOX,
      110,
      55,
      50,
      rgb(200, 45, 40),
      rgb(35, 35, 40),
      Accent.ROOF,
      5.0,
      0.15,
      0.56,
      Sound.ENGINE,
      110,
      new double[] {1, .5, .33, .25, .2, .17, .14, .12},
      100,
      350),
  VAN(
      "van",
      "vans",
      Shape.BOX,
      113,
      55,
      54,
      rgb(235, 150, 35),
      rgb(230, 230, 225),
      Accent.ROOF,
      7.0,
      0.15,
      0.58,
      Sound.ENGINE,
      125,
      new double[] {1, .15, .6, .1, .4, .08, .25, .05},
      100,
      300),
  TRUCK(
      "truck",
      "trucks",
      Shape.BOX,
      155,
      60,
      72,
      rgb(45, 70, 200),
      rgb(205, 205, 200),
      Accent.CAB,
      10.0,
      0.15,
      0.67,
      Sound.ENGINE,
      70,
      new double[] {.6, 1, .5, .8, .3, .5, .2, .3, .15, .2},
      80,
      250),
  BUS(
      "bus",
      "buses",
      Shape.BOX,
      158,
      60,
      75,
      rgb(30, 165, 165),
      rgb(240, 200, 60),
      Accent.STRIPE,
      11.0,
      0.15,
      0.66,
      Sound.ENGINE,
      85,
      new double[] {1, .9, .85, .8, .75, .7, .65, .6, .55, .5, .45, .4},
      80,
      250),
  MOTORCYCLE(
      "motorcycle",
      "motorcycles",
      Shape.BOX,
      90,
      26,
      55,
      rgb(35, 110, 45),
      rgb(25, 25, 25),
      Accent.LOWER,
      0.0,
      0.6,
      0.37,
      Sound.ENGINE_PULSED,
      190,
      new double[] {1, .8, .2, .6, .15, .4, .1, .25},
      150,
      400),
  BICYCLE(
      "bicycle",
      "bicycles",
      Shape.BOX,
      88,
      20,
      52,
      rgb(160, 205, 60),
      rgb(225, 225, 225),
      Accent.LOWER,
      -6.0,
      1.0,
      0.35,
      Sound.CLICKS,
      0,
      new double[] {},
      120,
      300),
  PEDESTRIAN(
      "pedestrian",
      "pedestrians",
      Shape.CYLINDER,
      38,
      38,
      160,
      rgb(205, 160, 125),
      rgb(60, 60, 150),
      Accent.LOWER,
      -3.0,
      1.6,
      0.36,
      Sound.STEPS,
      0,
      new double[] {},
      60,
      160),
  ROBOT(
      "robot",
      "robots",
      Shape.CYLINDER,
      40,
      40,
      154,
      rgb(160, 160, 170),
      rgb(250, 205, 0),
      Accent.TOP,
      2.0,
      0.1,
      0.39,
      Sound.WHINE,
      420,
      new double[] {1, 0, .6, 0, .3},
      30,
      120);

  /** Geometric primitive of a class. */
  public enum Shape {
    BOX,
    CYLINDER
  }

  /** Where the accent colour sits on the body. */
  public enum Accent {
    ROOF,
    CAB,
    STRIPE,
    LOWER,
    TOP
  }

  /** Kind of sound a class emits. */
  public enum Sound {
    ENGINE,
    ENGINE_PULSED,
    CLICKS,
    STEPS,
    WHINE
  }

  public static final List<ObjectClass> ALL = List.of(values());

  public final String label;
  public final String plural;
  public final Shape shape;

  /** Length (along heading), width and height, cm. For cylinders length = width = diameter. */
  public final double length;

  public final double width;
  public final double height;

  /** Body and accent colour, 0..1 linear RGB. */
  public final double[] body;

  public final double[] accent;
  public final Accent accentPlace;

  /** Radar cross-section, dBsm-like relative units. */
  public final double rcsDb;

  /** Micro-Doppler amplitude (m/s) of the scatterers of a moving object (limbs, wheels). */
  public final double microDoppler;

  /** LiDAR reflectivity of the body, 0..1. */
  public final double reflectivity;

  public final Sound sound;

  /** Fundamental frequency of the harmonic sound, Hz (0 for non-harmonic sounds). */
  public final double f0;

  /** Linear amplitude of harmonic k+1. */
  public final double[] harmonics;

  /** Speed range when moving, cm/s. */
  public final double minSpeed;

  public final double maxSpeed;

  ObjectClass(
      String label,
      String plural,
      Shape shape,
      double length,
      double width,
      double height,
      double[] body,
      double[] accent,
      Accent accentPlace,
      double rcsDb,
      double microDoppler,
      double reflectivity,
      Sound sound,
      double f0,
      double[] harmonics,
      double minSpeed,
      double maxSpeed) {
    this.label = label;
    this.plural = plural;
    this.shape = shape;
    this.length = length;
    this.width = width;
    this.height = height;
    this.body = body;
    this.accent = accent;
    this.accentPlace = accentPlace;
    this.rcsDb = rcsDb;
    this.microDoppler = microDoppler;
    this.reflectivity = reflectivity;
    this.sound = sound;
    this.f0 = f0;
    this.harmonics = harmonics;
    this.minSpeed = minSpeed;
    this.maxSpeed = maxSpeed;
  }

  /** Radius of a circle around the footprint, cm. */
  public double boundingRadius() {
    return 0.5 * Math.hypot(length, width);
  }

  public static ObjectClass byLabel(String label) {
    for (ObjectClass c : values()) {
      if (c.label.equals(label)) {
        return c;
      }
    }
    throw new IllegalArgumentException("unknown class " + label);
  }

  private static double[] rgb(int r, int g, int b) {
    return new double[] {r / 255.0, g / 255.0, b / 255.0};
  }
}
