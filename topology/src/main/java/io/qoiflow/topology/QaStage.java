package io.qoiflow.topology;

import io.qoiflow.operators.deadletter.Outcome;
import io.qoiflow.operators.functions.AsyncQaFunction;
import io.qoiflow.operators.functions.QaAnswerRouter;
import io.qoiflow.operators.qa.QaService;
import io.qoiflow.records.DeadLetter;
import io.qoiflow.records.FrameSet;
import io.qoiflow.records.QaAnswer;
import java.util.concurrent.TimeUnit;
import org.apache.flink.formats.avro.typeutils.AvroTypeInfo;
import org.apache.flink.streaming.api.datastream.AsyncDataStream;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;

/**
 * The question-answering branch: budgeted FrameSets that carry questions → async mPnP-LLM QA
 * (camera or LiDAR prefix by the ADMN controller's camera QoI, N by the budget) → answers, plus one
 * dead letter for every question that could not be answered.
 */
public final class QaStage {
  private QaStage() {}

  /** The answers; their dead letters are the side output {@link QaAnswerRouter#DEAD_LETTERS}. */
  public static SingleOutputStreamOperator<QaAnswer> define(
      DataStream<FrameSet> budgeted, JobConfig config) {
    SingleOutputStreamOperator<FrameSet> withQuestions =
        budgeted
            .filter(s -> !s.getQuestions().isEmpty())
            .name("frame sets with questions")
            .uid("qa-filter");
    SingleOutputStreamOperator<Outcome<QaAnswer>> outcomes =
        AsyncDataStream.unorderedWait(
                withQuestions,
                new AsyncQaFunction(
                    config.engine(), new QaService.Config(config.qaModelDir(), config.provider())),
                config.asyncTimeoutMs(),
                TimeUnit.MILLISECONDS,
                config.asyncCapacity())
            .returns(Outcome.typeInfo(QaAnswer.class))
            .name("question answering")
            .uid("qa-inference");
    return outcomes
        .process(new QaAnswerRouter(), new AvroTypeInfo<>(QaAnswer.class))
        .name("route answers")
        .uid("qa-route");
  }

  /** The dead letters of {@link #define}'s answers. */
  public static DataStream<DeadLetter> deadLetters(SingleOutputStreamOperator<QaAnswer> answers) {
    return answers.getSideOutput(QaAnswerRouter.DEAD_LETTERS);
  }
}
