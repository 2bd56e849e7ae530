package io.qoiflow.engine;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.qoiflow.records.Modality;
import io.qoiflow.schemas.FrameSpec;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The parsed {@code manifest.json} of an exported model directory (docs/MODEL_FORMAT.md): the
 * single source of truth for shapes, layer counts, budgets, graph files and FLOPs.
 *
 * <p>{@link #load(Path)} verifies the sha256 of every file the manifest lists before anything is
 * returned; a mismatch or a missing file throws {@link ModelIntegrityException} naming the file.
 */
public final class ModelManifest {

  /** One ONNX graph of the model. */
  public record Graph(String key, String file, String sha256, long flops) {}

  /**
   * A policy of the manifest: a controller (one graph, or one graph per budget percentage), or a
   * static allocation (per budget percentage, layers per modality name).
   */
  public record PolicySpec(
      String name,
      String graph,
      Map<Integer, String> graphsByBudget,
      boolean budgetInput,
      Map<Integer, Map<String, Integer>> allocationsByBudget) {}

  private final Path dir;
  private final JsonNode root;
  private final String name;
  private final List<String> modalities;
  private final List<String> classes;
  private final Map<String, FrameSpec> inputs;
  private final int layersPerModality;
  private final int totalLayers;
  private final int dim;
  private final Map<String, Integer> tokens;
  private final TreeMap<Integer, Integer> budgets;
  private final Map<String, Graph> graphs;
  private final Map<String, PolicySpec> policies;
  private final long fullModelFlops;
  private final String manifestSha256;

  private ModelManifest(Path dir, JsonNode root, String manifestSha256) {
    this.dir = dir;
    this.root = root;
    this.manifestSha256 = manifestSha256;
    this.name = text(root, "name");
    this.modalities = strings(required(root, "modalities"));
    this.classes = strings(required(root, "classes"));
    this.layersPerModality = required(root, "layers_per_modality").asInt();
    this.totalLayers = required(root, "total_layers").asInt();
    this.dim = root.path("dim").asInt(0);
    if (totalLayers != layersPerModality * modalities.size()) {
      throw new IllegalArgumentException(
          "manifest: total_layers "
              + totalLayers
              + " != layers_per_modality × modalities "
              + layersPerModality * modalities.size());
    }
    Map<Modality, FrameSpec> specs = FrameSpec.readInputs(required(root, "inputs"));
    Map<String, FrameSpec> in = new LinkedHashMap<>();
    for (String m : modalities) {
      FrameSpec spec = specs.get(Modality.valueOf(m.toUpperCase(Locale.ROOT)));
      if (spec == null) {
        throw new IllegalArgumentException("manifest: no `inputs." + m + "`");
      }
      in.put(m, spec);
    }
    this.inputs = Collections.unmodifiableMap(in);
    Map<String, Integer> tok = new LinkedHashMap<>();
    root.path("tokens").fields().forEachRemaining(e -> tok.put(e.getKey(), e.getValue().asInt()));
    this.tokens = Collections.unmodifiableMap(tok);
    TreeMap<Integer, Integer> b = new TreeMap<>();
    required(root, "budgets")
        .fields()
        .forEachRemaining(e -> b.put(Integer.parseInt(e.getKey()), e.getValue().asInt()));
    this.budgets = b;
    Map<String, Graph> g = new LinkedHashMap<>();
    required(root, "graphs")
        .fields()
        .forEachRemaining(
            e ->
                g.put(
                    e.getKey(),
                    new Graph(
                        e.getKey(),
                        text(e.getValue(), "file"),
                        text(e.getValue(), "sha256"),
                        e.getValue().path("flops").asLong(0))));
    this.graphs = Collections.unmodifiableMap(g);
    Map<String, PolicySpec> p = new LinkedHashMap<>();
    root.path("policies")
        .fields()
        .forEachRemaining(
            e -> {
              JsonNode v = e.getValue();
              Map<Integer, String> byBudget = new TreeMap<>();
              v.path("graphs_by_budget")
                  .fields()
                  .forEachRemaining(
                      x -> byBudget.put(Integer.parseInt(x.getKey()), x.getValue().asText()));
              Map<Integer, Map<String, Integer>> allocations = new TreeMap<>();
              v.path("allocations_by_budget")
                  .fields()
                  .forEachRemaining(
                      x ->
                          allocations.put(Integer.parseInt(x.getKey()), allocation(e.getKey(), x)));
              p.put(
                  e.getKey(),
                  new PolicySpec(
                      e.getKey(),
                      v.hasNonNull("graph") ? v.get("graph").asText() : null,
                      Collections.unmodifiableMap(byBudget),
                      v.path("budget_input").asBoolean(false),
                      Collections.unmodifiableMap(allocations)));
            });
    this.policies = Collections.unmodifiableMap(p);
    this.fullModelFlops = root.path("flops").path("full_model").asLong(0);
  }

  /** One budget's layers per modality of a static policy, checked against the model's shape. */
  private Map<String, Integer> allocation(String policy, Map.Entry<String, JsonNode> budget) {
    Map<String, Integer> counts = new LinkedHashMap<>();
    budget
        .getValue()
        .fields()
        .forEachRemaining(
            c -> {
              int k = c.getValue().asInt(-1);
              if (!modalities.contains(c.getKey()) || k < 1 || k > layersPerModality) {
                throw new IllegalArgumentException(
                    "manifest: policies."
                        + policy
                        + ".allocations_by_budget."
                        + budget.getKey()
                        + ": '"
                        + c.getKey()
                        + "': "
                        + c.getValue()
                        + " is not 1.."
                        + layersPerModality
                        + " layers of a modality of "
                        + modalities);
              }
              counts.put(c.getKey(), k);
            });
    return Collections.unmodifiableMap(counts);
  }

  /** Reads {@code dir/manifest.json} and verifies the sha256 of every file it lists. */
  public static ModelManifest load(Path dir) {
    Path manifestFile = dir.resolve("manifest.json");
    if (!Files.isRegularFile(manifestFile)) {
      throw new ModelIntegrityException("manifest.json", "no manifest.json in " + dir);
    }
    JsonNode root;
    String manifestSha;
    try {
      byte[] bytes = Files.readAllBytes(manifestFile);
      manifestSha = HexFormat.of().formatHex(sha256().digest(bytes));
      root = new ObjectMapper().readTree(bytes);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + manifestFile, e);
    }
    ModelManifest m = new ModelManifest(dir, root, manifestSha);
    m.verifyFiles();
    return m;
  }

  /** Every {"file", "sha256"} pair anywhere in the manifest, in document order. */
  static List<Map.Entry<String, String>> listedFiles(JsonNode node) {
    List<Map.Entry<String, String>> out = new ArrayList<>();
    collect(node, out);
    return out;
  }

  private static void collect(JsonNode node, List<Map.Entry<String, String>> out) {
    if (node.isObject()) {
      if (node.hasNonNull("file") && node.hasNonNull("sha256")) {
        out.add(Map.entry(node.get("file").asText(), node.get("sha256").asText()));
      }
      for (Iterator<JsonNode> it = node.elements(); it.hasNext(); ) {
        collect(it.next(), out);
      }
    } else if (node.isArray()) {
      node.forEach(n -> collect(n, out));
    }
  }

  private void verifyFiles() {
    for (Graph g : graphs.values()) {
      if (g.file() == null || g.sha256() == null) {
        throw new ModelIntegrityException(
            String.valueOf(g.file()), "graph " + g.key() + " has no file or sha256 in manifest");
      }
    }
    verifyListedFiles(dir, root);
  }

  /**
   * Verifies every {"file", "sha256"} pair anywhere in {@code root}: each file inside {@code dir},
   * present, and with that sha256. Shared by every model kind (ADMN, mPnP QA).
   */
  public static void verifyListedFiles(Path dir, JsonNode root) {
    Path base = dir.toAbsolutePath().normalize();
    for (Map.Entry<String, String> f : listedFiles(root)) {
      Path p = base.resolve(f.getKey()).normalize();
      if (!p.startsWith(base)) {
        throw new ModelIntegrityException(f.getKey(), "file outside the model directory");
      }
      if (!Files.isRegularFile(p)) {
        throw new ModelIntegrityException(f.getKey(), "missing model file " + f.getKey());
      }
      String actual = sha256Hex(p);
      if (!actual.equalsIgnoreCase(f.getValue())) {
        throw new ModelIntegrityException(
            f.getKey(),
            "sha256 mismatch for "
                + f.getKey()
                + ": manifest says "
                + f.getValue()
                + ", file has "
                + actual
                + "; refusing to load "
                + dir);
      }
    }
  }

  public static String sha256Hex(Path p) {
    MessageDigest md = sha256();
    byte[] buf = new byte[1 << 16];
    try (InputStream in = Files.newInputStream(p)) {
      int n;
      while ((n = in.read(buf)) > 0) {
        md.update(buf, 0, n);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + p, e);
    }
    return HexFormat.of().formatHex(md.digest());
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static JsonNode required(JsonNode node, String key) {
    JsonNode v = node.get(key);
    if (v == null || v.isNull()) {
      throw new IllegalArgumentException("manifest: missing key '" + key + "'");
    }
    return v;
  }

  private static String text(JsonNode node, String key) {
    JsonNode v = node.get(key);
    return v == null || v.isNull() ? null : v.asText();
  }

  private static List<String> strings(JsonNode array) {
    List<String> out = new ArrayList<>();
    array.forEach(n -> out.add(n.asText()));
    return Collections.unmodifiableList(out);
  }

  public Path dir() {
    return dir;
  }

  public JsonNode json() {
    return root;
  }

  public String name() {
    return name;
  }

  /** Model name and the first 12 hex digits of the manifest's sha256. */
  public String version() {
    return name + "@" + manifestSha256.substring(0, 12);
  }

  public List<String> modalities() {
    return modalities;
  }

  public int modalityCount() {
    return modalities.size();
  }

  public List<String> classes() {
    return classes;
  }

  public FrameSpec input(String modality) {
    return inputs.get(modality);
  }

  public int layersPerModality() {
    return layersPerModality;
  }

  public int totalLayers() {
    return totalLayers;
  }

  public int dim() {
    return dim;
  }

  public Map<String, Integer> tokens() {
    return tokens;
  }

  /** Budget percentage → layer count, as the manifest states it. */
  public Map<Integer, Integer> budgets() {
    return Collections.unmodifiableMap(budgets);
  }

  /** Layers for a budget percentage listed in the manifest, else {@code round(pct/100·total)}. */
  public int layersForPct(int pct) {
    Integer l = budgets.get(pct);
    return l != null ? l : layersForFraction(pct / 100.0);
  }

  /**
   * {@code floor(f · total_layers + 0.5)}, never below the number of modalities nor above the
   * total.
   */
  public int layersForFraction(double fraction) {
    if (!(fraction > 0) || fraction > 1.0 + 1e-9) {
      throw new IllegalArgumentException("budget fraction must be in (0, 1]: " + fraction);
    }
    for (Map.Entry<Integer, Integer> e : budgets.entrySet()) {
      if (Math.abs(e.getKey() / 100.0 - fraction) < 1e-9) {
        return e.getValue();
      }
    }
    // floor(f·total + 0.5), as the Python reference rounds.
    int l = (int) Math.floor(fraction * totalLayers + 0.5);
    return Math.max(modalities.size(), Math.min(totalLayers, l));
  }

  public Map<String, Graph> graphs() {
    return graphs;
  }

  public Graph graph(String key) {
    Graph g = graphs.get(key);
    if (g == null) {
      throw new IllegalArgumentException("manifest has no graph '" + key + "'");
    }
    return g;
  }

  public Optional<PolicySpec> policy(String name) {
    return Optional.ofNullable(policies.get(name));
  }

  public Map<String, PolicySpec> policies() {
    return policies;
  }

  public String embedKey(int modality) {
    return "embed." + modalities.get(modality);
  }

  public String layerKey(int modality, int layer) {
    return "layer." + modalities.get(modality) + "." + layer;
  }

  /** FLOPs of the full model as the manifest states it (0 if absent). */
  public long fullModelFlops() {
    return fullModelFlops;
  }

  /** Per-sample FLOPs of a graph, 0 if the graph is not listed. */
  public long flops(String key) {
    Graph g = graphs.get(key);
    return g == null ? 0 : g.flops();
  }
}
