package io.qoiflow.evaluation;

import static org.assertj.core.api.Assertions.assertThat;

import io.qoiflow.records.QaPair;
import org.junit.jupiter.api.Test;

/** Which questions one frame can answer: the split eval-qa's {@code one_frame} reports. */
class QaEvaluationTest {

  private static QaPair q(String type, String question) {
    return QaPair.newBuilder().setQuestionType(type).setQuestion(question).setAnswer("x").build();
  }

  @Test
  void questionsAboutMotionStatusAreNotAnswerableFromOneFrame() {
    assertThat(QaEvaluation.answerableFromOneFrame(q("exist", "are there any buses ?"))).isTrue();
    assertThat(QaEvaluation.answerableFromOneFrame(q("count", "how many cars are there ?")))
        .isTrue();
    assertThat(
            QaEvaluation.answerableFromOneFrame(
                q("comparison", "is the car closer than the bus ?")))
        .isTrue();
    assertThat(QaEvaluation.answerableFromOneFrame(q("status", "what is the status of the car ?")))
        .isFalse();
    assertThat(QaEvaluation.answerableFromOneFrame(q("exist", "is there a Moving car ?")))
        .isFalse();
    assertThat(QaEvaluation.answerableFromOneFrame(q("count", "how many objects are parked ?")))
        .isFalse();
    assertThat(
            QaEvaluation.answerableFromOneFrame(
                q("comparison", "are there more moving objects than stopped objects ?")))
        .isFalse();
  }
}
