package io.qoiflow.operators.functions;

import io.qoiflow.engine.EngineSample;
import io.qoiflow.engine.SampleResult;
import io.qoiflow.engine.qa.QaEngine;
import io.qoiflow.engine.qa.QaPolicy;
import io.qoiflow.operators.deadletter.Outcome;
import io.qoiflow.operators.inference.EngineService;
import io.qoiflow.operators.qa.QaService;
import io.qoiflow.records.FrameSet;
import io.qoiflow.records.Modality;
import io.qoiflow.records.QaAnswer;
import io.qoiflow.records.QaQuestion;
import io.qoiflow.records.SensorFrame;
import io.qoiflow.schemas.DeadLetters;
import io.qoiflow.schemas.RejectReason;
import io.qoiflow.schemas.SingleObjectSerde;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.streaming.api.functions.async.ResultFuture;
import org.apache.flink.streaming.api.functions.async.RichAsyncFunction;

/**
 * Answers the questions attached to a FrameSet: the JVM's shared ADMN engine (the same
 * micro-batched service as the inference operator) gives the camera's QoI, which picks the camera
 * or the LiDAR prefix; the set's budget picks N; the QA engine decodes on its own worker thread.
 * Completes with one outcome per question, an answer or a dead letter, so no question vanishes.
 */
public final class AsyncQaFunction extends RichAsyncFunction<FrameSet, Outcome<QaAnswer>> {
  private static final long serialVersionUID = 1L;

  private final EngineService.Config admnConfig;
  private final QaService.Config qaConfig;
  private transient EngineService admn;
  private transient QaService qa;
  private transient int cameraIndex;
  private transient SingleObjectSerde<QaQuestion> questionSerde;

  public AsyncQaFunction(EngineService.Config admnConfig, QaService.Config qaConfig) {
    this.admnConfig = admnConfig;
    this.qaConfig = qaConfig;
  }

  @Override
  public void open(OpenContext openContext) {
    admn = EngineService.acquire(admnConfig);
    qa = QaService.acquire(qaConfig);
    cameraIndex = admn.engine().manifest().modalities().indexOf("camera");
    questionSerde = SingleObjectSerde.forClass(QaQuestion.class);
  }

  @Override
  public void asyncInvoke(FrameSet set, ResultFuture<Outcome<QaAnswer>> result) {
    long submitted = System.nanoTime();
    EngineSample sample;
    try {
      double budget = set.getBudgetFraction() == null ? 1.0 : set.getBudgetFraction();
      sample = EngineSample.of(set, budget);
    } catch (RuntimeException e) {
      result.complete(rejectAll(set, RejectReason.INFERENCE_ERROR, e.toString()));
      return;
    }
    admn.submit(sample)
        .thenCompose(r -> qa.submit(() -> answerAll(set, r, submitted)))
        .whenComplete(
            (answers, error) -> {
              if (error != null) {
                result.complete(rejectAll(set, RejectReason.INFERENCE_ERROR, error.toString()));
              } else {
                result.complete(answers);
              }
            });
  }

  private List<Outcome<QaAnswer>> answerAll(FrameSet set, SampleResult admnResult, long t0) {
    QaEngine engine = qa.engine();
    QaPolicy policy = engine.policy();
    float camQoi = cameraIndex >= 0 ? admnResult.qoi()[cameraIndex] : Float.NaN;
    Map<Modality, SensorFrame> frames = new EnumMap<>(Modality.class);
    if (set.getCamera() != null && !set.getMissing().contains(Modality.CAMERA)) {
      frames.put(Modality.CAMERA, set.getCamera());
    }
    if (set.getLidar() != null && !set.getMissing().contains(Modality.LIDAR)) {
      frames.put(Modality.LIDAR, set.getLidar());
    }
    List<Outcome<QaAnswer>> out = new ArrayList<>(set.getQuestions().size());
    if (frames.isEmpty()) {
      return rejectAll(
          set, RejectReason.INFERENCE_ERROR, "no camera or LiDAR frame to answer from");
    }
    Modality m =
        policy.modality(
            QaPolicy.Kind.QOI,
            camQoi,
            frames.containsKey(Modality.CAMERA),
            frames.containsKey(Modality.LIDAR));
    int n = policy.connectedBlocks(set.getBudgetFraction());
    QaEngine.Prefix prefix;
    try {
      prefix = engine.prefix(m, frames.get(m));
    } catch (RuntimeException e) {
      return rejectAll(set, RejectReason.INFERENCE_ERROR, "QA prefix: " + e);
    }
    for (QaQuestion q : set.getQuestions()) {
      try {
        QaEngine.Answer a = engine.answer(q.getText(), prefix, n);
        out.add(
            Outcome.ok(
                QaAnswer.newBuilder()
                    .setQuestionId(q.getQuestionId())
                    .setRigId(set.getRigId())
                    .setCaptureTime(set.getCaptureTime())
                    .setQuestion(q.getText())
                    .setAnswer(a.text())
                    .setModalityUsed(a.modality())
                    .setConnectedBlocks(a.connectedBlocks())
                    .setFlops(a.flops())
                    .setModelVersion(engine.version())
                    .setLatencyMs((System.nanoTime() - t0) / 1e6)
                    .build()));
      } catch (RuntimeException e) {
        out.add(reject(set, q, RejectReason.INFERENCE_ERROR, "QA: " + e.getMessage()));
      }
    }
    return out;
  }

  @Override
  public void timeout(FrameSet set, ResultFuture<Outcome<QaAnswer>> result) {
    result.complete(
        rejectAll(set, RejectReason.INFERENCE_TIMEOUT, "no answer within the async timeout"));
  }

  private List<Outcome<QaAnswer>> rejectAll(FrameSet set, String reason, String message) {
    List<Outcome<QaAnswer>> out = new ArrayList<>();
    for (QaQuestion q : set.getQuestions()) {
      out.add(reject(set, q, reason, message));
    }
    return out;
  }

  private Outcome<QaAnswer> reject(FrameSet set, QaQuestion q, String reason, String message) {
    return Outcome.rejected(
        DeadLetters.of(
            questionSerde.encode(q),
            "",
            -1,
            -1,
            reason,
            "question "
                + q.getQuestionId()
                + " on FrameSet "
                + set.getRigId()
                + "@"
                + set.getCaptureTime().toEpochMilli()
                + ": "
                + message,
            System.currentTimeMillis()));
  }

  @Override
  public void close() {
    if (qa != null) {
      qa.release();
      qa = null;
    }
    if (admn != null) {
      admn.release();
      admn = null;
    }
  }
}
