package io.qoiflow.topology;

import java.time.Duration;
import org.apache.flink.api.common.eventtime.BoundedOutOfOrdernessWatermarks;
import org.apache.flink.api.common.eventtime.WatermarkGenerator;
import org.apache.flink.api.common.eventtime.WatermarkGeneratorSupplier;
import org.apache.flink.api.common.eventtime.WatermarkOutput;
import org.apache.flink.util.clock.RelativeClock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Bounded out-of-orderness watermarks for one source split, with idleness that does not fire on a
 * split that is reading a backlog.
 *
 * <p>Flink's {@code withIdleness} marks a split idle after a quiet spell of processing time,
 * whatever the split still has to read. While a backlog is read (a start-up backlog, the catch-up
 * after a failover or a broker outage) a split can be quiet for seconds although its partition
 * holds minutes of frames: its reader is slow to start or starved of CPU. Marked idle, it stops
 * holding event time back, the other sources run ahead, and its frames then arrive behind the
 * watermark and are dead-lettered as late (measured: docs/RELIABILITY.md).
 *
 * <p>Here a quiet split is idle after {@code idleAfter} only if it was <em>caught up</em> when it
 * went quiet: its newest record's event time was within {@code idleAfter} of the wall clock when
 * that record was read. Then the producer has stopped (a modality switched off), and event time
 * must go on without it. A split that went quiet while behind the clock is idle only after {@code
 * stalledAfter}, a last resort so that a partition whose producer stopped long ago cannot hold
 * event time for ever. A split that has not read a record yet cannot tell an empty partition from
 * one it has not reached: it is idle after {@code beforeFirstRecord} (for frames the stall timeout;
 * for questions and telemetry, which cost no frames when late and are often absent, the idle
 * timeout).
 *
 * <p>Quiet time is measured on Flink's input-activity clock, which stands still while the source is
 * back-pressured or paused for watermark alignment.
 */
final class CaughtUpIdleness<T> implements WatermarkGenerator<T> {
  private static final Logger LOG = LoggerFactory.getLogger(CaughtUpIdleness.class);

  private final String source;
  private final WatermarkGenerator<T> watermarks;
  private final RelativeClock activityClock;
  private final long idleAfterMs;
  private final long stalledAfterMs;
  private final long beforeFirstRecordMs;

  private long records;
  private long recordsAtLastCheck = -1;
  private long quietSinceMs;
  private long newestEventTime = Long.MIN_VALUE;
  private boolean caughtUp;
  private boolean idle;

  CaughtUpIdleness(
      String source,
      Duration outOfOrderness,
      Duration idleAfter,
      Duration stalledAfter,
      Duration beforeFirstRecord,
      RelativeClock clock) {
    this.source = source;
    if (stalledAfter.compareTo(idleAfter) < 0 || beforeFirstRecord.compareTo(idleAfter) < 0) {
      throw new IllegalArgumentException("stalledAfter and beforeFirstRecord must be >= idleAfter");
    }
    this.watermarks = new BoundedOutOfOrdernessWatermarks<>(outOfOrderness);
    this.activityClock = clock;
    this.idleAfterMs = idleAfter.toMillis();
    this.stalledAfterMs = stalledAfter.toMillis();
    this.beforeFirstRecordMs = beforeFirstRecord.toMillis();
    this.quietSinceMs = clock.relativeTimeMillis();
  }

  /** The supplier for a {@code WatermarkStrategy.forGenerator(...)}. */
  static <T> WatermarkGeneratorSupplier<T> supplier(
      String source,
      Duration outOfOrderness,
      Duration idleAfter,
      Duration stalledAfter,
      Duration beforeFirstRecord) {
    return ctx ->
        new CaughtUpIdleness<>(
            source,
            outOfOrderness,
            idleAfter,
            stalledAfter,
            beforeFirstRecord,
            ctx.getInputActivityClock());
  }

  @Override
  public void onEvent(T event, long eventTimestamp, WatermarkOutput output) {
    watermarks.onEvent(event, eventTimestamp, output);
    records++;
    if (eventTimestamp > newestEventTime) {
      newestEventTime = eventTimestamp;
    }
    // A rejected record carries no event time (Long.MIN_VALUE) and says nothing about catching up.
    caughtUp =
        newestEventTime != Long.MIN_VALUE
            && System.currentTimeMillis() - newestEventTime <= idleAfterMs;
    if (idle) {
      idle = false; // the next watermark marks the output active again
      LOG.info("{}: split active again at event time {}", source, eventTimestamp);
    }
  }

  @Override
  public void onPeriodicEmit(WatermarkOutput output) {
    long now = activityClock.relativeTimeMillis();
    if (records != recordsAtLastCheck) {
      recordsAtLastCheck = records;
      quietSinceMs = now;
    }
    long limit = records == 0 ? beforeFirstRecordMs : caughtUp ? idleAfterMs : stalledAfterMs;
    if (now - quietSinceMs >= limit) {
      if (!idle) {
        output.markIdle();
        idle = true;
        LOG.info(
            "{}: split idle after {} ms quiet ({}; newest event time {})",
            source,
            now - quietSinceMs,
            records == 0
                ? "no record read yet"
                : caughtUp ? "caught up with the clock" : "behind the clock",
            newestEventTime);
      }
      return;
    }
    watermarks.onPeriodicEmit(output);
  }
}
