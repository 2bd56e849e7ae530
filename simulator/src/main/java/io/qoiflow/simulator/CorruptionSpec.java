package io.qoiflow.simulator;

import io.qoiflow.records.Modality;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * What corruptions to draw per sample. A spec is one or more alternatives separated by {@code |};
 * each sample draws one alternative uniformly, so a mix such as {@code
 * lidar:dropout:0.6-1.0|camera:blur:0.5-1.0,depth:off|clean} corrupts a different modality sample
 * by sample. An alternative is {@code clean} (none), {@code random} (the training mix, see {@link
 * #draw}), or comma-separated {@code modality:type:LO-HI} (level uniform in [LO, HI]), {@code
 * modality:type:LEVEL} or {@code modality:off}; unnamed modalities are clean. Several entries for
 * one modality all apply, in order.
 */
public final class CorruptionSpec {
  /** Share of {@code random} samples with no corruption at all. */
  public static final double RANDOM_ALL_CLEAN = 0.2;

  /** In a corrupted {@code random} sample, per modality: clean, off, else one corruption type. */
  public static final double RANDOM_MODALITY_CLEAN = 0.4;

  public static final double RANDOM_MODALITY_OFF = 0.1;

  /**
   * Corruption types that {@code random} never draws: they are held out of training, so tests on
   * them measure how QoI estimation generalises to an unseen degradation (docs/SIMULATOR.md).
   */
  public static final List<String> HELD_OUT = List.of("camera:occlusion", "audio:clipping");

  private record Entry(Modality modality, CorruptionType type, double lo, double hi) {}

  /** One alternative: random, or a list of entries (empty = clean). */
  private record Alternative(boolean random, List<Entry> entries) {}

  private final String text;
  private final List<Alternative> alternatives;

  private CorruptionSpec(String text, List<Alternative> alternatives) {
    this.text = text;
    this.alternatives = List.copyOf(alternatives);
  }

  public static CorruptionSpec clean() {
    return new CorruptionSpec("clean", List.of(new Alternative(false, List.of())));
  }

  public static CorruptionSpec random() {
    return new CorruptionSpec("random", List.of(new Alternative(true, List.of())));
  }

  /** Parses a spec; throws IllegalArgumentException naming the malformed part. */
  public static CorruptionSpec parse(String spec) {
    String s = spec == null ? "" : spec.strip().toLowerCase(Locale.ROOT);
    if (s.isEmpty()) {
      return clean();
    }
    List<Alternative> alts = new ArrayList<>();
    String[] parts = s.split("\\|", -1);
    for (int i = 0; i < parts.length; i++) {
      String alt = parts[i].strip();
      if (alt.isEmpty()) {
        throw new IllegalArgumentException(
            "corruption spec '"
                + spec.strip()
                + "': alternative "
                + (i + 1)
                + " of "
                + parts.length
                + " is empty (write 'clean' for a clean alternative)");
      }
      try {
        alts.add(parseAlternative(alt));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(
            parts.length == 1
                ? e.getMessage()
                : e.getMessage() + " (in alternative " + (i + 1) + " '" + alt + "')",
            e.getCause());
      }
    }
    return new CorruptionSpec(spec.strip(), alts);
  }

  private static Alternative parseAlternative(String s) {
    if (s.equals("clean")) {
      return new Alternative(false, List.of());
    }
    if (s.equals("random")) {
      return new Alternative(true, List.of());
    }
    List<Entry> entries = new ArrayList<>();
    for (String part : s.split(",")) {
      String p = part.strip();
      if (p.isEmpty()) {
        continue;
      }
      if (p.equals("clean") || p.equals("random")) {
        throw new IllegalArgumentException(
            "'" + p + "' must stand alone in its alternative, not in a comma list");
      }
      String[] f = p.split(":");
      if (f.length < 2 || f.length > 3) {
        throw new IllegalArgumentException(
            "corruption entry '" + p + "' is not modality:type[:LO-HI]");
      }
      Modality m;
      try {
        m = Modality.valueOf(f[0].strip().toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(
            "unknown modality '"
                + f[0]
                + "' in '"
                + p
                + "'; allowed: camera, depth, mmwave, lidar, audio",
            e);
      }
      if (f[1].equals("clean")) {
        continue;
      }
      CorruptionType t;
      try {
        t = CorruptionType.byLabel(f[1].strip());
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(
            e.getMessage()
                + " in '"
                + p
                + "'; allowed: "
                + CorruptionType.framesTypes(m)
                + " or off",
            e);
      }
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
        } catch (NumberFormatException | ArrayIndexOutOfBoundsException e) {
          throw new IllegalArgumentException("bad level range '" + f[2] + "' in '" + p + "'", e);
        }
        if (range.length > 2 || lo < 0 || hi > 1 || lo > hi) {
          throw new IllegalArgumentException(
              "level range '" + f[2] + "' in '" + p + "' must be 0 <= LO <= HI <= 1");
        }
      } else if (f.length == 2 && t != CorruptionType.OFF) {
        throw new IllegalArgumentException("corruption entry '" + p + "' needs a level LO-HI");
      }
      entries.add(new Entry(m, t, lo, hi));
    }
    return new Alternative(false, entries);
  }

  /** True when no alternative can corrupt anything. */
  public boolean isClean() {
    return alternatives.stream().allMatch(a -> !a.random && a.entries.isEmpty());
  }

  /** True for the plain training mix {@code random}. */
  public boolean isRandom() {
    return alternatives.size() == 1 && alternatives.get(0).random;
  }

  /** Number of {@code |} alternatives (1 for a plain spec). */
  public int alternatives() {
    return alternatives.size();
  }

  /**
   * Draws the corruptions of one sample; a level drawn as 0 means clean (no entry). With several
   * alternatives, one is drawn uniformly first (a single alternative draws nothing extra, so plain
   * specs give the same samples as before alternatives existed).
   *
   * <p>{@code random}: {@link #RANDOM_ALL_CLEAN} of samples fully clean; otherwise each modality
   * independently {@link #RANDOM_MODALITY_CLEAN} clean, {@link #RANDOM_MODALITY_OFF} off, else one
   * of its types outside {@link #HELD_OUT} (uniform) at a uniform level in (0, 1]; never all five
   * off.
   */
  public List<Corruption> draw(SplittableRandom r) {
    Alternative alt =
        alternatives.size() == 1
            ? alternatives.get(0)
            : alternatives.get(r.nextInt(alternatives.size()));
    List<Corruption> out = new ArrayList<>();
    if (alt.random) {
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
        List<CorruptionType> types = trainingTypes(m);
        CorruptionType t = types.get(r.nextInt(types.size()));
        out.add(new Corruption(m, t, 1.0 - r.nextDouble()));
      }
      if (off == Modality.values().length) {
        out.remove(r.nextInt(out.size()));
      }
      return out;
    }
    for (Entry e : alt.entries) {
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

  /** The frame corruption types of {@code m} that {@code random} draws (all but held-out ones). */
  public static List<CorruptionType> trainingTypes(Modality m) {
    return CorruptionType.framesTypes(m).stream()
        .filter(t -> !HELD_OUT.contains(m.name().toLowerCase(Locale.ROOT) + ":" + t.label))
        .toList();
  }

  @Override
  public String toString() {
    return text;
  }
}
