package io.qoiflow.operators.functions;

import io.qoiflow.engine.EngineSample;
import io.qoiflow.operators.deadletter.Outcome;
import io.qoiflow.operators.inference.EngineService;
import io.qoiflow.operators.inference.ResultMapper;
import io.qoiflow.records.FrameSet;
import io.qoiflow.records.FusionResult;
import io.qoiflow.schemas.DeadLetters;
import io.qoiflow.schemas.RejectReason;
import io.qoiflow.schemas.SingleObjectSerde;
import java.util.List;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.streaming.api.functions.async.ResultFuture;
import org.apache.flink.streaming.api.functions.async.RichAsyncFunction;

/**
 * Hands each FrameSet to the JVM's shared engine behind a micro-batcher and completes with a
 * result, or a dead letter when the engine fails or the request times out. {@code asyncInvoke} only
 * enqueues, so it never blocks the task thread; every FrameSet leaves exactly once.
 */
public final class AsyncInferenceFunction
    extends RichAsyncFunction<FrameSet, Outcome<FusionResult>> {
  private static final long serialVersionUID = 1L;

  private final EngineService.Config config;
  private transient EngineService service;
  private transient ResultMapper mapper;
  private transient SingleObjectSerde<FrameSet> frameSetSerde;

  public AsyncInferenceFunction(EngineService.Config config) {
    this.config = config;
  }

  @Override
  public void open(OpenContext openContext) {
    service = EngineService.acquire(config);
    mapper = new ResultMapper(service.engine().manifest());
    frameSetSerde = SingleObjectSerde.forClass(FrameSet.class);
    MetricGroup g = getRuntimeContext().getMetricGroup();
    g.gauge("batchSize", (Gauge<Integer>) service::lastBatchSize);
    g.gauge("queueDelayMs", (Gauge<Double>) service::lastQueueMs);
    g.gauge("queueDepth", (Gauge<Integer>) service::queueDepth);
  }

  @Override
  public void asyncInvoke(FrameSet set, ResultFuture<Outcome<FusionResult>> result) {
    long submitted = System.nanoTime();
    EngineSample sample;
    try {
      double budget = set.getBudgetFraction() == null ? 1.0 : set.getBudgetFraction();
      sample = EngineSample.of(set, budget);
    } catch (RuntimeException e) {
      result.complete(List.of(reject(set, RejectReason.INFERENCE_ERROR, e.toString())));
      return;
    }
    service
        .submit(sample)
        .whenComplete(
            (r, error) -> {
              if (error != null) {
                result.complete(
                    List.of(reject(set, RejectReason.INFERENCE_ERROR, error.toString())));
              } else {
                double waitedMs = (System.nanoTime() - submitted) / 1e6;
                result.complete(List.of(Outcome.ok(mapper.toFusionResult(set, r, waitedMs))));
              }
            });
  }

  @Override
  public void timeout(FrameSet set, ResultFuture<Outcome<FusionResult>> result) {
    result.complete(
        List.of(reject(set, RejectReason.INFERENCE_TIMEOUT, "no result within the async timeout")));
  }

  private Outcome<FusionResult> reject(FrameSet set, String reason, String message) {
    return Outcome.rejected(
        DeadLetters.of(
            frameSetSerde.encode(set),
            "",
            -1,
            -1,
            reason,
            "FrameSet "
                + set.getRigId()
                + "@"
                + set.getCaptureTime().toEpochMilli()
                + ": "
                + message,
            System.currentTimeMillis()));
  }

  @Override
  public void close() {
    if (service != null) {
      service.release();
      service = null;
    }
  }
}
