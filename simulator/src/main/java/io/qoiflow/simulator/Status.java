package io.qoiflow.simulator;

/** Motion status of an object, NuScenes-QA style. */
public enum Status {
  MOVING("moving"),
  STOPPED("stopped"),
  PARKED("parked");

  public final String label;

  Status(String label) {
    this.label = label;
  }
}
