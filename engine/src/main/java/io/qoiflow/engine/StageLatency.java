package io.qoiflow.engine;

/**
 * Engine time of one sample, milliseconds: each stage's wall time for the whole batch divided by
 * the batch size (the sample's share), and the batch size it ran in.
 */
public record StageLatency(
    double decodeMs,
    double controllerMs,
    double embedMs,
    double layersMs,
    double fusionMs,
    int batchSize) {

  public double totalMs() {
    return decodeMs + controllerMs + embedMs + layersMs + fusionMs;
  }
}
