package io.qoiflow.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class LayerSelectorTest {
  private static final int M = 5;

  @Test
  void controllerSelectionRespectsBudgetForcedFirstAndMissing() {
    Random rnd = new Random(7);
    for (int trial = 0; trial < 5000; trial++) {
      int lm = 2 + rnd.nextInt(11);
      boolean[] present = new boolean[M];
      int p = 0;
      for (int i = 0; i < M; i++) {
        present[i] = rnd.nextDouble() < 0.8;
        p += present[i] ? 1 : 0;
      }
      int budget = M + rnd.nextInt(M * lm - M + 1);
      float[] logits = new float[M * lm];
      for (int i = 0; i < logits.length; i++) {
        // Coarse values so that ties happen.
        logits[i] = rnd.nextInt(5) - 2;
      }
      boolean[] chosen = LayerSelector.select(logits, present, budget, lm);

      int expected = Math.min(budget, p * lm);
      assertThat(LayerSelector.count(chosen)).isEqualTo(expected).isLessThanOrEqualTo(budget);
      for (int i = 0; i < M; i++) {
        for (int l = 0; l < lm; l++) {
          if (!present[i]) {
            assertThat(chosen[i * lm + l]).isFalse();
          } else if (l == 0) {
            assertThat(chosen[i * lm]).isTrue();
          }
        }
      }
      // The optional choices are exactly the first ones by (logit desc, index asc).
      List<Integer> cand = new ArrayList<>();
      for (int i = 0; i < M; i++) {
        for (int l = 1; l < lm && present[i]; l++) {
          cand.add(i * lm + l);
        }
      }
      cand.sort(
          Comparator.<Integer>comparingDouble(g -> -logits[g])
              .thenComparing(Comparator.naturalOrder()));
      int k = Math.max(0, Math.min(budget - p, cand.size()));
      for (int j = 0; j < cand.size(); j++) {
        assertThat(chosen[cand.get(j)]).as("trial %d candidate %d", trial, j).isEqualTo(j < k);
      }
    }
  }

  @Test
  void tiesGoToTheLowerGlobalIndex() {
    int lm = 4;
    boolean[] present = {true, true, true, true, true};
    float[] logits = new float[M * lm]; // all equal
    boolean[] chosen = LayerSelector.select(logits, present, 7, lm);
    // forced 0,4,8,12,16; two more: lowest candidates 1 and 2
    assertThat(LayerSelector.layersOf(chosen, 0, lm)).containsExactly(0, 1, 2);
    for (int i = 1; i < M; i++) {
      assertThat(LayerSelector.layersOf(chosen, i, lm)).containsExactly(0);
    }
  }

  @Test
  void budgetBelowPresentModalitiesIsRejected() {
    boolean[] present = {true, true, true, true, true};
    assertThatThrownBy(() -> LayerSelector.select(new float[10], present, 4, 2))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void naiveSpreadsEvenlyWithRoundHalfUp() {
    int lm = 8;
    boolean[] all = {true, true, true, true, true};
    // L = 10: two layers each -> {0, 7}
    boolean[] c = LayerSelector.naive(all, 10, lm);
    for (int i = 0; i < M; i++) {
      assertThat(LayerSelector.layersOf(c, i, lm)).containsExactly(0, 7);
    }
    // L = 13: first three get 3 layers -> round(j*7/2) = 0, 4 (3.5 up), 7
    c = LayerSelector.naive(all, 13, lm);
    assertThat(LayerSelector.layersOf(c, 0, lm)).containsExactly(0, 4, 7);
    assertThat(LayerSelector.layersOf(c, 2, lm)).containsExactly(0, 4, 7);
    assertThat(LayerSelector.layersOf(c, 3, lm)).containsExactly(0, 7);
    assertThat(LayerSelector.count(c)).isEqualTo(13);
    // Missing camera and lidar: 3 present, L = 7 -> 3, 2, 2
    boolean[] some = {false, true, true, false, true};
    c = LayerSelector.naive(some, 7, lm);
    assertThat(LayerSelector.layersOf(c, 0, lm)).isEmpty();
    assertThat(LayerSelector.layersOf(c, 1, lm)).containsExactly(0, 4, 7);
    assertThat(LayerSelector.layersOf(c, 2, lm)).containsExactly(0, 7);
    assertThat(LayerSelector.layersOf(c, 3, lm)).isEmpty();
    assertThat(LayerSelector.layersOf(c, 4, lm)).containsExactly(0, 7);
    // Capped at Lm: 1 present, L = 40 -> all 8
    c = LayerSelector.naive(new boolean[] {false, false, true, false, false}, 40, lm);
    assertThat(LayerSelector.layersOf(c, 2, lm)).containsExactly(0, 1, 2, 3, 4, 5, 6, 7);
  }

  @Test
  void naiveNeverExceedsBudget() {
    Random rnd = new Random(3);
    for (int trial = 0; trial < 2000; trial++) {
      int lm = 1 + rnd.nextInt(12);
      boolean[] present = new boolean[M];
      int p = 0;
      for (int i = 0; i < M; i++) {
        present[i] = rnd.nextBoolean();
        p += present[i] ? 1 : 0;
      }
      int budget = Math.max(p, 1) + rnd.nextInt(M * lm);
      boolean[] c = LayerSelector.naive(present, budget, lm);
      assertThat(LayerSelector.count(c)).isEqualTo(Math.min(budget, p * lm));
      for (int i = 0; i < M; i++) {
        assertThat(c[i * lm]).isEqualTo(present[i]);
      }
    }
  }

  @Test
  void fullTakesEveryLayerOfPresentModalities() {
    boolean[] c = LayerSelector.full(new boolean[] {true, false, true, true, false}, 3);
    assertThat(LayerSelector.count(c)).isEqualTo(9);
    assertThat(LayerSelector.layersOf(c, 1, 3)).isEmpty();
  }

  private static int[] perModality(boolean[] chosen, int lm) {
    int[] k = new int[chosen.length / lm];
    for (int i = 0; i < chosen.length; i++) {
      k[i / lm] += chosen[i] ? 1 : 0;
    }
    return k;
  }

  @Test
  void staticAllocationSpreadsCountsAndRespreadsMissingModalities() {
    int lm = 8;
    boolean[] all = {true, true, true, true, true};
    boolean[] chosen = LayerSelector.allocation(new int[] {2, 2, 2, 3, 1}, all, 10, lm);
    assertThat(perModality(chosen, lm)).containsExactly(2, 2, 2, 3, 1);
    // Evenly spread as naive: 2 of 8 -> {0, 7}; 3 of 8 -> {0, 4, 7} (round half up of 3.5).
    assertThat(LayerSelector.layersOf(chosen, 0, lm)).containsExactly(0, 7);
    assertThat(LayerSelector.layersOf(chosen, 3, lm)).containsExactly(0, 4, 7);
    assertThat(LayerSelector.layersOf(chosen, 4, lm)).containsExactly(0);
    // LiDAR (3 layers) missing: one more each to camera, depth, mmwave.
    boolean[] noLidar = {true, true, true, false, true};
    assertThat(
            perModality(LayerSelector.allocation(new int[] {2, 2, 2, 3, 1}, noLidar, 10, lm), lm))
        .containsExactly(3, 3, 3, 0, 1);
    // Re-spreading stops at Lm per modality and when every present modality is full.
    boolean[] two = {true, false, false, false, true};
    assertThat(perModality(LayerSelector.allocation(new int[] {7, 8, 8, 8, 7}, two, 40, lm), lm))
        .containsExactly(8, 0, 0, 0, 8);
    // Counts above the budget are cut from the last present modality backwards, never below 1.
    assertThat(perModality(LayerSelector.allocation(new int[] {2, 2, 2, 3, 1}, all, 6, lm), lm))
        .containsExactly(2, 1, 1, 1, 1);
    assertThat(LayerSelector.allocation(new int[] {2, 2, 2, 3, 1}, new boolean[5], 10, lm))
        .containsOnly(false);
    assertThatThrownBy(() -> LayerSelector.allocation(new int[] {1, 1, 1, 1, 1}, all, 4, lm))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("below the 5 present modalities");
    assertThatThrownBy(() -> LayerSelector.allocation(new int[] {1, 1}, all, 10, lm))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
