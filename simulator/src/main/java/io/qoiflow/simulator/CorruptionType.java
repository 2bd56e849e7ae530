package io.qoiflow.simulator;

import io.qoiflow.records.Modality;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/** Corruption types and the modalities each applies to. */
public enum CorruptionType {
  NOISE(
      "noise",
      EnumSet.of(Modality.CAMERA, Modality.DEPTH, Modality.MMWAVE, Modality.LIDAR, Modality.AUDIO)),
  LOWLIGHT("lowlight", EnumSet.of(Modality.CAMERA)),
  BLUR("blur", EnumSet.of(Modality.CAMERA)),
  OCCLUSION("occlusion", EnumSet.of(Modality.CAMERA)),
  MISSING("missing", EnumSet.of(Modality.DEPTH)),
  INTERFERENCE("interference", EnumSet.of(Modality.MMWAVE)),
  DROPOUT("dropout", EnumSet.of(Modality.LIDAR)),
  CLIPPING("clipping", EnumSet.of(Modality.AUDIO)),
  OFF("off", EnumSet.allOf(Modality.class));

  public final String label;
  private final Set<Modality> modalities;

  CorruptionType(String label, Set<Modality> modalities) {
    this.label = label;
    this.modalities = modalities;
  }

  public boolean appliesTo(Modality m) {
    return modalities.contains(m);
  }

  /** The types that degrade a rendered frame of {@code m} (everything but {@link #OFF}). */
  public static List<CorruptionType> framesTypes(Modality m) {
    return switch (m) {
      case CAMERA -> List.of(NOISE, LOWLIGHT, BLUR, OCCLUSION);
      case DEPTH -> List.of(NOISE, MISSING);
      case MMWAVE -> List.of(NOISE, INTERFERENCE);
      case LIDAR -> List.of(DROPOUT, NOISE);
      case AUDIO -> List.of(NOISE, CLIPPING);
    };
  }

  public static CorruptionType byLabel(String label) {
    for (CorruptionType t : values()) {
      if (t.label.equals(label)) {
        return t;
      }
    }
    throw new IllegalArgumentException("unknown corruption type '" + label + "'");
  }
}
