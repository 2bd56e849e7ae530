package io.qoiflow.simulator;

import io.qoiflow.records.Modality;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * What corruptions to draw per sample. {@code clean}: none. {@code random}: the training mix (30%
 * of samples fully clean; otherwise each modality independently 40% clean, 10% off, else a uniform
 * type of that modality at a uniform level in (0, 1]; never all five off). Otherwise
 * comma-separated {@code modality:type:LO-HI} (level uniform in [LO, HI]), {@code
 * modality:type:LEVEL} or {@code modality:off}; unnamed modalities are clean. Several entries for
 * one modality all apply, in order.
 */
public final class CorruptionSpec {
  public static final double RANDOM_ALL_CLEAN = 0.3;
  public static final double RANDOM_MODALITY_CLEAN = 0.4;
  public static final double RANDOM_MODALITY_OFF = 0.1;

  private record Entry(Modality modality, CorruptionType type, double lo, double hi) {}

  private final String text;
  private final boolean random;
  private final List<Entry> entries;

  private CorruptionSpec(String text, boolean random, List<Entry> entries) {
    this.text = text;
    this.random = random;
    this.entries = List.copyOf(entries);
  }

  public static CorruptionSpec clean() {
    return new CorruptionSpec("clean", false, List.of());
  }

  public static CorruptionSpec random() {
    return new CorruptionSpec("random", true, List.of());
  }

  public static CorruptionSpec parse(String spec) {
    String s = spec == null ? "" : spec.strip().toLowerCase(Locale.ROOT);
    if (s.isEmpty() || s.equals("clean")) {
      return clean();
    }
    if (s.equals("random")) {
      return random();
    }
    List<Entry> entries = new ArrayList<>();
    for (String part : s.split(",")) {
      String p = part.strip();
      if (p.isEmpty()) {
        continue;
      }
      String[] f = p.split(":");
      if (f.length < 2 || f.length > 3) {
        throw new IllegalArgumentException(
            "corruption entry '" + p + "' is not modality:type[:LO-HI]");
      }
      Modality m;
      try {
        m = Modality.valueOf(f[0].toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("unknown modality '" + f[0] + "' in '" + p + "'", e);
      }
      if (f[1].equals("clean")) {
        continue;
      }
      CorruptionType t = CorruptionType.byLabel(f[1]);
      if (!t.appliesTo(m)) {
        throw new IllegalArgumentException(
            "corruption '"
                + t.label
                + "' does not apply to "
                + f[0]
                + "; allowed: "
                + CorruptionType.framesTypes(m)
                + " or off");
      }
      double lo = 1.0;
      double hi = 1.0;
      if (f.length == 3 && t != CorruptionType.OFF) {
        String[] range = f[2].split("-");
        try {
          lo = Double.parseDouble(range[0]);
          hi = range.length > 1 ? Double.parseDouble(range[1]) : lo;
        } catch (NumberFormatException e) {
          throw new IllegalArgumentException("bad level range '" + f[2] + "' in '" + p + "'", e);
        }
        if (range.length > 2 || lo < 0 || hi > 1 || lo > hi) {
          throw new IllegalArgumentException(
              "level range '" + f[2] + "' must be 0 <= LO <= HI <= 1");
        }
      } else if (f.length == 2 && t != CorruptionType.OFF) {
        throw new IllegalArgumentException("corruption entry '" + p + "' needs a level LO-HI");
      }
      entries.add(new Entry(m, t, lo, hi));
    }
    return new CorruptionSpec(spec.strip(), false, entries);
  }

  public boolean isClean() {
    return !random && entries.isEmpty();
  }

  public boolean isRandom() {
    return random;
  }

  /** Draws the corruptions of one sample; a level drawn as 0 means clean (no entry). */
  public List<Corruption> draw(SplittableRandom r) {
    List<Corruption> out = new ArrayList<>();
    if (random) {
      if (r.nextDouble() < RANDOM_ALL_CLEAN) {
        return out;
      }
      int off = 0;
      for (Modality m : Modality.values()) {
        double u = r.nextDouble();
        if (u < RANDOM_MODALITY_CLEAN) {
          continue;
        }
        if (u < RANDOM_MODALITY_CLEAN + RANDOM_MODALITY_OFF) {
          out.add(new Corruption(m, CorruptionType.OFF, 1.0));
          off++;
          continue;
        }
        List<CorruptionType> types = CorruptionType.framesTypes(m);
        CorruptionType t = types.get(r.nextInt(types.size()));
        out.add(new Corruption(m, t, 1.0 - r.nextDouble()));
      }
      if (off == Modality.values().length) {
        out.remove(r.nextInt(out.size()));
      }
      return out;
    }
    for (Entry e : entries) {
      double level = e.lo + (e.hi - e.lo) * r.nextDouble();
      if (e.type == CorruptionType.OFF) {
        level = 1.0;
      }
      if (level > 0) {
        out.add(new Corruption(e.modality, e.type, level));
      }
    }
    return out;
  }

  @Override
  public String toString() {
    return text;
  }
}
