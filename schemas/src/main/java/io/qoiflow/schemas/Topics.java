package io.qoiflow.schemas;

import java.util.LinkedHashMap;
import java.util.Map;

/** The topic names of QoIFlow and their default partition counts. */
public final class Topics {
  public static final String FRAMES_CAMERA = "frames.camera";
  public static final String FRAMES_DEPTH = "frames.depth";
  public static final String FRAMES_MMWAVE = "frames.mmwave";
  public static final String FRAMES_LIDAR = "frames.lidar";
  public static final String FRAMES_AUDIO = "frames.audio";
  public static final String TELEMETRY = "telemetry";
  public static final String BUDGET = "budget";
  public static final String QA_QUESTIONS = "qa.questions";
  public static final String RESULTS_FUSION = "results.fusion";
  public static final String RESULTS_QA = "results.qa";
  public static final String DEADLETTER = "deadletter";

  /**
   * The simulator's ground truth of each rig's target ({@code ObjectState}, keyed by rig id, record
   * timestamp = capture time), published by {@code qoiflow replay --truth}; the job does not read
   * it, the dashboard draws it.
   */
  public static final String SIM_TRUTH = "sim.truth";

  private Topics() {}

  /** Every standard topic with {@code partitions} partitions (control topics get one). */
  public static Map<String, Integer> all(int partitions) {
    Map<String, Integer> topics = new LinkedHashMap<>();
    for (String t : SensorContract.frameTopics()) {
      topics.put(t, partitions);
    }
    topics.put(TELEMETRY, 1);
    topics.put(BUDGET, 1);
    topics.put(QA_QUESTIONS, partitions);
    topics.put(RESULTS_FUSION, partitions);
    topics.put(RESULTS_QA, partitions);
    topics.put(DEADLETTER, 1);
    topics.put(SIM_TRUTH, partitions);
    return topics;
  }
}
