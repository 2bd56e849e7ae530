package io.qoiflow.engine;

import java.util.ArrayList;
import java.util.List;

/**
 * Layer selection rules of docs/MODEL_FORMAT.md, identical to the Python inference code. Layer sets
 * are boolean masks over the global layer index {@code modality * Lm + layer}.
 */
public final class LayerSelector {
  private LayerSelector() {}

  /**
   * Controller selection: layer 0 of every present modality, then the highest logits among the
   * other layers of present modalities (ties to the lower global index) until {@code budget} layers
   * are chosen or no candidate is left. Missing modalities get no layer.
   *
   * @throws IllegalArgumentException if the budget is below the number of present modalities
   */
  public static boolean[] select(float[] logits, boolean[] present, int budget, int layersPerMod) {
    int m = present.length;
    if (logits.length != m * layersPerMod) {
      throw new IllegalArgumentException(
          "expected " + m * layersPerMod + " layer logits, got " + logits.length);
    }
    boolean[] chosen = new boolean[m * layersPerMod];
    int count = forceFirst(present, budget, layersPerMod, chosen);
    int remaining = budget - count;
    if (remaining <= 0) {
      return chosen;
    }
    // Candidates: the other layers of present modalities, best logit first, then lower index.
    int[] cand = new int[m * layersPerMod];
    int nc = 0;
    for (int mod = 0; mod < m; mod++) {
      if (present[mod]) {
        for (int l = 1; l < layersPerMod; l++) {
          cand[nc++] = mod * layersPerMod + l;
        }
      }
    }
    // Partial selection sort: `remaining` is small (≤ total layers), so O(n·k) is fine and
    // avoids boxing.
    for (int k = 0; k < Math.min(remaining, nc); k++) {
      int best = k;
      for (int j = k + 1; j < nc; j++) {
        if (better(logits, cand[j], cand[best])) {
          best = j;
        }
      }
      int t = cand[k];
      cand[k] = cand[best];
      cand[best] = t;
      chosen[cand[k]] = true;
    }
    return chosen;
  }

  private static boolean better(float[] logits, int a, int b) {
    float la = Float.isNaN(logits[a]) ? Float.NEGATIVE_INFINITY : logits[a];
    float lb = Float.isNaN(logits[b]) ? Float.NEGATIVE_INFINITY : logits[b];
    return la > lb || (la == lb && a < b);
  }

  private static int forceFirst(boolean[] present, int budget, int layersPerMod, boolean[] out) {
    int count = 0;
    for (int mod = 0; mod < present.length; mod++) {
      if (present[mod]) {
        out[mod * layersPerMod] = true;
        count++;
      }
    }
    if (count > budget) {
      throw new IllegalArgumentException(
          "budget of " + budget + " layers is below the " + count + " present modalities");
    }
    return count;
  }

  /**
   * The naive baseline: {@code k_m = L // P} layers per present modality (the first {@code L % P}
   * present modalities in modality order get one more, capped at Lm), evenly spread: layers {@code
   * round(j·(Lm−1)/(k_m−1))}, Python's round-half-even.
   */
  public static boolean[] naive(boolean[] present, int budget, int layersPerMod) {
    int m = present.length;
    boolean[] chosen = new boolean[m * layersPerMod];
    int p = 0;
    for (boolean b : present) {
      p += b ? 1 : 0;
    }
    if (p == 0) {
      return chosen;
    }
    if (budget < p) {
      throw new IllegalArgumentException(
          "budget of " + budget + " layers is below the " + p + " present modalities");
    }
    int base = budget / p;
    int extra = budget % p;
    int rank = 0;
    for (int mod = 0; mod < m; mod++) {
      if (!present[mod]) {
        continue;
      }
      int k = Math.min(layersPerMod, base + (rank < extra ? 1 : 0));
      rank++;
      spread(chosen, mod, k, layersPerMod);
    }
    return chosen;
  }

  /** {@code k} layers of modality {@code mod}, evenly spread: {@code round(j·(Lm−1)/(k−1))}. */
  private static void spread(boolean[] chosen, int mod, int k, int layersPerMod) {
    if (k == 1) {
      chosen[mod * layersPerMod] = true;
      return;
    }
    for (int j = 0; j < k; j++) {
      int layer = (int) Math.floor((double) (j * (layersPerMod - 1)) / (k - 1) + 0.5);
      chosen[mod * layersPerMod + layer] = true;
    }
  }

  /**
   * A static allocation: {@code counts[m]} layers of each present modality (at least 1), evenly
   * spread as in {@link #naive}. The layers of missing modalities are re-spread over the present
   * ones as naive spreads a budget: one more each in modality order, round after round, capped at
   * Lm. Never more than {@code budget} layers: counts summing above it are cut from the last
   * present modality backwards (never below 1).
   *
   * @throws IllegalArgumentException if the budget is below the number of present modalities
   */
  public static boolean[] allocation(
      int[] counts, boolean[] present, int budget, int layersPerMod) {
    int m = present.length;
    if (counts.length != m) {
      throw new IllegalArgumentException("expected " + m + " layer counts, got " + counts.length);
    }
    boolean[] chosen = new boolean[m * layersPerMod];
    int p = 0;
    for (boolean b : present) {
      p += b ? 1 : 0;
    }
    if (p == 0) {
      return chosen;
    }
    if (budget < p) {
      throw new IllegalArgumentException(
          "budget of " + budget + " layers is below the " + p + " present modalities");
    }
    int[] k = new int[m];
    int freed = 0;
    int total = 0;
    for (int mod = 0; mod < m; mod++) {
      int c = Math.max(1, Math.min(layersPerMod, counts[mod]));
      if (present[mod]) {
        k[mod] = c;
        total += c;
      } else {
        freed += c;
      }
    }
    boolean grew = true;
    while (freed > 0 && grew) {
      grew = false;
      for (int mod = 0; mod < m && freed > 0; mod++) {
        if (present[mod] && k[mod] < layersPerMod) {
          k[mod]++;
          total++;
          freed--;
          grew = true;
        }
      }
    }
    for (int mod = m - 1; mod >= 0 && total > budget; mod--) {
      while (present[mod] && k[mod] > 1 && total > budget) {
        k[mod]--;
        total--;
      }
    }
    for (int mod = 0; mod < m; mod++) {
      if (present[mod]) {
        spread(chosen, mod, k[mod], layersPerMod);
      }
    }
    return chosen;
  }

  /** Every layer of every present modality. */
  public static boolean[] full(boolean[] present, int layersPerMod) {
    boolean[] chosen = new boolean[present.length * layersPerMod];
    for (int mod = 0; mod < present.length; mod++) {
      if (present[mod]) {
        for (int l = 0; l < layersPerMod; l++) {
          chosen[mod * layersPerMod + l] = true;
        }
      }
    }
    return chosen;
  }

  public static int count(boolean[] chosen) {
    int n = 0;
    for (boolean b : chosen) {
      n += b ? 1 : 0;
    }
    return n;
  }

  /** The chosen layers of one modality, ascending. */
  public static int[] layersOf(boolean[] chosen, int modality, int layersPerMod) {
    List<Integer> out = new ArrayList<>();
    for (int l = 0; l < layersPerMod; l++) {
      if (chosen[modality * layersPerMod + l]) {
        out.add(l);
      }
    }
    return out.stream().mapToInt(Integer::intValue).toArray();
  }
}
