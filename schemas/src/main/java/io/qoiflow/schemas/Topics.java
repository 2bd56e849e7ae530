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

/**
 * The topic names of QoIFlow and their default partition counts, and the one place that maps a
 * standard name to a deployment's: every name may carry a prefix ({@code --topic-prefix plant-a.}
 * gives {@code plant-a.results.fusion}), the same for the job and every CLI command.
 */
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

  // Kafka's legal topic characters; a prefix of them keeps every prefixed name legal.
  private static final java.util.regex.Pattern PREFIX =
      java.util.regex.Pattern.compile("[A-Za-z0-9._-]{0,200}");

  /**
   * The name of standard topic {@code topic} under {@code prefix} ("" or null: the standard name).
   *
   * @throws IllegalArgumentException for a prefix with characters Kafka does not allow in names
   */
  public static String prefixed(String prefix, String topic) {
    return checkedPrefix(prefix) + topic;
  }

  /**
   * The standard name of {@code name} under {@code prefix}; a name without it is returned as is.
   */
  public static String standard(String prefix, String name) {
    String p = checkedPrefix(prefix);
    return !p.isEmpty() && name.startsWith(p) ? name.substring(p.length()) : name;
  }

  private static String checkedPrefix(String prefix) {
    if (prefix == null) {
      return "";
    }
    if (!PREFIX.matcher(prefix).matches()) {
      throw new IllegalArgumentException(
          "topic prefix '" + prefix + "' has characters Kafka does not allow: use [A-Za-z0-9._-]");
    }
    return prefix;
  }

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

  /** {@link #all(int)} with every name under {@code prefix}. */
  public static Map<String, Integer> all(String prefix, int partitions) {
    Map<String, Integer> topics = new LinkedHashMap<>();
    all(partitions).forEach((t, p) -> topics.put(prefixed(prefix, t), p));
    return topics;
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
