package io.qoiflow.operators.functions;

import static io.qoiflow.operators.functions.TestRecords.frame;
import static io.qoiflow.operators.functions.TestRecords.question;
import static org.assertj.core.api.Assertions.assertThat;

import io.qoiflow.records.FrameSet;
import io.qoiflow.records.Modality;
import io.qoiflow.records.QaQuestion;
import io.qoiflow.records.SensorFrame;
import java.util.EnumSet;
import java.util.List;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.util.KeyedTwoInputStreamOperatorTestHarness;
import org.apache.flink.streaming.util.ProcessFunctionTestHarnesses;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class FrameJoinFunctionTest extends KeyedHarnessTestBase {
  private static final long T = 1_700_000_000_000L;
  private KeyedTwoInputStreamOperatorTestHarness<String, SensorFrame, QaQuestion, FrameSet> h;

  @BeforeEach
  void setUp() throws Exception {
    h =
        ProcessFunctionTestHarnesses.forKeyedCoProcessFunction(
            new FrameJoinFunction(new JoinConfig(EnumSet.allOf(Modality.class), 20, 500, 50)),
            f -> f.getRigId().toString(),
            q -> q.getRigId().toString(),
            Types.STRING);
  }

  @AfterEach
  void tearDown() throws Exception {
    h.close();
  }

  private void sendAll(String rig, long t, long seq) throws Exception {
    for (Modality m : Modality.values()) {
      h.processElement1(frame(rig, m, t, seq), t);
    }
  }

  private void assertNoStateLeft() {
    assertThat(h.numKeyedStateEntries()).as("keyed state entries").isZero();
    assertThat(h.numEventTimeTimers()).as("event-time timers").isZero();
  }

  @Test
  void completeSetIsEmittedAtOnceAndStateIsClearedAfterTheWatermark() throws Exception {
    sendAll("rig-1", T, 1);

    List<FrameSet> out = h.extractOutputValues();
    assertThat(out).hasSize(1);
    assertThat(out.get(0).getMissing()).isEmpty();
    assertThat(out.get(0).getCamera().getSequence()).isEqualTo(1);

    h.processBothWatermarks(new Watermark(T + 500));
    assertThat(h.extractOutputValues()).hasSize(1);
    assertNoStateLeft();
  }

  @Test
  void framesWithinToleranceFormOneSetAndOthersAnother() throws Exception {
    h.processElement1(frame("rig-1", Modality.CAMERA, T, 1), T);
    h.processElement1(frame("rig-1", Modality.DEPTH, T + 15, 1), T + 15);
    h.processElement1(frame("rig-1", Modality.LIDAR, T + 100, 2), T + 100);
    h.processBothWatermarks(new Watermark(T + 700));

    List<FrameSet> out = h.extractOutputValues();
    assertThat(out).hasSize(2);
    assertThat(out.get(0).getCaptureTime().toEpochMilli()).isEqualTo(T);
    assertThat(out.get(0).getMissing())
        .containsExactly(Modality.MMWAVE, Modality.LIDAR, Modality.AUDIO);
    assertThat(out.get(1).getMissing())
        .containsExactly(Modality.CAMERA, Modality.DEPTH, Modality.MMWAVE, Modality.AUDIO);
    assertNoStateLeft();
  }

  @Test
  void incompleteSetWaitsForTheWatermarkThenMarksMissingModalities() throws Exception {
    for (Modality m : List.of(Modality.CAMERA, Modality.DEPTH, Modality.LIDAR, Modality.AUDIO)) {
      h.processElement1(frame("rig-1", m, T, 1), T);
    }
    h.processBothWatermarks(new Watermark(T + 499));
    assertThat(h.extractOutputValues()).isEmpty();

    h.processBothWatermarks(new Watermark(T + 500));
    List<FrameSet> out = h.extractOutputValues();
    assertThat(out).hasSize(1);
    assertThat(out.get(0).getMissing()).containsExactly(Modality.MMWAVE);
    assertThat(out.get(0).getMmwave()).isNull();
    assertNoStateLeft();
  }

  @Test
  void duplicatesAreDeadLetteredNotJoinedTwice() throws Exception {
    h.processElement1(frame("rig-1", Modality.CAMERA, T, 7), T);
    h.processElement1(frame("rig-1", Modality.CAMERA, T, 7), T);
    sendAll("rig-1", T, 7); // camera again, the rest once

    assertThat(h.extractOutputValues()).hasSize(1);
    assertThat(reasons(h, FrameJoinFunction.DEAD_LETTERS))
        .containsExactly("duplicate", "duplicate");
    h.processBothWatermarks(new Watermark(T + 1000));
    assertNoStateLeft();
  }

  @Test
  void lateFramesGoToTheDeadLetterSideOutput() throws Exception {
    h.processBothWatermarks(new Watermark(T + 600));
    h.processElement1(frame("rig-1", Modality.AUDIO, T, 3), T);

    assertThat(h.extractOutputValues()).isEmpty();
    assertThat(reasons(h, FrameJoinFunction.DEAD_LETTERS)).containsExactly("late");
    var letter = h.getSideOutput(FrameJoinFunction.DEAD_LETTERS).peek().getValue();
    assertThat(letter.getSourceTopic()).isEqualTo("frames.audio");
    assertThat(letter.getOriginalBytes().remaining()).isPositive();
    assertNoStateLeft();
  }

  @Test
  void rigsAreJoinedIndependently() throws Exception {
    h.processElement1(frame("rig-1", Modality.CAMERA, T, 1), T);
    sendAll("rig-2", T, 1);
    assertThat(h.extractOutputValues()).extracting(FrameSet::getRigId).containsExactly("rig-2");
    h.processBothWatermarks(new Watermark(T + 500));
    assertThat(h.extractOutputValues())
        .extracting(FrameSet::getRigId)
        .containsExactly("rig-2", "rig-1");
    assertNoStateLeft();
  }

  @Test
  void questionsAttachToTheNearestSet() throws Exception {
    h.processElement1(frame("rig-1", Modality.CAMERA, T, 1), T);
    h.processElement1(frame("rig-1", Modality.CAMERA, T + 100, 2), T + 100);
    h.processElement2(question("rig-1", "q-1", T + 90), T + 90);
    // Asked before any frame of its time arrived: waits, then attaches to the new set.
    h.processElement2(question("rig-1", "q-2", T + 300), T + 300);
    h.processElement1(frame("rig-1", Modality.CAMERA, T + 310, 3), T + 310);
    h.processBothWatermarks(new Watermark(T + 2000));

    List<FrameSet> out = h.extractOutputValues();
    assertThat(out).hasSize(3);
    assertThat(out.get(0).getQuestions()).isEmpty();
    assertThat(out.get(1).getQuestions())
        .extracting(QaQuestion::getQuestionId)
        .containsExactly("q-1");
    assertThat(out.get(2).getQuestions())
        .extracting(QaQuestion::getQuestionId)
        .containsExactly("q-2");
    assertNoStateLeft();
  }

  @Test
  void aQuestionAfterItsCompleteSetLeftGoesOutWithACopyOfThatSet() throws Exception {
    sendAll("rig-1", T, 1);
    h.processElement2(question("rig-1", "q-after", T + 10), T + 10);

    assertThat(h.extractOutputValues()).as("one set for fusion, without the question").hasSize(1);
    assertThat(h.extractOutputValues().get(0).getQuestions()).isEmpty();
    var copies = h.getSideOutput(FrameJoinFunction.QUESTION_SETS);
    assertThat(copies).hasSize(1);
    FrameSet copy = copies.peek().getValue();
    assertThat(copy.getCaptureTime().toEpochMilli()).isEqualTo(T);
    assertThat(copy.getQuestions())
        .extracting(QaQuestion::getQuestionId)
        .containsExactly("q-after");
    assertThat(copy.getCamera().getSequence()).isEqualTo(1);

    h.processBothWatermarks(new Watermark(T + 500));
    assertThat(reasons(h, FrameJoinFunction.DEAD_LETTERS)).isEmpty();
    assertNoStateLeft();
  }

  @Test
  void questionsWithoutFramesAndLateQuestionsAreDeadLettered() throws Exception {
    h.processElement2(question("rig-1", "q-lonely", T), T);
    h.processBothWatermarks(new Watermark(T + 1500));
    h.processElement2(question("rig-1", "q-late", T), T);

    assertThat(h.extractOutputValues()).isEmpty();
    assertThat(reasons(h, FrameJoinFunction.DEAD_LETTERS))
        .containsExactly("unmatched-question", "late-question");
    assertNoStateLeft();
  }
}
