package io.qoiflow.simulator;

import io.qoiflow.records.CorruptionLabel;
import io.qoiflow.records.GroundTruth;
import io.qoiflow.records.LabelledSample;
import io.qoiflow.records.Modality;
import io.qoiflow.records.ObjectState;
import io.qoiflow.records.QaPair;
import io.qoiflow.records.SensorFrame;
import io.qoiflow.simulator.render.AudioRenderer;
import io.qoiflow.simulator.render.CameraDepthRenderer;
import io.qoiflow.simulator.render.Corruptor;
import io.qoiflow.simulator.render.LidarRenderer;
import io.qoiflow.simulator.render.MmwaveRenderer;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * The five-modality sensor world. {@code new Simulator(seed, spec).next()} yields a deterministic
 * sequence of independent labelled samples: sample i depends only on (seed, i) and the spec. The
 * scene and clean sensor noise of sample i do not depend on the spec, so the same seed under
 * different corruption specs gives the same scenes. Not thread-safe (renderers reuse buffers).
 */
public final class Simulator {
  /** Capture time of sample 0: 2026-01-01T00:00:00Z; samples are 100 ms apart. */
  public static final long EPOCH_MS = 1_767_225_600_000L;

  public static final long TICK_MS = 100;
  public static final String DEFAULT_RIG = "sim-0";

  static final long STREAM_SCENE = 1;
  static final long STREAM_CORRUPTION = 2;
  static final long STREAM_QUESTIONS = 3;
  static final long STREAM_SENSOR = 10;
  static final long STREAM_CORRUPTION_NOISE = 20;

  private final long seed;
  private final CorruptionSpec spec;
  private final String rigId;
  private long nextIndex;

  private final CameraDepthRenderer cameraDepth = new CameraDepthRenderer();
  private final MmwaveRenderer mmwave = new MmwaveRenderer();
  private final LidarRenderer lidar = new LidarRenderer();
  private final AudioRenderer audio = new AudioRenderer();
  private final Corruptor corruptor = new Corruptor();
  private final Map<Modality, float[]> buffers = new EnumMap<>(Modality.class);

  public Simulator(long seed, CorruptionSpec spec) {
    this(seed, spec, DEFAULT_RIG);
  }

  public Simulator(long seed, CorruptionSpec spec, String rigId) {
    this.seed = seed;
    this.spec = spec;
    this.rigId = rigId;
    for (Modality m : Modality.values()) {
      buffers.put(m, new float[Frames.elements(m)]);
    }
  }

  public long seed() {
    return seed;
  }

  public CorruptionSpec spec() {
    return spec;
  }

  /** The next sample of the sequence (index 0, 1, 2, ...). */
  public LabelledSample next() {
    return sample(nextIndex++);
  }

  /** The scene of sample {@code index} (what {@link #sample} renders). */
  public Scene scene(long index) {
    return Scene.random(Rng.stream(seed, index, STREAM_SCENE));
  }

  /** Sample {@code index} of this seed, independent of what was generated before. */
  public LabelledSample sample(long index) {
    Scene scene = scene(index);
    List<Corruption> corruptions = spec.draw(Rng.stream(seed, index, STREAM_CORRUPTION));
    List<QaPair> questions = Questions.generate(scene, Rng.stream(seed, index, STREAM_QUESTIONS));
    List<SensorFrame> frames =
        render(scene, corruptions, seed, index, EPOCH_MS + index * TICK_MS, index);
    return LabelledSample.newBuilder()
        .setSeed(seed)
        .setIndex(index)
        .setFrames(frames)
        .setTruth(groundTruth(scene, corruptions, questions))
        .build();
  }

  /**
   * Renders the frames of a scene under the given corruptions. Sensor noise comes from streams of
   * (noiseSeed, noiseIndex), one per modality, so a modality's frame does not depend on others.
   */
  public List<SensorFrame> render(
      Scene scene,
      List<Corruption> corruptions,
      long noiseSeed,
      long noiseIndex,
      long captureTime,
      long sequence) {
    EnumMap<Modality, Boolean> off = new EnumMap<>(Modality.class);
    for (Corruption c : corruptions) {
      if (c.type() == CorruptionType.OFF) {
        off.put(c.modality(), true);
      }
    }
    List<SensorFrame> frames = new ArrayList<>(5);
    boolean needCamera = !off.containsKey(Modality.CAMERA);
    boolean needDepth = !off.containsKey(Modality.DEPTH);
    if (needCamera || needDepth) {
      cameraDepth.render(
          scene,
          Rng.stream(noiseSeed, noiseIndex, STREAM_SENSOR),
          buffers.get(Modality.CAMERA),
          buffers.get(Modality.DEPTH));
    }
    for (Modality m : Modality.values()) {
      if (off.containsKey(m)) {
        continue;
      }
      float[] buf = buffers.get(m);
      switch (m) {
        case MMWAVE ->
            mmwave.render(scene, Rng.stream(noiseSeed, noiseIndex, STREAM_SENSOR + 2), buf);
        case LIDAR ->
            lidar.render(scene, Rng.stream(noiseSeed, noiseIndex, STREAM_SENSOR + 3), buf);
        case AUDIO ->
            audio.render(scene, Rng.stream(noiseSeed, noiseIndex, STREAM_SENSOR + 4), buf);
        default -> {}
      }
      var cr = Rng.stream(noiseSeed, noiseIndex, STREAM_CORRUPTION_NOISE + m.ordinal());
      for (Corruption c : corruptions) {
        if (c.modality() != m) {
          continue;
        }
        switch (m) {
          case CAMERA -> corruptor.camera(c.type(), c.level(), buf, Rig.IMG, cr);
          case DEPTH -> corruptor.depth(c.type(), c.level(), buf, Rig.IMG, cr);
          case MMWAVE ->
              corruptor.mmwave(c.type(), c.level(), buf, MmwaveRenderer.R, MmwaveRenderer.AZ, cr);
          case LIDAR ->
              corruptor.lidar(c.type(), c.level(), buf, LidarRenderer.B, LidarRenderer.A, cr);
          case AUDIO ->
              corruptor.audio(c.type(), c.level(), buf, AudioRenderer.M, AudioRenderer.T, cr);
        }
      }
      frames.add(Frames.frame(rigId, m, captureTime, sequence, buf));
    }
    return frames;
  }

  public static ObjectState state(SimObject o) {
    return ObjectState.newBuilder()
        .setClassIndex(o.cls.ordinal())
        .setClassName(o.cls.label)
        .setXCm(o.x)
        .setYCm(o.y)
        .setVxCmS(o.vx())
        .setVyCmS(o.vy())
        .setHeadingRad(o.heading)
        .setStatus(o.status.label)
        .build();
  }

  public static GroundTruth groundTruth(
      Scene scene, List<Corruption> corruptions, List<QaPair> questions) {
    List<ObjectState> objects = new ArrayList<>(scene.objects.size());
    for (SimObject o : scene.objects) {
      objects.add(state(o));
    }
    List<CorruptionLabel> labels = new ArrayList<>(corruptions.size());
    for (Corruption c : corruptions) {
      labels.add(
          CorruptionLabel.newBuilder()
              .setModality(c.modality())
              .setType(c.type().label)
              .setLevel(c.level())
              .build());
    }
    return GroundTruth.newBuilder()
        .setTarget(objects.get(0))
        .setObjects(objects)
        .setCorruptions(labels)
        .setQuestions(questions)
        .build();
  }
}
