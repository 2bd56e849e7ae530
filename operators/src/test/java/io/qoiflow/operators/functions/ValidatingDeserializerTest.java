package io.qoiflow.operators.functions;

import static org.assertj.core.api.Assertions.assertThat;

import io.qoiflow.operators.deadletter.Outcome;
import io.qoiflow.records.DType;
import io.qoiflow.records.Modality;
import io.qoiflow.records.QaQuestion;
import io.qoiflow.records.SensorFrame;
import io.qoiflow.schemas.FrameContract;
import io.qoiflow.schemas.FrameSpec;
import io.qoiflow.schemas.RecordValidator;
import io.qoiflow.schemas.RejectReason;
import io.qoiflow.schemas.SensorContract;
import io.qoiflow.schemas.SingleObjectSerde;
import io.qoiflow.schemas.Topics;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Rig ids are bounded where records enter the job: anything but a plain identifier is dead. */
class ValidatingDeserializerTest {
  static final long T = 1_700_000_000_000L;
  static final String HOSTILE = "<img src=x onerror=alert(1)>";
  static final RecordValidator VALIDATOR =
      new RecordValidator(
          new FrameContract(
              Map.of(Modality.CAMERA, new FrameSpec(new int[] {1, 2, 2}, DType.UINT8)),
              1 << 20,
              Long.MAX_VALUE / 2));
  static final String TOPIC = SensorContract.topic(Modality.CAMERA);

  static Outcome<SensorFrame> frameWithRig(String rig) {
    byte[] bytes =
        SingleObjectSerde.forClass(SensorFrame.class)
            .encode(TestRecords.frame(rig, Modality.CAMERA, T, 1));
    return ValidatingDeserializer.frames(VALIDATOR).decode(bytes, TOPIC, 0, 17);
  }

  @Test
  void markupRigIdIsDeadLetteredWithItsOwnReason() {
    Outcome<SensorFrame> out = frameWithRig(HOSTILE);

    assertThat(out.isValid()).isFalse();
    assertThat(out.deadLetter.getReasonCode()).isEqualTo(RejectReason.BAD_RIG_ID);
    assertThat(out.deadLetter.getSourceTopic()).isEqualTo(TOPIC);
    assertThat(out.deadLetter.getSourceOffset()).isEqualTo(17);
    // The message names the rule, never the hostile text itself.
    assertThat(out.deadLetter.getMessage()).doesNotContain("<").contains("[A-Za-z0-9._-]{1,64}");
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "rig 0",
        "rig-0\n",
        "\"rig\"",
        "rig/0",
        "rïg",
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" // 65 chars
      })
  void rigIdsOutsideThePatternAreRefused(String rig) {
    assertThat(frameWithRig(rig).deadLetter.getReasonCode()).isEqualTo(RejectReason.BAD_RIG_ID);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "rig-0",
        "Rig_7.north",
        "a",
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" // 64 chars
      })
  void plainRigIdsPass(String rig) {
    Outcome<SensorFrame> out = frameWithRig(rig);
    assertThat(out.isValid()).as(String.valueOf(out.deadLetter)).isTrue();
  }

  @Test
  void emptyRigIdKeepsItsBadFieldReason() {
    assertThat(frameWithRig("").deadLetter.getReasonCode()).isEqualTo(RejectReason.BAD_FIELD);
  }

  @Test
  void questionsAreBoundedTheSameWay() {
    QaQuestion q = TestRecords.question(HOSTILE, "q-1", T);
    byte[] bytes = SingleObjectSerde.forClass(QaQuestion.class).encode(q);
    Outcome<QaQuestion> out =
        ValidatingDeserializer.questions(VALIDATOR).decode(bytes, Topics.QA_QUESTIONS, 0, 3);
    assertThat(out.deadLetter.getReasonCode()).isEqualTo(RejectReason.BAD_RIG_ID);
  }
}
