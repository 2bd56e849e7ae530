package io.qoiflow.simulator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.qoiflow.records.CorruptionLabel;
import io.qoiflow.records.DType;
import io.qoiflow.records.LabelledSample;
import io.qoiflow.records.Modality;
import io.qoiflow.records.ObjectState;
import io.qoiflow.records.QaPair;
import io.qoiflow.records.SensorFrame;
import io.qoiflow.schemas.SingleObjectSerde;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.junit.jupiter.api.Test;

class SimulatorTest {
  private static final SingleObjectSerde<LabelledSample> SERDE =
      SingleObjectSerde.forClass(LabelledSample.class);

  @Test
  void sameSeedSameSamplesDifferentSeedDifferentSamples() {
    Simulator a = new Simulator(42, CorruptionSpec.random());
    Simulator b = new Simulator(42, CorruptionSpec.parse("random"));
    Simulator c = new Simulator(43, CorruptionSpec.random());
    for (int i = 0; i < 20; i++) {
      byte[] x = SERDE.encode(a.next());
      assertThat(SERDE.encode(b.next())).isEqualTo(x);
      assertThat(SERDE.encode(c.next())).isNotEqualTo(x);
    }
    // Random access gives the same sample as the sequence.
    assertThat(SERDE.encode(new Simulator(42, CorruptionSpec.random()).sample(7)))
        .isEqualTo(SERDE.encode(sampleAt(new Simulator(42, CorruptionSpec.random()), 7)));
  }

  private static LabelledSample sampleAt(Simulator s, int index) {
    LabelledSample x = null;
    for (int i = 0; i <= index; i++) {
      x = s.next();
    }
    return x;
  }

  @Test
  void framesHaveTheDocumentedShapesAndDtypes() {
    LabelledSample s = new Simulator(1, CorruptionSpec.clean()).next();
    assertThat(s.getFrames()).hasSize(5);
    for (SensorFrame f : s.getFrames()) {
      List<Integer> shape =
          switch (f.getModality()) {
            case CAMERA -> List.of(3, 48, 48);
            case DEPTH -> List.of(1, 48, 48);
            case MMWAVE -> List.of(2, 32, 32);
            case LIDAR -> List.of(2, 16, 128);
            case AUDIO -> List.of(2, 32, 48);
          };
      DType dtype =
          switch (f.getModality()) {
            case CAMERA -> DType.UINT8;
            case DEPTH -> DType.UINT16;
            default -> DType.FLOAT32;
          };
      int size = dtype == DType.UINT8 ? 1 : dtype == DType.UINT16 ? 2 : 4;
      assertThat(f.getShape()).isEqualTo(shape);
      assertThat(f.getDtype()).isEqualTo(dtype);
      assertThat(f.getPayload().remaining())
          .isEqualTo(shape.stream().reduce(size, (x, y) -> x * y));
      float[] v = Frames.values(f);
      for (float x : v) {
        assertThat(Float.isFinite(x)).isTrue();
      }
    }
  }

  @Test
  void sameScenesAndCleanFramesUnderEveryCorruptionSpec() {
    LabelledSample clean = new Simulator(5, CorruptionSpec.clean()).sample(3);
    LabelledSample cam = new Simulator(5, CorruptionSpec.parse("camera:noise:1")).sample(3);
    assertThat(cam.getTruth().getObjects()).isEqualTo(clean.getTruth().getObjects());
    for (int m = 1; m < 5; m++) {
      assertThat(cam.getFrames().get(m)).isEqualTo(clean.getFrames().get(m));
    }
    assertThat(cam.getFrames().get(0)).isNotEqualTo(clean.getFrames().get(0));
  }

  @Test
  void everyCorruptionTypeChangesOnlyItsFrameAndIsLabelled() {
    Simulator cleanSim = new Simulator(9, CorruptionSpec.clean());
    for (Modality m : Modality.values()) {
      for (CorruptionType t : CorruptionType.framesTypes(m)) {
        String spec = m.name().toLowerCase(Locale.ROOT) + ":" + t.label + ":0.5-0.8";
        Simulator sim = new Simulator(9, CorruptionSpec.parse(spec));
        for (int i = 0; i < 5; i++) {
          LabelledSample clean = cleanSim.sample(i);
          LabelledSample bad = sim.sample(i);
          List<CorruptionLabel> labels = bad.getTruth().getCorruptions();
          assertThat(labels).hasSize(1);
          assertThat(labels.get(0).getModality()).isEqualTo(m);
          assertThat(labels.get(0).getType()).isEqualTo(t.label);
          assertThat(labels.get(0).getLevel()).isBetween(0.5, 0.8);
          for (int k = 0; k < 5; k++) {
            SensorFrame cf = clean.getFrames().get(k);
            SensorFrame bf = bad.getFrames().get(k);
            float[] a = Frames.values(cf);
            float[] b = Frames.values(bf);
            if (cf.getModality() == m) {
              assertThat(meanAbsDiff(a, b)).as("%s %s changes its frame", m, t).isGreaterThan(0);
            } else {
              assertThat(b).as("%s %s leaves %s alone", m, t, cf.getModality()).isEqualTo(a);
            }
          }
        }
      }
    }
    assertThat(new Simulator(9, CorruptionSpec.clean()).sample(0).getTruth().getCorruptions())
        .isEmpty();
  }

  @Test
  void corruptionHurtsMoreAtHigherLevels() {
    for (Modality m : Modality.values()) {
      for (CorruptionType t : CorruptionType.framesTypes(m)) {
        String name = m.name().toLowerCase(Locale.ROOT) + ":" + t.label + ":";
        double lo = 0;
        double hi = 0;
        for (int i = 0; i < 10; i++) {
          float[] c = frameOf(new Simulator(4, CorruptionSpec.clean()).sample(i), m);
          lo +=
              meanAbsDiff(
                  c, frameOf(new Simulator(4, CorruptionSpec.parse(name + "0.2")).sample(i), m));
          hi +=
              meanAbsDiff(
                  c, frameOf(new Simulator(4, CorruptionSpec.parse(name + "1.0")).sample(i), m));
        }
        assertThat(hi).as("%s %s level 1 vs 0.2", m, t).isGreaterThan(lo);
      }
    }
  }

  @Test
  void offProducesNoFrame() {
    Simulator sim = new Simulator(3, CorruptionSpec.parse("depth:off,audio:off"));
    for (int i = 0; i < 5; i++) {
      LabelledSample s = sim.next();
      Set<Modality> present = new HashSet<>();
      for (SensorFrame f : s.getFrames()) {
        present.add(f.getModality());
      }
      assertThat(present)
          .containsExactlyInAnyOrder(Modality.CAMERA, Modality.MMWAVE, Modality.LIDAR);
      assertThat(s.getTruth().getCorruptions())
          .extracting(
              CorruptionLabel::getModality, CorruptionLabel::getType, CorruptionLabel::getLevel)
          .containsExactly(
              org.assertj.core.groups.Tuple.tuple(Modality.DEPTH, "off", 1.0),
              org.assertj.core.groups.Tuple.tuple(Modality.AUDIO, "off", 1.0));
    }
  }

  @Test
  void randomMixHasCleanSamplesOutagesAndEveryType() {
    Simulator sim = new Simulator(11, CorruptionSpec.random());
    int allClean = 0;
    int n = 400;
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < n; i++) {
      LabelledSample s = sim.next();
      List<CorruptionLabel> cs = s.getTruth().getCorruptions();
      if (cs.isEmpty()) {
        allClean++;
      }
      assertThat(s.getFrames()).isNotEmpty();
      for (CorruptionLabel c : cs) {
        seen.add(c.getModality() + ":" + c.getType());
        assertThat(c.getLevel()).isGreaterThan(0).isLessThanOrEqualTo(1);
      }
    }
    assertThat(allClean / (double) n).isBetween(0.12, 0.30);
    for (Modality m : Modality.values()) {
      assertThat(seen).contains(m + ":off");
      for (CorruptionType t : CorruptionType.framesTypes(m)) {
        String key = m.name().toLowerCase(Locale.ROOT) + ":" + t.label;
        // Held-out types never occur in the training mix; every other type does.
        if (CorruptionSpec.HELD_OUT.contains(key)) {
          assertThat(seen).doesNotContain(m + ":" + t.label);
        } else {
          assertThat(seen).contains(m + ":" + t.label);
        }
      }
    }
    assertThat(CorruptionSpec.HELD_OUT).isNotEmpty();
  }

  @Test
  void alternativesDrawOneSpecPerSampleAndLabelIt() {
    String spec = "lidar:dropout:0.6-1.0|mmwave:noise:0.6-1.0|camera:blur:0.5-1.0,depth:off|clean";
    CorruptionSpec parsed = CorruptionSpec.parse(spec);
    assertThat(parsed.alternatives()).isEqualTo(4);
    assertThat(parsed.isClean()).isFalse();
    assertThat(parsed.toString()).isEqualTo(spec);
    Simulator sim = new Simulator(13, parsed);
    int[] counts = new int[4];
    int n = 400;
    for (int i = 0; i < n; i++) {
      LabelledSample s = sim.next();
      List<String> labels =
          s.getTruth().getCorruptions().stream()
              .map(c -> c.getModality() + ":" + c.getType())
              .toList();
      Set<Modality> present = new HashSet<>();
      s.getFrames().forEach(f -> present.add(f.getModality()));
      if (labels.equals(List.of("LIDAR:dropout"))) {
        counts[0]++;
      } else if (labels.equals(List.of("MMWAVE:noise"))) {
        counts[1]++;
      } else if (labels.equals(List.of("CAMERA:blur", "DEPTH:off"))) {
        counts[2]++;
        assertThat(present).doesNotContain(Modality.DEPTH);
      } else {
        assertThat(labels).isEmpty();
        assertThat(present).hasSize(5);
        counts[3]++;
      }
      for (CorruptionLabel c : s.getTruth().getCorruptions()) {
        double lo = c.getType().equals("blur") ? 0.5 : c.getType().equals("off") ? 1.0 : 0.6;
        assertThat(c.getLevel()).isBetween(lo, 1.0);
      }
      // The drawn corruption is a pure function of (seed, index, spec): random access agrees.
      if (i < 20) {
        assertThat(SERDE.encode(new Simulator(13, parsed).sample(i))).isEqualTo(SERDE.encode(s));
      }
    }
    for (int c : counts) {
      assertThat(c / (double) n).isBetween(0.17, 0.33);
    }
    // The scene of a sample does not depend on which alternative it drew.
    assertThat(new Simulator(13, parsed).sample(5).getTruth().getObjects())
        .isEqualTo(new Simulator(13, CorruptionSpec.clean()).sample(5).getTruth().getObjects());
  }

  @Test
  void aSingleAlternativeDrawsExactlyAsAPlainSpec() {
    // One alternative adds no draw (the level is the stream's first double), so datasets written
    // before alternatives existed stay reproducible; with two, the alternative is drawn first.
    java.util.SplittableRandom ref = new java.util.SplittableRandom(7);
    double first = ref.nextDouble();
    List<Corruption> plain =
        CorruptionSpec.parse("camera:noise:0.2-0.9").draw(new java.util.SplittableRandom(7));
    assertThat(plain)
        .containsExactly(new Corruption(Modality.CAMERA, CorruptionType.NOISE, 0.2 + 0.7 * first));
    ref = new java.util.SplittableRandom(7);
    int pick = ref.nextInt(2);
    double level = 0.2 + 0.7 * ref.nextDouble();
    List<Corruption> mixed =
        CorruptionSpec.parse("camera:noise:0.2-0.9|lidar:noise:0.2-0.9")
            .draw(new java.util.SplittableRandom(7));
    assertThat(mixed)
        .containsExactly(
            new Corruption(
                pick == 0 ? Modality.CAMERA : Modality.LIDAR, CorruptionType.NOISE, level));
    assertThat(CorruptionSpec.parse("random|random").isRandom()).isFalse();
    assertThat(CorruptionSpec.parse("random").isRandom()).isTrue();
    assertThat(CorruptionSpec.parse("clean|clean").isClean()).isTrue();
  }

  @Test
  void malformedAlternativesAreRejectedWithTheirPosition() {
    assertThatThrownBy(() -> CorruptionSpec.parse("lidar:dropout:0.5||clean"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("alternative 2 of 3 is empty");
    assertThatThrownBy(() -> CorruptionSpec.parse("lidar:dropout:0.5|"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("alternative 2 of 2 is empty");
    assertThatThrownBy(() -> CorruptionSpec.parse("clean|radar:noise:0.5"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("unknown modality 'radar'")
        .hasMessageContaining("alternative 2 'radar:noise:0.5'");
    assertThatThrownBy(() -> CorruptionSpec.parse("camera:fog:0.5|clean"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("unknown corruption type 'fog'");
    assertThatThrownBy(() -> CorruptionSpec.parse("clean|lidar:dropout:1.5"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("must be 0 <= LO <= HI <= 1");
    assertThatThrownBy(() -> CorruptionSpec.parse("random,camera:noise:1"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("must stand alone");
    assertThatThrownBy(() -> CorruptionSpec.parse("camera:noise:-|clean"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("bad level range");
  }

  @Test
  void corruptionSpecRejectsNonsense() {
    assertThatThrownBy(() -> CorruptionSpec.parse("camera:missing:0.5"))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> CorruptionSpec.parse("radar:noise:0.5"))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> CorruptionSpec.parse("camera:noise:0.8-0.2"))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> CorruptionSpec.parse("camera:noise"))
        .isInstanceOf(IllegalArgumentException.class);
    assertThat(CorruptionSpec.parse("clean").isClean()).isTrue();
    assertThat(
            CorruptionSpec.parse("camera:lowlight:0.6-1.0,depth:noise:0-0.3,audio:off").isClean())
        .isFalse();
  }

  @Test
  void groundTruthIsConsistent() {
    Simulator sim = new Simulator(21, CorruptionSpec.clean());
    Set<String> answers = new HashSet<>(Questions.vocabulary());
    int withDistractors = 0;
    for (int i = 0; i < 300; i++) {
      LabelledSample s = sim.next();
      List<ObjectState> objs = s.getTruth().getObjects();
      ObjectState t = s.getTruth().getTarget();
      assertThat(objs.get(0)).isEqualTo(t);
      assertThat(objs).hasSizeBetween(1, 4);
      if (objs.size() > 1) {
        withDistractors++;
      }
      for (ObjectState o : objs) {
        assertThat(Math.abs(o.getXCm())).isLessThanOrEqualTo(300);
        assertThat(Math.abs(o.getYCm())).isLessThanOrEqualTo(300);
        assertThat(o.getStatus()).isIn("moving", "stopped", "parked");
        assertThat(o.getClassName()).isEqualTo(ObjectClass.values()[o.getClassIndex()].label);
        if (o != t) {
          assertThat(o.getClassIndex()).isNotEqualTo(t.getClassIndex());
          assertThat(Rig.range(o.getXCm(), o.getYCm()))
              .isGreaterThanOrEqualTo(Rig.range(t.getXCm(), t.getYCm()) + Scene.RANGE_MARGIN_CM);
        }
        boolean still = o.getVxCmS() == 0 && o.getVyCmS() == 0;
        assertThat(still).isEqualTo(!o.getStatus().equals("moving"));
      }
      List<QaPair> qs = s.getTruth().getQuestions();
      assertThat(qs).extracting(QaPair::getQuestionType).containsExactlyElementsOf(Questions.TYPES);
      for (QaPair q : qs) {
        assertThat(answers).contains(q.getAnswer());
      }
    }
    assertThat(withDistractors).isGreaterThan(100);
  }

  @Test
  void depthSeesTheTargetAtItsDistance() {
    // The depth camera's nearest object pixel matches the target's true distance (range sensor).
    Simulator sim = new Simulator(8, CorruptionSpec.clean());
    int ok = 0;
    for (int i = 0; i < 50; i++) {
      LabelledSample s = sim.next();
      float[] depth = Frames.values(s.getFrames().get(1));
      double[] f = Features.depth(depth);
      if (f[11] > 0) {
        ok++;
      }
    }
    assertThat(ok).isGreaterThan(45);
  }

  static float[] frameOf(LabelledSample s, Modality m) {
    return Features.frame(s, m);
  }

  static double meanAbsDiff(float[] a, float[] b) {
    double s = 0;
    for (int i = 0; i < a.length; i++) {
      s += Math.abs(a[i] - b[i]);
    }
    return s / a.length;
  }

  @Test
  void framesDecodeToWhatWasRendered() {
    float[] v = new float[Frames.elements(Modality.DEPTH)];
    Arrays.fill(v, 1234f);
    v[5] = 65535f;
    SensorFrame f = Frames.frame("r", Modality.DEPTH, 0, 0, v);
    assertThat(Frames.values(f)).isEqualTo(v);
  }
}
