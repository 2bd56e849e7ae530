package io.qoiflow.schemas;

import io.qoiflow.records.BudgetDecision;
import io.qoiflow.records.DeadLetter;
import io.qoiflow.records.FusionResult;
import io.qoiflow.records.ObjectState;
import io.qoiflow.records.QaAnswer;
import io.qoiflow.records.QaQuestion;
import io.qoiflow.records.SensorFrame;
import io.qoiflow.records.Telemetry;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import org.apache.avro.specific.SpecificRecord;

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

  /** The record type each standard topic's values carry (Avro single-object encoding). */
  public static Optional<Class<? extends SpecificRecord>> recordClass(String topic) {
    if (SensorContract.frameTopics().contains(topic)) {
      return Optional.of(SensorFrame.class);
    }
    Class<? extends SpecificRecord> recordClass =
        switch (topic) {
          case TELEMETRY -> Telemetry.class;
          case BUDGET -> BudgetDecision.class;
          case QA_QUESTIONS -> QaQuestion.class;
          case RESULTS_FUSION -> FusionResult.class;
          case RESULTS_QA -> QaAnswer.class;
          case DEADLETTER -> DeadLetter.class;
          case SIM_TRUTH -> ObjectState.class;
          default -> null;
        };
    return Optional.ofNullable(recordClass);
  }

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
