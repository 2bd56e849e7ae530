package io.qoiflow.simulator.replay;

import io.qoiflow.simulator.CorruptionSpec;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * A replay scenario: a timeline of corruption segments for the frames, a timeline of telemetry
 * levels for the inference hosts, question and fault settings. See simulator/scenarios/*.yaml.
 */
public record Scenario(
    String name,
    double durationS,
    double rateHz,
    int rigs,
    long seed,
    List<Segment> segments,
    Telemetry telemetry,
    double questionEveryS,
    Faults faults) {

  /** Frames in [fromS, toS) are rendered under {@code spec}. */
  public record Segment(double fromS, double toS, CorruptionSpec spec) {}

  /** Telemetry of {@code hosts} hosts of pool {@code pool}, one record each per period. */
  public record Telemetry(
      String pool, int hosts, long periodMs, double memoryTotalMb, List<TelemetryLevel> levels) {}

  /** Telemetry levels in [fromS, toS); values get a little noise per record. */
  public record TelemetryLevel(
      double fromS,
      double toS,
      double gpuUtilization,
      double memoryUsedMb,
      double temperatureC,
      boolean throttled,
      double p50Ms,
      double p99Ms,
      int queueDepth,
      long consumerLag) {}

  /** Transport faults: send-time jitter, reordering, duplicate and malformed record shares. */
  public record Faults(double jitterMs, double reorder, double duplicates, double malformed) {
    public static final Faults NONE = new Faults(0, 0, 0, 0);
  }

  /** The corruption spec in force at time t (the last segment covering t; clean if none). */
  public CorruptionSpec specAt(double t) {
    CorruptionSpec spec = CorruptionSpec.clean();
    for (Segment s : segments) {
      if (t >= s.fromS && t < s.toS) {
        spec = s.spec;
      }
    }
    return spec;
  }

  /** The telemetry level at time t, or null when none covers it. */
  public TelemetryLevel telemetryAt(double t) {
    TelemetryLevel level = null;
    if (telemetry != null) {
      for (TelemetryLevel l : telemetry.levels) {
        if (t >= l.fromS && t < l.toS) {
          level = l;
        }
      }
    }
    return level;
  }

  public static Scenario load(Path file) throws IOException {
    try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      Object doc = new Yaml(new SafeConstructor(new LoaderOptions())).load(r);
      if (!(doc instanceof Map<?, ?> map)) {
        throw new IllegalArgumentException(file + ": a scenario is a YAML mapping");
      }
      return fromMap(map, file.getFileName().toString());
    }
  }

  static Scenario fromMap(Map<?, ?> m, String fallbackName) {
    List<Segment> segments = new ArrayList<>();
    for (Map<?, ?> s : maps(m.get("segments"))) {
      segments.add(
          new Segment(
              num(s, "from", 0),
              num(s, "to", Double.MAX_VALUE),
              CorruptionSpec.parse(str(s, "corruption", "clean"))));
    }
    Telemetry telemetry = null;
    if (m.get("telemetry") instanceof Map<?, ?> t) {
      List<TelemetryLevel> levels = new ArrayList<>();
      for (Map<?, ?> l : maps(t.get("segments"))) {
        levels.add(
            new TelemetryLevel(
                num(l, "from", 0),
                num(l, "to", Double.MAX_VALUE),
                num(l, "gpuUtilization", 0.5),
                num(l, "memoryUsedMb", 4000),
                num(l, "temperatureC", 60),
                Boolean.TRUE.equals(l.get("throttled")),
                num(l, "p50Ms", 10),
                num(l, "p99Ms", 25),
                (int) num(l, "queueDepth", 0),
                (long) num(l, "consumerLag", 0)));
      }
      telemetry =
          new Telemetry(
              str(t, "pool", "pool-0"),
              (int) num(t, "hosts", 1),
              (long) num(t, "periodMs", 500),
              num(t, "memoryTotalMb", 16384),
              levels);
    }
    Faults faults = Faults.NONE;
    if (m.get("faults") instanceof Map<?, ?> f) {
      faults =
          new Faults(
              num(f, "jitterMs", 0),
              num(f, "reorder", 0),
              num(f, "duplicates", 0),
              num(f, "malformed", 0));
    }
    double questionEvery = 0;
    if (m.get("questions") instanceof Map<?, ?> q) {
      questionEvery = num(q, "everyS", 0);
    }
    return new Scenario(
        str(m, "name", fallbackName),
        num(m, "durationS", 60),
        num(m, "rateHz", 10),
        (int) num(m, "rigs", 1),
        (long) num(m, "seed", 1),
        segments,
        telemetry,
        questionEvery,
        faults);
  }

  public Scenario withOverrides(
      Integer rigsOverride, Double rateOverride, Double durationOverride, Faults faultsOverride) {
    return new Scenario(
        name,
        durationOverride != null ? durationOverride : durationS,
        rateOverride != null ? rateOverride : rateHz,
        rigsOverride != null ? rigsOverride : rigs,
        seed,
        segments,
        telemetry,
        questionEveryS,
        faultsOverride != null ? faultsOverride : faults);
  }

  private static List<Map<?, ?>> maps(Object o) {
    List<Map<?, ?>> out = new ArrayList<>();
    if (o instanceof List<?> list) {
      for (Object x : list) {
        if (x instanceof Map<?, ?> mm) {
          out.add(mm);
        } else {
          throw new IllegalArgumentException("expected a mapping, got " + x);
        }
      }
    }
    return out;
  }

  private static double num(Map<?, ?> m, String key, double dflt) {
    Object v = m.get(key);
    if (v == null) {
      return dflt;
    }
    if (v instanceof Number n) {
      return n.doubleValue();
    }
    throw new IllegalArgumentException("'" + key + "' must be a number, got " + v);
  }

  private static String str(Map<?, ?> m, String key, String dflt) {
    Object v = m.get(key);
    return v == null ? dflt : v.toString();
  }
}
