package io.qoiflow.topology;

import io.qoiflow.operators.functions.BudgetLevels;
import io.qoiflow.operators.functions.JoinConfig;
import io.qoiflow.operators.inference.EngineService;
import io.qoiflow.operators.patterns.BudgetThresholds;
import io.qoiflow.records.Modality;
import io.qoiflow.schemas.KafkaClientProperties;
import io.qoiflow.schemas.Topics;
import java.io.Serializable;
import java.util.EnumSet;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.flink.util.ParameterTool;

/**
 * Everything the job can be told, from {@code --key value} arguments (see {@link #usage()}). The
 * defaults suit the embedded demo.
 */
/**
 * {@code checkpointIntervalMs} is null when {@code --checkpoint-interval-ms} was not given: the
 * cluster's interval applies then ({@link JobEnvironment#checkpointInterval}).
 */
public record JobConfig(
    String bootstrap,
    String groupId,
    String poolId,
    String modelDir,
    String provider,
    String policy,
    int maxBatch,
    long maxBatchDelayMs,
    int asyncCapacity,
    long asyncTimeoutMs,
    Long checkpointIntervalMs,
    String transactionalIdPrefix,
    long outOfOrdernessMs,
    long idlenessMs,
    long stalledIdlenessMs,
    long alignmentMaxDriftMs,
    String checkpointDir,
    JoinConfig join,
    BudgetLevels budgetLevels,
    BudgetThresholds thresholds,
    long telemetryIntervalMs,
    int maxPayloadBytes,
    long maxFutureSkewMs,
    boolean bounded,
    String qaModelDir,
    KafkaClientProperties kafka,
    String topicPrefix)
    implements Serializable {

  public static JobConfig fromArgs(String[] args) {
    return fromParameters(ParameterTool.fromArgs(args));
  }

  /**
   * Reads every key the job knows from {@code p} and fails with {@link IllegalArgumentException},
   * naming the unknown keys and listing the valid ones, when {@code p} holds any other key: a
   * misspelled argument ({@code --checkpoint-intervall-ms}) must not silently leave a default in
   * place.
   */
  public static JobConfig fromParameters(ParameterTool p) {
    JobConfig config = read(p);
    Set<String> unknown = new TreeSet<>(p.getUnrequestedParameters());
    if (!unknown.isEmpty()) {
      throw new IllegalArgumentException(
          "unknown job argument"
              + (unknown.size() > 1 ? "s " : " ")
              + String.join(", ", unknown.stream().map(k -> "--" + k).toList())
              + "; valid: "
              + String.join(" ", validKeys().stream().map(k -> "--" + k).toList()));
    }
    return config;
  }

  // A key, not the "--kafka." prefix of client properties.
  private static final Pattern USAGE_KEY = Pattern.compile("--([a-z][a-z0-9-]*+)(?!\\.)");

  /** The keys {@link #usage()} documents: one list for the help text and the error message. */
  public static Set<String> validKeys() {
    Set<String> keys = new TreeSet<>();
    Matcher m = USAGE_KEY.matcher(usage());
    while (m.find()) {
      keys.add(m.group(1));
    }
    return keys;
  }

  private static JobConfig read(ParameterTool p) {
    BudgetLevels defaults = BudgetLevels.defaults();
    JoinConfig join = JoinConfig.defaults();
    KafkaClientProperties kafka = KafkaClientProperties.fromArguments(p.toMap());
    // Mark the Kafka keys as read: they are known, whatever the property.
    p.get("bootstrap");
    p.get(KafkaClientProperties.FILE);
    p.toMap().keySet().stream()
        .filter(k -> k.startsWith(KafkaClientProperties.PREFIX))
        .forEach(p::get);
    return new JobConfig(
        kafka.bootstrapServers(),
        p.get("group-id", "qoiflow"),
        p.get("pool-id", "pool-0"),
        p.getRequired("model"),
        p.get("provider", "auto"),
        p.get("policy", "universal"),
        p.getInt("max-batch", 16),
        p.getLong("max-batch-delay-ms", 10),
        p.getInt("async-capacity", 64),
        p.getLong("async-timeout-ms", 30_000),
        p.has("checkpoint-interval-ms") ? p.getLong("checkpoint-interval-ms") : null,
        p.get("transactional-id-prefix", "qoiflow"),
        p.getLong("out-of-orderness-ms", 200),
        p.getLong("idleness-ms", 2_000),
        p.getLong("stalled-idleness-ms", 10_000),
        p.getLong("alignment-max-drift-ms", 0),
        p.get("checkpoint-dir", defaultCheckpointDir()),
        new JoinConfig(
            EnumSet.allOf(Modality.class),
            p.getLong("join-tolerance-ms", join.toleranceMs()),
            p.getLong("join-max-wait-ms", join.maxWaitMs()),
            p.getLong("question-tolerance-ms", join.questionToleranceMs())),
        new BudgetLevels(
            defaults.fractions(),
            p.getDouble("initial-budget", defaults.initial()),
            p.getLong("budget-up-cooldown-ms", defaults.upCooldownMs())),
        BudgetThresholds.defaults(),
        p.getLong("telemetry-interval-ms", 1_000),
        p.getInt("max-payload-bytes", 1 << 20),
        p.getLong("max-future-skew-ms", 60_000),
        p.getBoolean("bounded", false),
        p.get("qa-model", null),
        kafka,
        Topics.prefixed(p.get("topic-prefix", ""), "")); // checks the prefix's characters
  }

  /**
   * Where the job keeps checkpoints when the cluster configures no checkpoint storage: a folder
   * under the temporary directory (a cluster should configure its own durable storage).
   */
  static String defaultCheckpointDir() {
    return java.nio.file.Path.of(System.getProperty("java.io.tmpdir"), "qoiflow-checkpoints")
        .toUri()
        .toString();
  }

  public EngineService.Config engine() {
    return new EngineService.Config(modelDir, provider, policy, maxBatch, maxBatchDelayMs);
  }

  public static String usage() {
    return String.join(
        "\n",
        "QoIFlow job arguments:",
        "  --bootstrap HOST:PORT        Kafka bootstrap servers (required here or below)",
        "  --kafka-properties FILE      Kafka client properties file (security.protocol, sasl.*,",
        "                               ssl.*, ...) for every source and sink",
        "  --kafka.PROPERTY VALUE       one Kafka client property, over the file's",
        "  --topic-prefix P             prefix of every topic name (none): P + results.fusion, ...",
        "  --model DIR                  model folder with manifest.json (required)",
        "  --provider cpu|cuda|auto     ONNX Runtime execution provider (auto)",
        "  --policy NAME                admn|universal|ae|naive|static|full (universal)",
        "  --group-id ID                consumer group (qoiflow)",
        "  --pool-id ID                 inference pool whose budget applies (pool-0)",
        "  --max-batch N --max-batch-delay-ms MS        micro-batcher (16, 10)",
        "  --async-capacity N --async-timeout-ms MS     async operator (64, 30000)",
        "  --checkpoint-interval-ms MS  over the cluster's execution.checkpointing.interval",
        "                               (that, else 5000); --transactional-id-prefix P (qoiflow)",
        "  --checkpoint-dir URI         checkpoints when the cluster configures no checkpoint",
        "                               storage (file:<tmp>/qoiflow-checkpoints)",
        "  --out-of-orderness-ms MS --idleness-ms MS    watermarks (200, 2000)",
        "  --stalled-idleness-ms MS     idleness of a frame split behind the clock or before its first record (10000)",
        "  --alignment-max-drift-ms MS  align the join's sources to this drift; 0 = off (0)",
        "  --join-tolerance-ms MS --join-max-wait-ms MS --question-tolerance-ms MS",
        "  --initial-budget F --budget-up-cooldown-ms MS --telemetry-interval-ms MS",
        "  --max-payload-bytes N --max-future-skew-ms MS --bounded true|false",
        "  --qa-model DIR               mPnP QA model folder: answers questions to results.qa (off)");
  }
}
