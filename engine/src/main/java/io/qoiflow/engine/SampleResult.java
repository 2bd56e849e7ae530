package io.qoiflow.engine;

import java.util.List;

/**
 * What the engine produced for one sample.
 *
 * @param xCm estimated position x, cm
 * @param yCm estimated position y, cm
 * @param covariance 2×2 position covariance, cm², row-major [xx, xy, yx, yy]
 * @param classIndex index of the most probable class (lowest index on ties)
 * @param classProbabilities probability per class, in the manifest's class order
 * @param present per modality (manifest order), whether its frame was there
 * @param layers per modality, the backbone layers that ran, ascending
 * @param qoi per modality, the controller's QoI estimate; NaN for policies without a controller
 * @param flops FLOPs spent on this sample: controller, embeds of present modalities, the layers
 *     that ran, fusion (per-sample figures from the manifest)
 * @param budgetLayers the cap L this sample ran under
 * @param budgetFraction the budget fraction it was given
 * @param policy the policy that chose the layers
 * @param latency the sample's share of each stage
 */
public record SampleResult(
    double xCm,
    double yCm,
    double[] covariance,
    int classIndex,
    float[] classProbabilities,
    boolean[] present,
    int[][] layers,
    float[] qoi,
    long flops,
    int budgetLayers,
    double budgetFraction,
    Policy policy,
    StageLatency latency) {

  /** Total layers that ran. */
  public int layerCount() {
    int n = 0;
    for (int[] l : layers) {
      n += l.length;
    }
    return n;
  }

  /** Layers that ran for modality {@code m} (manifest order). */
  public int layerCount(int m) {
    return layers[m].length;
  }

  /** Convenience for callers that want lists. */
  public List<Integer> layerList(int m) {
    return java.util.Arrays.stream(layers[m]).boxed().toList();
  }
}
