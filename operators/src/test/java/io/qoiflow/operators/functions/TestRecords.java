package io.qoiflow.operators.functions;

import io.qoiflow.records.DType;
import io.qoiflow.records.Modality;
import io.qoiflow.records.QaQuestion;
import io.qoiflow.records.SensorFrame;
import io.qoiflow.records.Telemetry;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/** Small valid records for operator tests. */
final class TestRecords {
  private TestRecords() {}

  static SensorFrame frame(String rig, Modality m, long t, long seq) {
    return SensorFrame.newBuilder()
        .setRigId(rig)
        .setModality(m)
        .setCaptureTime(Instant.ofEpochMilli(t))
        .setSequence(seq)
        .setShape(List.of(1, 2, 2))
        .setDtype(DType.UINT8)
        .setPayload(ByteBuffer.wrap(new byte[] {1, 2, 3, 4}))
        .setMetadata(Map.of())
        .build();
  }

  static QaQuestion question(String rig, String id, long t) {
    return QaQuestion.newBuilder()
        .setQuestionId(id)
        .setRigId(rig)
        .setAskedTime(Instant.ofEpochMilli(t))
        .setText("is there a drone ?")
        .setQuestionType("exist")
        .build();
  }

  static Telemetry telemetry(
      String pool, long t, double util, double p99, boolean throttled, double temp, long lag) {
    return Telemetry.newBuilder()
        .setPoolId(pool)
        .setHostId("tm-0")
        .setTime(Instant.ofEpochMilli(t))
        .setGpuUtilization(util)
        .setMemoryUsedMb(1000)
        .setMemoryTotalMb(8000)
        .setTemperatureC(temp)
        .setThrottled(throttled)
        .setInferenceP50Ms(p99 / 2)
        .setInferenceP99Ms(p99)
        .setQueueDepth(0)
        .setConsumerLag(lag)
        .build();
  }
}
