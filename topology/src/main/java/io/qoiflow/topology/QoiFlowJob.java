package io.qoiflow.topology;

import io.qoiflow.operators.deadletter.Outcome;
import io.qoiflow.operators.functions.AsyncInferenceFunction;
import io.qoiflow.operators.functions.BudgetAttacher;
import io.qoiflow.operators.functions.BudgetHysteresis;
import io.qoiflow.operators.functions.DeadLetterSplitter;
import io.qoiflow.operators.functions.FrameJoinFunction;
import io.qoiflow.operators.functions.ResultRouter;
import io.qoiflow.operators.patterns.BudgetPattern;
import io.qoiflow.records.BudgetDecision;
import io.qoiflow.records.DeadLetter;
import io.qoiflow.records.FrameSet;
import io.qoiflow.records.FusionResult;
import io.qoiflow.records.QaAnswer;
import io.qoiflow.records.QaQuestion;
import io.qoiflow.records.SensorFrame;
import io.qoiflow.records.Telemetry;
import io.qoiflow.schemas.FrameContract;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.formats.avro.typeutils.AvroTypeInfo;
import org.apache.flink.streaming.api.datastream.AsyncDataStream;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * The QoIFlow job. {@link #main} builds the real Kafka sources and sinks and calls {@link
 * #defineWorkflow}, the one seam that tests call with their own (bounded) sources and sinks.
 */
public final class QoiFlowJob {
  public static final String JOB_NAME = "qoiflow";

  private QoiFlowJob() {}

  /** Decoded inputs, with timestamps and watermarks already assigned. */
  public record Inputs(
      DataStream<Outcome<SensorFrame>> frames,
      DataStream<Outcome<QaQuestion>> questions,
      DataStream<Outcome<Telemetry>> telemetry) {}

  /**
   * Where one of the job's output streams goes. The job names each output and gives it its uid; an
   * output only decides what is attached: a real {@link Sink} in the job, a {@link
   * DataStream.Collector} in tests.
   */
  @FunctionalInterface
  public interface Output<T> {
    void attach(DataStream<T> stream, String name, String uid);

    static <T> Output<T> sink(Sink<T> sink) {
      return (stream, name, uid) -> stream.sinkTo(sink).name(name).uid(uid);
    }

    /** Collected to the test client; read {@code collector.getOutput()} after executeAsync. */
    static <T> Output<T> collect(DataStream.Collector<T> collector) {
      return (stream, name, uid) -> stream.collectAsync(collector);
    }
  }

  /** Where the job writes; {@code answers} is only needed with a QA model (--qa-model). */
  public record Outputs(
      Output<FusionResult> results,
      Output<DeadLetter> deadLetters,
      Output<BudgetDecision> budget,
      Output<Telemetry> telemetry,
      Output<QaAnswer> answers) {
    public Outputs(
        Output<FusionResult> results,
        Output<DeadLetter> deadLetters,
        Output<BudgetDecision> budget,
        Output<Telemetry> telemetry) {
      this(results, deadLetters, budget, telemetry, null);
    }
  }

  public static void main(String[] args) throws Exception {
    if (args.length == 0 || args[0].equals("--help")) {
      System.out.println(JobConfig.usage());
      return;
    }
    environment(args).execute(JOB_NAME);
  }

  /**
   * What {@link #main} runs, before it is executed: the environment Flink gives this program (a
   * cluster's, or a local one), configured, with the real Kafka sources and sinks. Tests run
   * exactly this with {@code executeAsync}.
   */
  public static StreamExecutionEnvironment environment(String[] args) {
    JobConfig config = JobConfig.fromArgs(args);
    StreamExecutionEnvironment env = JobEnvironment.create(config);
    defineKafkaWorkflow(env, config);
    return env;
  }

  /** The job between the real Kafka sources and sinks ({@link KafkaIo}). */
  public static void defineKafkaWorkflow(StreamExecutionEnvironment env, JobConfig config) {
    KafkaIo io = new KafkaIo(config, contract(config));
    defineWorkflow(env, config, io.inputs(env), io.outputs());
  }

  public static FrameContract contract(JobConfig config) {
    return FrameContract.fromManifest(
        Path.of(config.modelDir(), "manifest.json"),
        config.maxPayloadBytes(),
        config.maxFutureSkewMs());
  }

  public static void defineWorkflow(
      StreamExecutionEnvironment env, JobConfig config, Inputs in, Outputs out) {
    // 1. Bad input leaves as dead letters, counted by reason.
    SingleOutputStreamOperator<SensorFrame> frames =
        in.frames()
            .process(new DeadLetterSplitter<SensorFrame>(), new AvroTypeInfo<>(SensorFrame.class))
            .name("validate frames")
            .uid("validate-frames");
    SingleOutputStreamOperator<QaQuestion> questions =
        in.questions()
            .process(new DeadLetterSplitter<QaQuestion>(), new AvroTypeInfo<>(QaQuestion.class))
            .name("validate questions")
            .uid("validate-questions");
    SingleOutputStreamOperator<Telemetry> telemetry =
        in.telemetry()
            .process(new DeadLetterSplitter<Telemetry>(), new AvroTypeInfo<>(Telemetry.class))
            .name("validate telemetry")
            .uid("validate-telemetry");

    // 2. Frames of a rig and capture time, with questions, into FrameSets.
    SingleOutputStreamOperator<FrameSet> frameSets =
        frames
            .keyBy(f -> f.getRigId())
            .connect(questions.keyBy(q -> q.getRigId()))
            .process(new FrameJoinFunction(config.join()), new AvroTypeInfo<>(FrameSet.class))
            .name("join frames per rig and time")
            .uid("join-frames");

    // 3. The budget: CEP over telemetry, hysteresis, broadcast to inference.
    DataStream<BudgetDecision> decisions =
        BudgetSignals.detect(telemetry, BudgetPattern.all(), config.thresholds())
            .keyBy(s -> s.poolId)
            .process(
                new BudgetHysteresis(config.budgetLevels()),
                new AvroTypeInfo<>(BudgetDecision.class))
            .name("budget hysteresis")
            .uid("budget-hysteresis");
    out.budget().attach(decisions, "budget sink", "sink-budget");

    SingleOutputStreamOperator<FrameSet> budgeted =
        frameSets
            .connect(decisions.broadcast(BudgetAttacher.BUDGETS))
            .process(
                new BudgetAttacher(config.poolId(), config.budgetLevels().initial()),
                new AvroTypeInfo<>(FrameSet.class))
            .name("attach budget")
            .uid("attach-budget");

    // 4. Async, micro-batched inference; every FrameSet leaves as a result or a dead letter.
    TypeInformation<Outcome<FusionResult>> outcomeType = Outcome.typeInfo(FusionResult.class);
    SingleOutputStreamOperator<Outcome<FusionResult>> outcomes =
        AsyncDataStream.unorderedWait(
                budgeted,
                new AsyncInferenceFunction(config.engine()),
                config.asyncTimeoutMs(),
                TimeUnit.MILLISECONDS,
                config.asyncCapacity())
            .returns(outcomeType)
            .name("adaptive-depth inference")
            .uid("inference");
    SingleOutputStreamOperator<FusionResult> results =
        outcomes
            .process(
                new ResultRouter(config.poolId(), config.telemetryIntervalMs()),
                new AvroTypeInfo<>(FusionResult.class))
            .name("route results")
            .uid("route-results");
    out.results().attach(results, "results sink", "sink-results");
    out.telemetry()
        .attach(
            results.getSideOutput(ResultRouter.TELEMETRY), "self-telemetry sink", "sink-telemetry");

    // 4b. Questions on FrameSets → answers (mPnP-LLM QA), when a QA model is configured.
    DataStream<DeadLetter> qaDeadLetters = null;
    if (config.qaModelDir() != null) {
      if (out.answers() == null) {
        throw new IllegalArgumentException("--qa-model is set but the job has no answers sink");
      }
      // Questions that arrived after their (complete) set had gone to fusion come as copies of
      // that set on a side output; they get the budget too and go to QA only.
      SingleOutputStreamOperator<FrameSet> lateQuestionSets =
          frameSets
              .getSideOutput(FrameJoinFunction.QUESTION_SETS)
              .connect(decisions.broadcast(BudgetAttacher.BUDGETS))
              .process(
                  new BudgetAttacher(config.poolId(), config.budgetLevels().initial()),
                  new AvroTypeInfo<>(FrameSet.class))
              .name("attach budget to late questions")
              .uid("attach-budget-questions");
      SingleOutputStreamOperator<QaAnswer> answers =
          QaStage.define(budgeted.union(lateQuestionSets), config);
      out.answers().attach(answers, "answers sink", "sink-answers");
      qaDeadLetters = QaStage.deadLetters(answers);
    }

    // 5. Every dead letter, whichever stage rejected it.
    DataStream<DeadLetter> deadLetters =
        frames
            .getSideOutput(DeadLetterSplitter.DEAD_LETTERS)
            .union(
                questions.getSideOutput(DeadLetterSplitter.DEAD_LETTERS),
                telemetry.getSideOutput(DeadLetterSplitter.DEAD_LETTERS),
                frameSets.getSideOutput(FrameJoinFunction.DEAD_LETTERS),
                results.getSideOutput(ResultRouter.DEAD_LETTERS));
    if (qaDeadLetters != null) {
      deadLetters = deadLetters.union(qaDeadLetters);
    }
    out.deadLetters().attach(deadLetters, "dead-letter sink", "sink-deadletter");
  }
}
