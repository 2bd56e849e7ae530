package io.qoiflow.capacity;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The measured figures a capacity plan rests on, read from the committed bench JSON ({@code
 * benchmarks/results/}): per budget the median over the end-to-end runs ({@code qoiflow bench e2e})
 * of CPU per FrameSet (job JVM, engine thread, broker) and the median over the engine runs ({@code
 * qoiflow bench engine}) of engine time per sample at batch 1 and 16 and the FLOPs ratio.
 *
 * @param e2eFiles the end-to-end runs used
 * @param engineFiles the engine runs used
 * @param byBudget figures per budget percentage
 * @param layerFlopsFull layer FLOPs per sample of the full model (e2e {@code chain})
 * @param loadAverages each e2e run's load average before and after (shared machine)
 */
public record BenchFigures(
    List<String> e2eFiles,
    List<String> engineFiles,
    Map<Integer, Budget> byBudget,
    double layerFlopsFull,
    List<String> loadAverages) {

  /**
   * Medians at one budget.
   *
   * @param jvmCpuMs CPU of the job's JVM per FrameSet (whole process: Flink, engine, the bench's
   *     two watching consumers)
   * @param engineCpuMs CPU of the engine's micro-batcher thread per FrameSet (all ONNX Runtime
   *     work)
   * @param brokerCpuMs CPU of the broker JVM per FrameSet
   * @param decodeMs the engine's decode stage per FrameSet (wall; stays on the host with a GPU)
   * @param engineMsB1 engine alone, ms per sample at batch 1
   * @param engineMsB16 engine alone, ms per sample at batch 16
   * @param flopsRatio mean FLOPs per sample at this budget / the full model's
   * @param e2eRuns how many e2e runs gave this row
   */
  public record Budget(
      double jvmCpuMs,
      double engineCpuMs,
      double brokerCpuMs,
      double decodeMs,
      double engineMsB1,
      double engineMsB16,
      double flopsRatio,
      int e2eRuns) {}

  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * Every {@code bench-e2e-<model>*.json} and {@code bench-engine-<model>[-runN].json} in {@code
   * dir} (the engine's experimental {@code -overlap-} runs are left out: not the default engine).
   */
  public static BenchFigures load(Path dir, String model) {
    Pattern e2e = Pattern.compile("bench-e2e-" + Pattern.quote(model) + "(-run\\d+)?\\.json");
    Pattern engine = Pattern.compile("bench-engine-" + Pattern.quote(model) + "(-run\\d+)?\\.json");
    List<Path> e2eFiles = list(dir, e2e);
    List<Path> engineFiles = list(dir, engine);
    if (e2eFiles.isEmpty() || engineFiles.isEmpty()) {
      throw new IllegalArgumentException(
          "need bench-e2e-" + model + "*.json and bench-engine-" + model + "*.json in " + dir);
    }
    return of(read(e2eFiles), read(engineFiles), names(e2eFiles), names(engineFiles));
  }

  /** From parsed JSON documents (tests pass their own). */
  public static BenchFigures of(
      List<JsonNode> e2eRuns,
      List<JsonNode> engineRuns,
      List<String> e2eNames,
      List<String> engineNames) {
    Map<Integer, List<double[]>> e2eRows = new TreeMap<>();
    List<String> loads = new ArrayList<>();
    List<Double> flopsFull = new ArrayList<>();
    for (JsonNode run : e2eRuns) {
      for (JsonNode row : run.path("rows")) {
        e2eRows
            .computeIfAbsent(row.path("budget_pct").asInt(), k -> new ArrayList<>())
            .add(
                new double[] {
                  required(row, "cpu_ms_per_frameset"),
                  required(row, "engine_thread_cpu_ms_per_frameset"),
                  required(row, "broker_cpu_ms_per_frameset"),
                  row.path("engine_stages_ms_per_frameset").path("decode").asDouble(0)
                });
      }
      JsonNode d = run.path("details");
      loads.add(load1(d.path("load_average_before")) + "→" + load1(d.path("load_average_after")));
      if (run.path("chain").has("layer_flops_per_sample")) {
        flopsFull.add(run.path("chain").path("layer_flops_per_sample").asDouble());
      }
    }
    Map<Integer, List<double[]>> engineRows = new TreeMap<>();
    for (JsonNode run : engineRuns) {
      for (JsonNode row : run.path("rows")) {
        engineRows
            .computeIfAbsent(row.path("budget_pct").asInt(), k -> new ArrayList<>())
            .add(
                new double[] {
                  required(row, "ms_per_sample_b1"),
                  required(row, "ms_per_sample_b16"),
                  required(row, "flops_ratio")
                });
      }
    }
    Map<Integer, Budget> byBudget = new TreeMap<>();
    e2eRows.forEach(
        (pct, rows) -> {
          List<double[]> eng = engineRows.get(pct);
          if (eng == null) {
            return; // a budget without engine figures cannot be planned
          }
          byBudget.put(
              pct,
              new Budget(
                  median(rows, 0),
                  median(rows, 1),
                  median(rows, 2),
                  median(rows, 3),
                  median(eng, 0),
                  median(eng, 1),
                  median(eng, 2),
                  rows.size()));
        });
    if (byBudget.isEmpty()) {
      throw new IllegalArgumentException("no budget has both e2e and engine figures");
    }
    if (flopsFull.isEmpty()) {
      throw new IllegalArgumentException("no e2e run has chain.layer_flops_per_sample");
    }
    return new BenchFigures(
        List.copyOf(e2eNames),
        List.copyOf(engineNames),
        byBudget,
        median(flopsFull.stream().map(v -> new double[] {v}).toList(), 0),
        loads);
  }

  /**
   * The figures at {@code pct}: a measured row, or linear interpolation between the two measured
   * budgets around it (flagged by {@link #measured(int)}).
   */
  public Budget at(int pct) {
    Budget exact = byBudget.get(pct);
    if (exact != null) {
      return exact;
    }
    Map.Entry<Integer, Budget> lo = ((TreeMap<Integer, Budget>) byBudget).floorEntry(pct);
    Map.Entry<Integer, Budget> hi = ((TreeMap<Integer, Budget>) byBudget).ceilingEntry(pct);
    if (lo == null || hi == null) {
      throw new IllegalArgumentException(
          "budget " + pct + "% is outside the measured budgets " + byBudget.keySet());
    }
    double t = (pct - lo.getKey()) / (double) (hi.getKey() - lo.getKey());
    Budget a = lo.getValue();
    Budget b = hi.getValue();
    return new Budget(
        lerp(a.jvmCpuMs(), b.jvmCpuMs(), t),
        lerp(a.engineCpuMs(), b.engineCpuMs(), t),
        lerp(a.brokerCpuMs(), b.brokerCpuMs(), t),
        lerp(a.decodeMs(), b.decodeMs(), t),
        lerp(a.engineMsB1(), b.engineMsB1(), t),
        lerp(a.engineMsB16(), b.engineMsB16(), t),
        lerp(a.flopsRatio(), b.flopsRatio(), t),
        Math.min(a.e2eRuns(), b.e2eRuns()));
  }

  public boolean measured(int pct) {
    return byBudget.containsKey(pct);
  }

  /** The 1-minute load average of a {@code /proc/loadavg} line. */
  private static String load1(JsonNode loadavg) {
    String text = loadavg.asText("?").trim();
    return text.isEmpty() ? "?" : text.split("\\s+")[0];
  }

  private static double lerp(double a, double b, double t) {
    return a + (b - a) * t;
  }

  private static double required(JsonNode row, String field) {
    JsonNode v = row.get(field);
    if (v == null || !v.isNumber()) {
      throw new IllegalArgumentException("bench row lacks number '" + field + "': " + row);
    }
    return v.asDouble();
  }

  static double median(List<double[]> rows, int column) {
    double[] v = rows.stream().mapToDouble(r -> r[column]).sorted().toArray();
    int n = v.length;
    return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
  }

  private static List<Path> list(Path dir, Pattern name) {
    try (Stream<Path> files = Files.list(dir)) {
      return files
          .filter(f -> name.matcher(f.getFileName().toString()).matches())
          .sorted()
          .toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static List<JsonNode> read(List<Path> files) {
    List<JsonNode> out = new ArrayList<>();
    for (Path f : files) {
      try {
        out.add(JSON.readTree(f.toFile()));
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read " + f, e);
      }
    }
    return out;
  }

  private static List<String> names(List<Path> files) {
    return files.stream().map(f -> f.getFileName().toString()).toList();
  }

  @Override
  public String toString() {
    return "BenchFigures" + Arrays.asList(e2eFiles, engineFiles, byBudget.keySet());
  }
}
