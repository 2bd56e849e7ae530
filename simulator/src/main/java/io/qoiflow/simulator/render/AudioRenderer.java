package io.qoiflow.simulator.render;

import io.qoiflow.simulator.ObjectClass;
import io.qoiflow.simulator.Rig;
import io.qoiflow.simulator.Rng;
import io.qoiflow.simulator.Scene;
import io.qoiflow.simulator.SimObject;
import io.qoiflow.simulator.Status;
import java.util.SplittableRandom;

/**
 * Two-channel log-mel spectrogram of the rig's microphone pair: channel 0 left, 1 right; 32 mel
 * bins (50 Hz .. 8 kHz, bin 0 lowest) by 48 frames (20 ms hop, about 1 s). Values are power in dB
 * (ambient floor around 15-20 dB). Sources: engines (harmonic series with a class-specific
 * fundamental and harmonic profile; idling lower and quieter when stopped, silent when parked),
 * pulsed engines (strong 12.5 Hz amplitude modulation), bicycle chain clicks, footsteps and a
 * robot's tonal whine. Direction: the level difference between the channels grows with the sine of
 * the azimuth and with frequency (head-shadow style), and the envelope of the far channel lags by
 * up to half a frame. Level falls 20 dB per decade of distance.
 */
public final class AudioRenderer {
  public static final int M = 32;
  public static final int T = 48;
  public static final double FMIN = 50;
  public static final double FMAX = 8000;
  public static final double HOP_S = 0.02;
  private static final double MEL_MIN = mel(FMIN);
  private static final double MEL_MAX = mel(FMAX);
  private static final double[] BIN_HZ = new double[M];

  static {
    for (int b = 0; b < M; b++) {
      BIN_HZ[b] = hz(MEL_MIN + (b + 1) * (MEL_MAX - MEL_MIN) / (M + 1));
    }
  }

  private final double[] power = new double[2 * M * T];
  private final double[] env = new double[2 * T];

  public static double mel(double f) {
    return 2595 * Math.log10(1 + f / 700);
  }

  public static double hz(double m) {
    return 700 * (Math.pow(10, m / 2595) - 1);
  }

  /** Centre frequency of mel bin b, Hz. */
  public static double binHz(int b) {
    return BIN_HZ[b];
  }

  /** Renders into {@code out} (2*M*T floats). */
  public void render(Scene scene, SplittableRandom noise, float[] out) {
    for (int c = 0; c < 2; c++) {
      for (int b = 0; b < M; b++) {
        double floor = Math.pow(10, (scene.ambientDb + 6 - 0.3 * b) / 10);
        for (int t = 0; t < T; t++) {
          power[(c * M + b) * T + t] = floor * Rng.exp(noise);
        }
      }
    }
    for (SimObject o : scene.objects) {
      addSource(o);
    }
    for (int i = 0; i < power.length; i++) {
      out[i] = (float) (10 * Math.log10(power[i]));
    }
  }

  private void addSource(SimObject o) {
    ObjectClass c = o.cls;
    double levelDb;
    double pitch = c.f0 * o.pitchScale;
    boolean moving = o.status == Status.MOVING;
    switch (c.sound) {
      case ENGINE, ENGINE_PULSED -> {
        if (o.status == Status.PARKED) {
          return;
        }
        levelDb = moving ? 74 : 64;
        pitch *= moving ? 1 + 0.3 * o.speed / c.maxSpeed : 0.75;
      }
      case WHINE -> {
        levelDb = moving ? 66 : o.status == Status.STOPPED ? 61 : 48;
        pitch *= moving ? 1 + 0.15 * o.speed / c.maxSpeed : 1;
      }
      case CLICKS, STEPS -> {
        if (!moving) {
          return;
        }
        levelDb = c.sound == ObjectClass.Sound.CLICKS ? 68 : 70;
      }
      default -> throw new IllegalStateException();
    }
    double r = Math.max(50, o.range());
    levelDb -= 20 * Math.log10(r / 100.0);
    double sinAz = Math.sin(Rig.azimuth(o.x, o.y));
    // Envelope per channel; the channel farther from the source lags.
    double lag = 0.5 * Math.abs(sinAz);
    for (int ch = 0; ch < 2; ch++) {
      boolean far = (ch == 0) == (sinAz > 0);
      double shift = far ? lag : 0;
      for (int t = 0; t < T; t++) {
        env[ch * T + t] = envelope(o, t - shift);
      }
    }
    double base = Math.pow(10, levelDb / 10);
    switch (c.sound) {
      case ENGINE, ENGINE_PULSED, WHINE -> {
        for (int k = 0; k < c.harmonics.length; k++) {
          double h = c.harmonics[k];
          double f = pitch * (k + 1);
          if (h <= 0 || f >= FMAX) {
            continue;
          }
          addTone(f, base * h * h, sinAz);
        }
      }
      case CLICKS -> {
        for (int b = 0; b < M; b++) {
          double lf = Math.log(BIN_HZ[b] / 3500.0) / 0.45;
          addBand(b, base * 0.35 * Math.exp(-0.5 * lf * lf), sinAz);
        }
      }
      case STEPS -> {
        for (int b = 0; b < M; b++) {
          double lf = Math.log(BIN_HZ[b] / 250.0) / 0.7;
          addBand(b, base * 0.4 * Math.exp(-0.5 * lf * lf), sinAz);
        }
      }
    }
  }

  private double envelope(SimObject o, double t) {
    double sec = t * HOP_S;
    return switch (o.cls.sound) {
      case ENGINE -> 1 + 0.15 * Math.sin(2 * Math.PI * 0.8 * sec + o.phase);
      case ENGINE_PULSED -> {
        double w = 0.5 + 0.5 * Math.sin(2 * Math.PI * 12.5 * sec + o.phase);
        yield 0.25 + 1.5 * w * w;
      }
      case WHINE -> 1 + 0.1 * Math.sin(2 * Math.PI * 1.5 * sec + o.phase);
      case CLICKS -> pulses(t, 2 + o.speed / 60.0, o.phase, 0.45);
      case STEPS -> pulses(t, 1.3 + o.speed / 150.0, o.phase, 0.9);
    };
  }

  /** Unit pulses at {@code rateHz}, Gaussian in frames of width {@code width}. */
  private static double pulses(double t, double rateHz, double phase, double width) {
    double period = 1.0 / (rateHz * HOP_S);
    double pos = (t + phase / (2 * Math.PI) * period) % period;
    if (pos < 0) {
      pos += period;
    }
    double d = Math.min(pos, period - pos) / width;
    return 3.0 * Math.exp(-0.5 * d * d) + 0.02;
  }

  private void addTone(double f, double p, double sinAz) {
    double pos = (mel(f) - MEL_MIN) / (MEL_MAX - MEL_MIN) * (M + 1) - 1;
    int lo = (int) Math.floor(pos);
    double w = pos - lo;
    if (lo >= 0 && lo < M) {
      addBand(lo, p * (1 - w), sinAz);
    }
    if (lo + 1 >= 0 && lo + 1 < M) {
      addBand(lo + 1, p * w, sinAz);
    }
  }

  private void addBand(int b, double p, double sinAz) {
    double ild = sinAz * (2 + 8 * BIN_HZ[b] / FMAX);
    double gl = Math.pow(10, -ild / 20);
    double gr = Math.pow(10, ild / 20);
    int l0 = b * T;
    int r0 = (M + b) * T;
    for (int t = 0; t < T; t++) {
      power[l0 + t] += p * gl * env[t];
      power[r0 + t] += p * gr * env[T + t];
    }
  }
}
