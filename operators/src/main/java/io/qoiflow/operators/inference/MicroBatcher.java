package io.qoiflow.operators.inference;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Collects requests from many callers into batches for one worker thread: a batch closes when it
 * holds {@code maxBatch} requests or {@code maxDelayMs} after its first request arrived. Callers
 * never block: {@link #submit} enqueues and returns a future. The queue is unbounded here because
 * the caller (Flink's async operator) already bounds the requests in flight.
 */
public final class MicroBatcher<I, O> implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(MicroBatcher.class);

  /** A queued request with the time it was queued. */
  private record Request<I, O>(I input, CompletableFuture<O> result, long queuedNanos) {}

  /** Called once per batch with its size and the queue delay of its oldest request. */
  public interface BatchListener {
    void onBatch(int size, double oldestQueueMs, double runMs);
  }

  private final BlockingQueue<Request<I, O>> queue = new LinkedBlockingQueue<>();
  private final Function<List<I>, List<O>> batchFunction;
  private final int maxBatch;
  private final long maxDelayNanos;
  private final BatchListener listener;
  private final Thread worker;
  private volatile boolean running = true;
  private volatile long busyNanos;

  public MicroBatcher(
      String name,
      Function<List<I>, List<O>> batchFunction,
      int maxBatch,
      long maxDelayMs,
      BatchListener listener) {
    if (maxBatch < 1 || maxDelayMs < 0) {
      throw new IllegalArgumentException("maxBatch >= 1 and maxDelayMs >= 0 required");
    }
    this.batchFunction = batchFunction;
    this.maxBatch = maxBatch;
    this.maxDelayNanos = TimeUnit.MILLISECONDS.toNanos(maxDelayMs);
    this.listener = listener;
    this.worker = new Thread(this::loop, name);
    worker.setDaemon(true);
    worker.start();
  }

  /** Queues one input; the future completes with its output or the batch's exception. */
  public CompletableFuture<O> submit(I input) {
    CompletableFuture<O> f = new CompletableFuture<>();
    if (!running) {
      f.completeExceptionally(new IllegalStateException("batcher is closed"));
      return f;
    }
    queue.add(new Request<>(input, f, System.nanoTime()));
    return f;
  }

  public int queueDepth() {
    return queue.size();
  }

  /** Total time the worker has spent running batches, for utilisation. */
  public long busyNanos() {
    return busyNanos;
  }

  private void loop() {
    List<Request<I, O>> batch = new ArrayList<>(maxBatch);
    while (running || !queue.isEmpty()) {
      try {
        Request<I, O> first = queue.poll(100, TimeUnit.MILLISECONDS);
        if (first == null) {
          continue;
        }
        batch.add(first);
        long deadline = first.queuedNanos() + maxDelayNanos;
        while (batch.size() < maxBatch) {
          long wait = deadline - System.nanoTime();
          Request<I, O> next = wait > 0 ? queue.poll(wait, TimeUnit.NANOSECONDS) : queue.poll();
          if (next == null) {
            break;
          }
          batch.add(next);
        }
        runBatch(batch);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      } finally {
        batch.clear();
      }
    }
    Request<I, O> left;
    while ((left = queue.poll()) != null) {
      left.result().completeExceptionally(new IllegalStateException("batcher closed"));
    }
  }

  private void runBatch(List<Request<I, O>> batch) {
    long start = System.nanoTime();
    double oldestQueueMs = (start - batch.get(0).queuedNanos()) / 1e6;
    List<I> inputs = new ArrayList<>(batch.size());
    for (Request<I, O> r : batch) {
      inputs.add(r.input());
    }
    try {
      List<O> outputs = batchFunction.apply(inputs);
      if (outputs.size() != batch.size()) {
        throw new IllegalStateException(
            "batch function returned " + outputs.size() + " results for " + batch.size());
      }
      long end = System.nanoTime();
      busyNanos += end - start;
      listener.onBatch(batch.size(), oldestQueueMs, (end - start) / 1e6);
      for (int i = 0; i < batch.size(); i++) {
        batch.get(i).result().complete(outputs.get(i));
      }
    } catch (RuntimeException e) {
      busyNanos += System.nanoTime() - start;
      LOG.warn("batch of {} failed: {}", batch.size(), e.toString());
      for (Request<I, O> r : batch) {
        r.result().completeExceptionally(e);
      }
    }
  }

  @Override
  public void close() {
    running = false;
    try {
      worker.join(TimeUnit.SECONDS.toMillis(30));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
