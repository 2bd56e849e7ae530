package io.qoiflow.schemas;

import io.qoiflow.records.BudgetDecision;
import io.qoiflow.records.CorruptionLabel;
import io.qoiflow.records.DType;
import io.qoiflow.records.DeadLetter;
import io.qoiflow.records.FrameSet;
import io.qoiflow.records.FusionResult;
import io.qoiflow.records.GroundTruth;
import io.qoiflow.records.LabelledSample;
import io.qoiflow.records.LatencyBreakdown;
import io.qoiflow.records.Modality;
import io.qoiflow.records.ModalityUsage;
import io.qoiflow.records.ObjectState;
import io.qoiflow.records.QaAnswer;
import io.qoiflow.records.QaPair;
import io.qoiflow.records.QaQuestion;
import io.qoiflow.records.SensorFrame;
import io.qoiflow.records.Telemetry;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.apache.avro.specific.SpecificRecordBase;

/** One fully populated instance of every record, for round-trip tests. */
final class RecordFixtures {
  static final Instant T0 = Instant.ofEpochMilli(1_700_000_000_123L);

  private RecordFixtures() {}

  static SensorFrame frame(Modality modality) {
    return SensorFrame.newBuilder()
        .setRigId("rig-7")
        .setModality(modality)
        .setCaptureTime(T0)
        .setSequence(42)
        .setShape(List.of(3, 2, 2))
        .setDtype(DType.UINT8)
        .setPayload(ByteBuffer.wrap(new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, (byte) 255}))
        .setMetadata(Map.of("gain", "1.5"))
        .build();
  }

  static QaQuestion question() {
    return QaQuestion.newBuilder()
        .setQuestionId("q-1")
        .setRigId("rig-7")
        .setAskedTime(T0)
        .setText("how many cars are moving ?")
        .setQuestionType("count")
        .build();
  }

  static ObjectState object() {
    return ObjectState.newBuilder()
        .setClassIndex(2)
        .setClassName("cart")
        .setXCm(12.5)
        .setYCm(-80.0)
        .setVxCmS(10)
        .setVyCmS(0)
        .setHeadingRad(0.3)
        .setStatus("moving")
        .build();
  }

  static List<SpecificRecordBase> all() {
    LatencyBreakdown latency =
        LatencyBreakdown.newBuilder()
            .setQueueMs(1)
            .setDecodeMs(0.2)
            .setControllerMs(0.5)
            .setEmbedMs(0.4)
            .setLayersMs(3)
            .setFusionMs(0.3)
            .setTotalMs(5.4)
            .build();
    return List.of(
        frame(Modality.LIDAR),
        question(),
        FrameSet.newBuilder()
            .setRigId("rig-7")
            .setCaptureTime(T0)
            .setCamera(frame(Modality.CAMERA))
            .setDepth(null)
            .setMmwave(frame(Modality.MMWAVE))
            .setLidar(frame(Modality.LIDAR))
            .setAudio(frame(Modality.AUDIO))
            .setMissing(List.of(Modality.DEPTH))
            .setQuestions(List.of(question()))
            .setBudgetFraction(0.33)
            .setEmittedTime(T0.plusMillis(20))
            .setExpected(List.of(Modality.values()))
            .build(),
        Telemetry.newBuilder()
            .setPoolId("pool-a")
            .setHostId("tm-1")
            .setTime(T0)
            .setGpuUtilization(0.93)
            .setMemoryUsedMb(30_000)
            .setMemoryTotalMb(80_000)
            .setTemperatureC(81)
            .setThrottled(true)
            .setInferenceP50Ms(12)
            .setInferenceP99Ms(48)
            .setQueueDepth(17)
            .setConsumerLag(1200)
            .build(),
        BudgetDecision.newBuilder()
            .setPoolId("pool-a")
            .setTime(T0)
            .setBudgetFraction(0.25)
            .setReason("sustained-high-utilisation")
            .setPreviousBudgetFraction(0.5)
            .build(),
        FusionResult.newBuilder()
            .setRigId("rig-7")
            .setCaptureTime(T0)
            .setXCm(10)
            .setYCm(-20)
            .setCovariance(List.of(25.0, 1.0, 1.0, 36.0))
            .setClassIndex(1)
            .setClassName("drone")
            .setClassProbabilities(List.of(0.1f, 0.7f, 0.2f))
            .setModalities(
                List.of(
                    ModalityUsage.newBuilder()
                        .setModality(Modality.CAMERA)
                        .setPresent(true)
                        .setLayers(List.of(0, 3, 5))
                        .setQoi(0.9f)
                        .build(),
                    ModalityUsage.newBuilder()
                        .setModality(Modality.DEPTH)
                        .setPresent(false)
                        .setLayers(List.of())
                        .setQoi(0f)
                        .build()))
            .setBudgetFraction(0.33)
            .setBudgetLayers(13)
            .setFlops(123_456_789L)
            .setModelVersion("admn-sim-v1@abcdef12")
            .setControllerPolicy("universal")
            .setLatency(latency)
            .setDegraded(true)
            .setDegradedReason("inference-timeout")
            .setModalitiesExpected(5)
            .setModalitiesPresent(4)
            .setMissingModalities(List.of(Modality.DEPTH))
            .build(),
        QaAnswer.newBuilder()
            .setQuestionId("q-1")
            .setRigId("rig-7")
            .setCaptureTime(T0)
            .setQuestion("how many cars are moving ?")
            .setAnswer("2")
            .setModalityUsed(Modality.LIDAR)
            .setConnectedBlocks(4)
            .setFlops(9_999)
            .setModelVersion("mpnp@1234")
            .setLatencyMs(7.5)
            .build(),
        DeadLetter.newBuilder()
            .setOriginalBytes(ByteBuffer.wrap(new byte[] {0, 1, 2}))
            .setSourceTopic("frames.camera")
            .setSourcePartition(1)
            .setSourceOffset(99)
            .setReasonCode("bad-marker")
            .setMessage("expected marker C3 01")
            .setTime(T0)
            .build(),
        LabelledSample.newBuilder()
            .setSeed(7)
            .setIndex(3)
            .setFrames(List.of(frame(Modality.CAMERA), frame(Modality.AUDIO)))
            .setTruth(
                GroundTruth.newBuilder()
                    .setTarget(object())
                    .setObjects(List.of(object(), object()))
                    .setCorruptions(
                        List.of(
                            CorruptionLabel.newBuilder()
                                .setModality(Modality.CAMERA)
                                .setType("lowlight")
                                .setLevel(0.8)
                                .build()))
                    .setQuestions(
                        List.of(
                            QaPair.newBuilder()
                                .setQuestionType("exist")
                                .setQuestion("is there a drone ?")
                                .setAnswer("yes")
                                .build()))
                    .build())
            .build());
  }
}
