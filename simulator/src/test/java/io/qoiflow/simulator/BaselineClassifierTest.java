package io.qoiflow.simulator;

import static org.assertj.core.api.Assertions.assertThat;

import io.qoiflow.records.LabelledSample;
import io.qoiflow.records.Modality;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Each modality alone carries class information (a ridge classifier on simple hand-made features
 * beats chance on clean data), and heavy corruption of a modality destroys most of it.
 */
class BaselineClassifierTest {
  static final int TRAIN = 1600;
  static final int TEST = 500;
  static final double CHANCE = 1.0 / ObjectClass.values().length;

  static List<LabelledSample> train;
  static List<LabelledSample> testClean;

  @BeforeAll
  static void generate() {
    train = generate(101, "clean", TRAIN);
    testClean = generate(202, "clean", TEST);
  }

  static List<LabelledSample> generate(long seed, String spec, int n) {
    Simulator sim = new Simulator(seed, CorruptionSpec.parse(spec));
    List<LabelledSample> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      out.add(sim.next());
    }
    return out;
  }

  static double[][] features(List<LabelledSample> samples, Modality m) {
    double[][] x = new double[samples.size()][];
    for (int i = 0; i < samples.size(); i++) {
      x[i] = Features.of(m, Features.frame(samples.get(i), m));
    }
    return x;
  }

  static int[] labels(List<LabelledSample> samples) {
    int[] y = new int[samples.size()];
    for (int i = 0; i < y.length; i++) {
      y[i] = samples.get(i).getTruth().getTarget().getClassIndex();
    }
    return y;
  }

  static RidgeClassifier fit(Modality m) {
    return RidgeClassifier.fit(features(train, m), labels(train), ObjectClass.values().length, 1.0);
  }

  @Test
  void everyModalityBeatsChanceCleanAndLosesUnderHeavyCorruption() {
    StringBuilder report = new StringBuilder();
    for (Modality m : Modality.values()) {
      RidgeClassifier clf = fit(m);
      double clean = clf.accuracy(features(testClean, m), labels(testClean));
      report.append(String.format(Locale.ROOT, "%-7s clean %.3f", m, clean));
      assertThat(clean).as("%s clean accuracy", m).isGreaterThan(CHANCE + 0.15);
      for (CorruptionType t : CorruptionType.framesTypes(m)) {
        String spec = m.name().toLowerCase(Locale.ROOT) + ":" + t.label + ":0.9-1.0";
        List<LabelledSample> corrupted = generate(202, spec, TEST);
        double acc = clf.accuracy(features(corrupted, m), labels(corrupted));
        report.append(String.format(Locale.ROOT, "  %s@0.9-1 %.3f", t.label, acc));
        assertThat(acc).as("%s under heavy %s", m, t.label).isLessThan(clean - 0.1);
      }
      report.append('\n');
    }
    System.out.print("baseline (chance " + String.format(Locale.ROOT, "%.3f", CHANCE) + ")\n");
    System.out.print(report);
  }
}
