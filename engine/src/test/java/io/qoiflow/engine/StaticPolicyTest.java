package io.qoiflow.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code static} policy (docs/MODEL_FORMAT.md): per-budget layer counts from the manifest,
 * evenly spread like naive, missing modalities' layers re-spread. Runs the real exported model with
 * a manifest fixture that adds a static policy (the shipped model may not have one yet).
 */
class StaticPolicyTest {
  @TempDir static Path dir;
  static InferenceEngine engine;
  static ModelManifest mf;

  /** Allocations of the fixture, per budget percentage, in modality order. */
  static final Map<Integer, int[]> ALLOC =
      Map.of(
          25, new int[] {2, 2, 2, 3, 1},
          33, new int[] {3, 2, 3, 4, 1},
          50, new int[] {4, 4, 4, 6, 2},
          67, new int[] {6, 5, 5, 8, 3});

  @BeforeAll
  static void open() throws IOException {
    Path src = ModelLocator.defaultModel();
    ObjectMapper json = new ObjectMapper();
    ObjectNode root = (ObjectNode) json.readTree(src.resolve("manifest.json").toFile());
    List<String> mods = new ArrayList<>();
    root.get("modalities").forEach(n -> mods.add(n.asText()));
    int lm = root.get("layers_per_modality").asInt();
    ObjectNode byBudget = json.createObjectNode();
    ALLOC.forEach(
        (pct, counts) -> {
          ObjectNode a = byBudget.putObject(Integer.toString(pct));
          for (int i = 0; i < mods.size(); i++) {
            a.put(mods.get(i), Math.min(lm, counts[i]));
          }
        });
    ObjectNode st = ((ObjectNode) root.get("policies")).putObject("static");
    st.set("allocations_by_budget", byBudget);
    st.put("budget_input", false);
    try (Stream<Path> files = Files.list(src)) {
      for (Path f : (Iterable<Path>) files::iterator) {
        if (!f.getFileName().toString().equals("manifest.json")) {
          Files.createSymbolicLink(dir.resolve(f.getFileName()), f.toAbsolutePath());
        }
      }
    }
    json.writeValue(dir.resolve("manifest.json").toFile(), root);
    engine = InferenceEngine.open(dir, ExecutionProvider.CPU);
    mf = engine.manifest();
  }

  @AfterAll
  static void close() {
    if (engine != null) {
      engine.close();
    }
  }

  private static int[] counts(SampleResult r) {
    int[] c = new int[mf.modalityCount()];
    for (int i = 0; i < c.length; i++) {
      c[i] = r.layerCount(i);
    }
    return c;
  }

  @Test
  void runsTheManifestAllocationOfEachBudgetEvenlySpread() {
    Random rnd = new Random(3);
    int lm = mf.layersPerModality();
    for (Map.Entry<Integer, int[]> e : ALLOC.entrySet()) {
      List<EngineSample> batch = new ArrayList<>();
      for (int s = 0; s < 4; s++) {
        batch.add(RandomFrames.sample(mf, rnd, 1.0, e.getKey() / 100.0));
      }
      for (SampleResult r : engine.infer(batch, Policy.STATIC)) {
        int[] want = e.getValue().clone();
        for (int i = 0; i < want.length; i++) {
          want[i] = Math.min(lm, want[i]);
          int k = want[i];
          int[] layers = r.layers()[i];
          assertThat(layers).hasSize(k);
          // Same spread rule as naive: round(j (Lm-1) / (k-1)).
          for (int j = 0; j < k; j++) {
            int expect = k == 1 ? 0 : (int) Math.floor(j * (lm - 1) / (double) (k - 1) + 0.5);
            assertThat(layers[j]).isEqualTo(expect);
          }
        }
        assertThat(counts(r)).as("budget %d%%", e.getKey()).containsExactly(want);
        assertThat(r.layerCount()).isLessThanOrEqualTo(r.budgetLayers());
      }
    }
  }

  @Test
  void aBudgetBetweenKeysUsesTheLargestKeyAtOrBelowIt() {
    int l33 = mf.layersForPct(33);
    int l50 = mf.layersForPct(50);
    assertThat(engine.staticAllocation(l50 - 1)).isEqualTo(engine.staticAllocation(l33));
    assertThat(engine.staticAllocation(l50)).isNotEqualTo(engine.staticAllocation(l33));
    // Below the smallest key: the smallest allocation, cut to the budget by the selector.
    int m = mf.modalityCount();
    boolean[] all = new boolean[m];
    java.util.Arrays.fill(all, true);
    boolean[] cut =
        LayerSelector.allocation(engine.staticAllocation(m), all, m, mf.layersPerModality());
    assertThat(LayerSelector.count(cut)).isEqualTo(m);
  }

  @Test
  void aMissingModalitysLayersAreRespreadOverThePresentOnes() {
    Random rnd = new Random(5);
    int lm = mf.layersPerModality();
    EngineSample s = RandomFrames.sample(mf, rnd, 1.0, 0.25);
    int lidar = mf.modalities().indexOf("lidar");
    List<io.qoiflow.records.SensorFrame> frames = new ArrayList<>();
    for (String name : mf.modalities()) {
      if (!name.equals("lidar")) {
        frames.add(s.frame(io.qoiflow.records.Modality.valueOf(name.toUpperCase())));
      }
    }
    SampleResult r = engine.infer(List.of(EngineSample.of(frames, 0.25)), Policy.STATIC).get(0);
    int[] want = ALLOC.get(25).clone();
    int freed = want[lidar];
    want[lidar] = 0;
    // One more per present modality in modality order, round after round, capped at Lm.
    for (int i = 0; freed > 0; i = (i + 1) % want.length) {
      if (i != lidar && want[i] < lm) {
        want[i]++;
        freed--;
      }
    }
    assertThat(counts(r)).containsExactly(want);
    assertThat(r.layerCount()).isEqualTo(mf.layersForPct(25));
  }

  @Test
  void malformedAllocationsAndMissingPolicyAreRejected() throws IOException {
    ObjectMapper json = new ObjectMapper();
    ObjectNode root = (ObjectNode) json.readTree(dir.resolve("manifest.json").toFile());
    ((ObjectNode) root.at("/policies/static/allocations_by_budget/25")).put("radar", 2);
    Path bad = dir.resolveSibling(dir.getFileName() + "-bad");
    Files.createDirectories(bad);
    try (Stream<Path> files = Files.list(dir)) {
      for (Path f : (Iterable<Path>) files::iterator) {
        if (!f.getFileName().toString().equals("manifest.json")) {
          Files.createSymbolicLink(bad.resolve(f.getFileName()), Files.readSymbolicLink(f));
        }
      }
    }
    json.writeValue(bad.resolve("manifest.json").toFile(), root);
    assertThatThrownBy(() -> ModelManifest.load(bad))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("policies.static.allocations_by_budget.25: 'radar'");
    try (InferenceEngine plain =
        InferenceEngine.open(ModelLocator.defaultModel(), ExecutionProvider.CPU)) {
      if (plain.manifest().policy("static").isEmpty()) {
        assertThatThrownBy(() -> plain.staticAllocation(10))
            .isInstanceOf(IllegalArgumentException.class)
            .hasMessageContaining("has no 'static' policy");
      }
    }
  }
}
