package io.qoiflow.topology;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.apache.flink.api.common.eventtime.Watermark;
import org.apache.flink.api.common.eventtime.WatermarkOutput;
import org.apache.flink.util.clock.ManualClock;
import org.junit.jupiter.api.Test;

/** When a quiet split is taken for idle: at once if it had caught up, late if it is behind. */
class CaughtUpIdlenessTest {
  private static final Duration IDLE = Duration.ofSeconds(2);
  private static final Duration STALLED = Duration.ofSeconds(30);
  private static final Duration BEFORE_FIRST = Duration.ofSeconds(20);

  /** Records what the generator emits. */
  private static final class Output implements WatermarkOutput {
    boolean idle;
    long watermark = Long.MIN_VALUE;

    @Override
    public void emitWatermark(Watermark w) {
      watermark = w.getTimestamp();
      idle = false;
    }

    @Override
    public void markIdle() {
      idle = true;
    }

    @Override
    public void markActive() {
      idle = false;
    }
  }

  private final ManualClock clock = new ManualClock();
  private final Output out = new Output();
  private final CaughtUpIdleness<String> gen =
      new CaughtUpIdleness<>("t", Duration.ofMillis(200), IDLE, STALLED, BEFORE_FIRST, clock);

  /** Periodic emits every 200 ms for {@code ms} of activity-clock time. */
  private void quietFor(long ms) {
    for (long t = 0; t < ms; t += 200) {
      clock.advanceTime(Duration.ofMillis(200));
      gen.onPeriodicEmit(out);
    }
  }

  @Test
  void aSplitThatCaughtUpWithTheClockIsIdleAfterTheIdleTimeout() {
    gen.onEvent("live", System.currentTimeMillis() - 100, out);
    gen.onPeriodicEmit(out);
    quietFor(1_800);
    assertThat(out.idle).isFalse();
    quietFor(400);
    assertThat(out.idle).as("producer stopped: idle after 2 s").isTrue();
  }

  @Test
  void aSplitReadingABacklogIsNotIdleUntilTheStallTimeout() {
    gen.onEvent("old", System.currentTimeMillis() - 120_000, out);
    gen.onPeriodicEmit(out);
    quietFor(29_000);
    assertThat(out.idle).as("2 min behind the clock: still holding event time").isFalse();
    quietFor(1_400);
    assertThat(out.idle).as("stalled for 30 s: idle as a last resort").isTrue();
  }

  @Test
  void aSplitThatReadNothingYetIsIdleAfterItsOwnTimeout() {
    quietFor(10_000);
    assertThat(out.idle).isFalse();
    quietFor(10_400);
    assertThat(out.idle).isTrue();
  }

  @Test
  void aRecordMakesAnIdleSplitActiveAndRestartsTheQuietTime() {
    gen.onEvent("live", System.currentTimeMillis(), out);
    quietFor(2_400);
    assertThat(out.idle).isTrue();
    long t = System.currentTimeMillis();
    gen.onEvent("again", t, out);
    gen.onPeriodicEmit(out);
    assertThat(out.idle).isFalse();
    assertThat(out.watermark).isEqualTo(t - 200 - 1);
    quietFor(1_600);
    assertThat(out.idle).isFalse();
  }
}
