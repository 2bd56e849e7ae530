package io.qoiflow.operators.functions;

import io.qoiflow.records.DeadLetter;
import io.qoiflow.records.FrameSet;
import io.qoiflow.records.Modality;
import io.qoiflow.records.QaQuestion;
import io.qoiflow.records.SensorFrame;
import io.qoiflow.schemas.DeadLetters;
import io.qoiflow.schemas.RejectReason;
import io.qoiflow.schemas.SensorContract;
import io.qoiflow.schemas.SingleObjectSerde;
import io.qoiflow.schemas.Topics;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.formats.avro.typeutils.AvroTypeInfo;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.streaming.api.functions.co.KeyedCoProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

/**
 * Joins one rig's frames (input 1) into {@link FrameSet}s per capture time and attaches questions
 * (input 2) to the set nearest their time. Keyed by rig id.
 *
 * <p>A set is emitted when every expected modality has arrived, or when the watermark passes its
 * capture time + max wait, with the missing modalities listed. A repeated (modality, sequence) is a
 * duplicate; a frame whose set can no longer be emitted is late. Both go to {@link #DEAD_LETTERS}.
 *
 * <p>A question may also arrive after its set went out complete (the question topic is read by its
 * own source, so the order is a race). Complete sets are therefore kept, without their questions,
 * until the watermark passes capture time + max wait; a question that finds one leaves on {@link
 * #QUESTION_SETS}: a copy of that set carrying just the question, for the QA branch only, so the
 * set still gets exactly one fusion result.
 *
 * <p>State per rig: the pending sets, the complete sets recently emitted, the (modality, sequence)
 * pairs seen recently, and questions waiting for a set. One event-time timer per set time cleans
 * them all, so a rig that stops sending holds no state once the watermark has passed (tests assert
 * it). Trade-offs: a duplicate that arrives after its set's timer has fired is reported as late,
 * not duplicate; keeping emitted sets costs about max wait × frame rate sets of memory per rig.
 */
public final class FrameJoinFunction
    extends KeyedCoProcessFunction<String, SensorFrame, QaQuestion, FrameSet> {
  private static final long serialVersionUID = 1L;

  public static final OutputTag<DeadLetter> DEAD_LETTERS =
      new OutputTag<>("join-dead-letters", new AvroTypeInfo<>(DeadLetter.class));

  /** Copies of already emitted sets, each with one question that arrived after it. */
  public static final OutputTag<FrameSet> QUESTION_SETS =
      new OutputTag<>("question-sets", new AvroTypeInfo<>(FrameSet.class));

  private final JoinConfig config;
  private transient MapState<Long, FrameSet> pending;
  private transient MapState<Long, FrameSet> emitted;
  private transient MapState<String, Long> seen;
  private transient MapState<String, QaQuestion> waitingQuestions;
  private transient SingleObjectSerde<SensorFrame> frameSerde;
  private transient SingleObjectSerde<QaQuestion> questionSerde;
  private transient Counter emittedComplete;
  private transient Counter emittedIncomplete;
  private transient DeadLetterSplitter.DeadLetterCounters deadLetterCounters;

  public FrameJoinFunction(JoinConfig config) {
    this.config = config;
  }

  @Override
  public void open(OpenContext openContext) {
    pending =
        getRuntimeContext()
            .getMapState(
                new MapStateDescriptor<>(
                    "pending-sets", Types.LONG, new AvroTypeInfo<>(FrameSet.class)));
    emitted =
        getRuntimeContext()
            .getMapState(
                new MapStateDescriptor<>(
                    "emitted-sets", Types.LONG, new AvroTypeInfo<>(FrameSet.class)));
    seen =
        getRuntimeContext()
            .getMapState(new MapStateDescriptor<>("seen-frames", Types.STRING, Types.LONG));
    waitingQuestions =
        getRuntimeContext()
            .getMapState(
                new MapStateDescriptor<>(
                    "waiting-questions", Types.STRING, new AvroTypeInfo<>(QaQuestion.class)));
    frameSerde = SingleObjectSerde.forClass(SensorFrame.class);
    questionSerde = SingleObjectSerde.forClass(QaQuestion.class);
    var metrics = getRuntimeContext().getMetricGroup();
    emittedComplete = metrics.counter("frameSetsComplete");
    emittedIncomplete = metrics.counter("frameSetsIncomplete");
    // Share of the sets emitted with every expected modality (1 before the first set): a set closed
    // short at its deadline lacks a modality that was not sent or came late.
    metrics.<Double, Gauge<Double>>gauge(
        "frameSetsCompleteShare",
        () -> {
          long complete = emittedComplete.getCount();
          long all = complete + emittedIncomplete.getCount();
          return all == 0 ? 1.0 : (double) complete / all;
        });
    deadLetterCounters = new DeadLetterSplitter.DeadLetterCounters(metrics);
  }

  @Override
  public void processElement1(SensorFrame frame, Context ctx, Collector<FrameSet> out)
      throws Exception {
    long t = frame.getCaptureTime().toEpochMilli();
    long watermark = ctx.timerService().currentWatermark();
    String seenKey = frame.getModality() + "#" + frame.getSequence();
    if (seen.contains(seenKey)) {
      reject(ctx, frame, RejectReason.DUPLICATE, "frame " + seenKey + " was seen already");
      return;
    }
    Long groupTime = nearest(pending, t, config.toleranceMs());
    if (groupTime == null && t + config.maxWaitMs() <= watermark) {
      reject(
          ctx,
          frame,
          RejectReason.LATE,
          "capture time " + t + " is " + (watermark - t) + " ms behind the watermark");
      return;
    }
    FrameSet set;
    if (groupTime == null) {
      groupTime = t;
      set = newSet(ctx.getCurrentKey(), t);
      ctx.timerService().registerEventTimeTimer(t + config.maxWaitMs());
      attachWaitingQuestions(set);
    } else {
      set = pending.get(groupTime);
    }
    if (frameOf(set, frame.getModality()) != null) {
      // Same modality, same time, different sequence: keep the first, report the other.
      reject(
          ctx, frame, RejectReason.DUPLICATE, frame.getModality() + " already in set " + groupTime);
      return;
    }
    seen.put(seenKey, t);
    setFrame(set, frame);
    if (isComplete(set)) {
      pending.remove(groupTime);
      emit(set, out);
      FrameSet kept = FrameSet.newBuilder(set).setQuestions(new ArrayList<>()).build();
      emitted.put(groupTime, kept);
    } else {
      pending.put(groupTime, set);
    }
  }

  @Override
  public void processElement2(QaQuestion question, Context ctx, Collector<FrameSet> out)
      throws Exception {
    long t = question.getAskedTime().toEpochMilli();
    Long groupTime = nearest(pending, t, config.questionToleranceMs());
    if (groupTime != null) {
      FrameSet set = pending.get(groupTime);
      set.getQuestions().add(question);
      pending.put(groupTime, set);
      return;
    }
    Long emittedTime = nearest(emitted, t, config.questionToleranceMs());
    if (emittedTime != null) {
      FrameSet set = emitted.get(emittedTime);
      ctx.output(
          QUESTION_SETS,
          FrameSet.newBuilder(set).setQuestions(new ArrayList<>(List.of(question))).build());
      return;
    }
    if (t + config.maxWaitMs() <= ctx.timerService().currentWatermark()) {
      rejectQuestion(ctx, question, RejectReason.LATE_QUESTION, "its scene time has passed");
      return;
    }
    waitingQuestions.put(question.getQuestionId(), question);
    ctx.timerService()
        .registerEventTimeTimer(t + config.maxWaitMs() + config.questionToleranceMs());
  }

  @Override
  public void onTimer(long timestamp, OnTimerContext ctx, Collector<FrameSet> out)
      throws Exception {
    List<Long> due = new ArrayList<>();
    for (Long groupTime : pending.keys()) {
      if (groupTime + config.maxWaitMs() <= timestamp) {
        due.add(groupTime);
      }
    }
    due.sort(Long::compare);
    for (Long groupTime : due) {
      FrameSet set = pending.get(groupTime);
      pending.remove(groupTime);
      emit(set, out);
    }
    List<Long> expiredSets = new ArrayList<>();
    for (Long groupTime : emitted.keys()) {
      if (groupTime + config.maxWaitMs() <= timestamp) {
        expiredSets.add(groupTime);
      }
    }
    for (Long groupTime : expiredSets) {
      emitted.remove(groupTime);
    }
    // Removed by key (not through the iterator) so the heap backend drops an emptied map.
    List<String> forgotten = new ArrayList<>();
    for (Map.Entry<String, Long> e : seen.entries()) {
      if (e.getValue() + config.maxWaitMs() <= timestamp) {
        forgotten.add(e.getKey());
      }
    }
    for (String key : forgotten) {
      seen.remove(key);
    }
    List<QaQuestion> expired = new ArrayList<>();
    for (QaQuestion q : waitingQuestions.values()) {
      long t = q.getAskedTime().toEpochMilli();
      if (t + config.maxWaitMs() + config.questionToleranceMs() <= timestamp) {
        expired.add(q);
      }
    }
    for (QaQuestion q : expired) {
      waitingQuestions.remove(q.getQuestionId());
      rejectQuestion(ctx, q, RejectReason.UNMATCHED_QUESTION, "no frames near its time");
    }
  }

  /** The set time in {@code sets} nearest {@code t} within {@code tolerance} (earlier on ties). */
  private static Long nearest(MapState<Long, FrameSet> sets, long t, long tolerance)
      throws Exception {
    Long best = null;
    long bestDistance = Long.MAX_VALUE;
    for (Long groupTime : sets.keys()) {
      long d = Math.abs(groupTime - t);
      if (d <= tolerance && (d < bestDistance || (d == bestDistance && groupTime < best))) {
        best = groupTime;
        bestDistance = d;
      }
    }
    return best;
  }

  private void attachWaitingQuestions(FrameSet set) throws Exception {
    long t = set.getCaptureTime().toEpochMilli();
    List<String> attached = new ArrayList<>();
    for (QaQuestion q : waitingQuestions.values()) {
      if (Math.abs(q.getAskedTime().toEpochMilli() - t) <= config.questionToleranceMs()) {
        set.getQuestions().add(q);
        attached.add(q.getQuestionId());
      }
    }
    for (String id : attached) {
      waitingQuestions.remove(id);
    }
  }

  private FrameSet newSet(String rigId, long t) {
    return FrameSet.newBuilder()
        .setRigId(rigId)
        .setCaptureTime(Instant.ofEpochMilli(t))
        .setMissing(new ArrayList<>())
        .setQuestions(new ArrayList<>())
        .setExpected(new ArrayList<>(config.expected()))
        .build();
  }

  private boolean isComplete(FrameSet set) {
    for (Modality m : config.expected()) {
      if (frameOf(set, m) == null) {
        return false;
      }
    }
    return true;
  }

  private void emit(FrameSet set, Collector<FrameSet> out) {
    EnumSet<Modality> missing = EnumSet.noneOf(Modality.class);
    for (Modality m : Modality.values()) {
      if (frameOf(set, m) == null) {
        missing.add(m);
      }
    }
    set.setMissing(new ArrayList<>(missing));
    set.setEmittedTime(Instant.now());
    if (isComplete(set)) {
      emittedComplete.inc();
    } else {
      emittedIncomplete.inc();
    }
    out.collect(set);
  }

  private void reject(Context ctx, SensorFrame frame, String reason, String message) {
    deadLetterCounters.count(reason);
    ctx.output(
        DEAD_LETTERS,
        DeadLetters.of(
            frameSerde.encode(frame),
            SensorContract.topic(frame.getModality()),
            -1,
            -1,
            reason,
            message,
            System.currentTimeMillis()));
  }

  private void rejectQuestion(Context ctx, QaQuestion q, String reason, String message) {
    deadLetterCounters.count(reason);
    ctx.output(
        DEAD_LETTERS,
        DeadLetters.of(
            questionSerde.encode(q),
            Topics.QA_QUESTIONS,
            -1,
            -1,
            reason,
            "question " + q.getQuestionId() + ": " + message,
            System.currentTimeMillis()));
  }

  public static SensorFrame frameOf(FrameSet set, Modality m) {
    return switch (m) {
      case CAMERA -> set.getCamera();
      case DEPTH -> set.getDepth();
      case MMWAVE -> set.getMmwave();
      case LIDAR -> set.getLidar();
      case AUDIO -> set.getAudio();
    };
  }

  static void setFrame(FrameSet set, SensorFrame f) {
    switch (f.getModality()) {
      case CAMERA -> set.setCamera(f);
      case DEPTH -> set.setDepth(f);
      case MMWAVE -> set.setMmwave(f);
      case LIDAR -> set.setLidar(f);
      case AUDIO -> set.setAudio(f);
    }
  }
}
