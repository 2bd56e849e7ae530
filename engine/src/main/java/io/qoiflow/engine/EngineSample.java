package io.qoiflow.engine;

import io.qoiflow.records.FrameSet;
import io.qoiflow.records.Modality;
import io.qoiflow.records.SensorFrame;
import java.util.Arrays;
import java.util.Collection;

/**
 * One sample to infer: a frame per modality (null = missing) and its budget as a fraction of all
 * backbone layers. The engine maps the fraction to a layer count L with the manifest.
 */
public final class EngineSample {
  private final SensorFrame[] frames;
  private final double budgetFraction;

  private EngineSample(SensorFrame[] frames, double budgetFraction) {
    if (!(budgetFraction > 0) || budgetFraction > 1.0 + 1e-9) {
      throw new IllegalArgumentException("budget fraction must be in (0, 1]: " + budgetFraction);
    }
    this.frames = frames;
    this.budgetFraction = budgetFraction;
  }

  /** From a list of frames in any order; a modality may appear at most once. */
  public static EngineSample of(Collection<SensorFrame> frames, double budgetFraction) {
    SensorFrame[] byModality = new SensorFrame[Modality.values().length];
    for (SensorFrame f : frames) {
      int i = f.getModality().ordinal();
      if (byModality[i] != null) {
        throw new FrameDecoder.BadFrameException("two " + f.getModality() + " frames in a sample");
      }
      byModality[i] = f;
    }
    return new EngineSample(byModality, budgetFraction);
  }

  /** From a joined FrameSet; its own budget fraction unless {@code budgetFraction} is given. */
  public static EngineSample of(FrameSet set, double budgetFraction) {
    SensorFrame[] byModality = new SensorFrame[Modality.values().length];
    byModality[Modality.CAMERA.ordinal()] = set.getCamera();
    byModality[Modality.DEPTH.ordinal()] = set.getDepth();
    byModality[Modality.MMWAVE.ordinal()] = set.getMmwave();
    byModality[Modality.LIDAR.ordinal()] = set.getLidar();
    byModality[Modality.AUDIO.ordinal()] = set.getAudio();
    for (Modality m : set.getMissing()) {
      byModality[m.ordinal()] = null;
    }
    return new EngineSample(byModality, budgetFraction);
  }

  /** The frame of a modality, or null when it is missing. */
  public SensorFrame frame(Modality m) {
    return frames[m.ordinal()];
  }

  public double budgetFraction() {
    return budgetFraction;
  }

  /** The same frames under another budget. */
  public EngineSample withBudget(double fraction) {
    return new EngineSample(frames, fraction);
  }

  @Override
  public String toString() {
    return "EngineSample{budget=" + budgetFraction + ", frames=" + Arrays.toString(frames) + "}";
  }
}
