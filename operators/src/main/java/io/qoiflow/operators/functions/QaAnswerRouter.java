package io.qoiflow.operators.functions;

import io.qoiflow.operators.deadletter.Outcome;
import io.qoiflow.records.DeadLetter;
import io.qoiflow.records.QaAnswer;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.formats.avro.typeutils.AvroTypeInfo;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

/** QA outcomes: answers go on, failures to {@link #DEAD_LETTERS}, both counted. */
public final class QaAnswerRouter extends ProcessFunction<Outcome<QaAnswer>, QaAnswer> {
  private static final long serialVersionUID = 1L;

  public static final OutputTag<DeadLetter> DEAD_LETTERS =
      new OutputTag<>("qa-dead-letters", new AvroTypeInfo<>(DeadLetter.class));

  private transient DeadLetterSplitter.DeadLetterCounters deadLetters;
  private transient Counter answers;

  @Override
  public void open(OpenContext openContext) {
    deadLetters = new DeadLetterSplitter.DeadLetterCounters(getRuntimeContext().getMetricGroup());
    answers = getRuntimeContext().getMetricGroup().counter("qaAnswers");
  }

  @Override
  public void processElement(Outcome<QaAnswer> in, Context ctx, Collector<QaAnswer> out) {
    if (in.isValid()) {
      answers.inc();
      out.collect(in.value);
    } else {
      deadLetters.count(in.deadLetter.getReasonCode());
      ctx.output(DEAD_LETTERS, in.deadLetter);
    }
  }
}
