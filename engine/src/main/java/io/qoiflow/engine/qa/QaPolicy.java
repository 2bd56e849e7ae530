package io.qoiflow.engine.qa;

import io.qoiflow.records.Modality;

/**
 * Run-time choice of the QA prefix: the camera while the ADMN controller's camera QoI is at least
 * the threshold (and a camera frame is there), LiDAR otherwise; N from the budget fraction.
 *
 * @param cameraQoiThreshold camera QoI below which LiDAR is used
 * @param layers the LM's blocks L
 * @param defaultBudgetFraction budget used when a FrameSet carries none
 */
public record QaPolicy(double cameraQoiThreshold, int layers, double defaultBudgetFraction) {

  /** Fixed-modality and switching policies, as {@code eval-qa} names them. */
  public enum Kind {
    CAMERA,
    LIDAR,
    QOI
  }

  /**
   * The modality for a sample: {@code kind} fixed, or by the camera's QoI (NaN = unknown counts as
   * usable). A missing frame of the chosen modality falls back to the other one.
   */
  public Modality modality(Kind kind, float cameraQoi, boolean hasCamera, boolean hasLidar) {
    Modality m =
        switch (kind) {
          case CAMERA -> Modality.CAMERA;
          case LIDAR -> Modality.LIDAR;
          case QOI ->
              Float.isNaN(cameraQoi) || cameraQoi >= cameraQoiThreshold
                  ? Modality.CAMERA
                  : Modality.LIDAR;
        };
    if (m == Modality.CAMERA && !hasCamera && hasLidar) {
      return Modality.LIDAR;
    }
    if (m == Modality.LIDAR && !hasLidar && hasCamera) {
      return Modality.CAMERA;
    }
    return m;
  }

  /** N = max(1, ceil(fraction × L)), capped at L. */
  public int connectedBlocks(Double budgetFraction) {
    double f = budgetFraction == null ? defaultBudgetFraction : budgetFraction;
    int n = (int) Math.ceil(f * layers - 1e-9);
    return Math.max(1, Math.min(layers, n));
  }
}
