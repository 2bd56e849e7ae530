package io.qoiflow.topology;

import io.qoiflow.records.Telemetry;
import java.time.Instant;

/** Telemetry readings for the job's tests (one pool, one host, no lag, fast inference). */
final class TelemetryFixtures {
  private TelemetryFixtures() {}

  static Telemetry telemetry(long t, double util, boolean throttled, double temp) {
    return Telemetry.newBuilder()
        .setPoolId("pool-0")
        .setHostId("gpu-0")
        .setTime(Instant.ofEpochMilli(t))
        .setGpuUtilization(util)
        .setMemoryUsedMb(1000)
        .setMemoryTotalMb(8000)
        .setTemperatureC(temp)
        .setThrottled(throttled)
        .setInferenceP50Ms(5)
        .setInferenceP99Ms(10)
        .setQueueDepth(0)
        .setConsumerLag(0)
        .build();
  }
}
