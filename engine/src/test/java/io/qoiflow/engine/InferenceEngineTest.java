package io.qoiflow.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The engine on the real exported model (see {@link ModelLocator#defaultModel()}). */
class InferenceEngineTest {
  private static InferenceEngine engine;
  private static ModelManifest mf;

  @BeforeAll
  static void open() {
    engine = InferenceEngine.open(ModelLocator.defaultModel(), ExecutionProvider.CPU);
    mf = engine.manifest();
  }

  @AfterAll
  static void close() {
    if (engine != null) {
      engine.close();
    }
  }

  static List<Policy> policies() {
    List<Policy> out = new ArrayList<>();
    for (Policy p : Policy.values()) {
      if (!p.needsManifestEntry() || mf.policy(p.key()).isPresent()) {
        out.add(p);
      }
    }
    return out;
  }

  private static double randomBudget(Random rnd) {
    if (rnd.nextBoolean()) {
      List<Integer> pcts = new ArrayList<>(mf.budgets().keySet());
      return pcts.get(rnd.nextInt(pcts.size())) / 100.0;
    }
    double lo = (double) mf.modalityCount() / mf.totalLayers();
    return lo + (1 - lo) * rnd.nextDouble();
  }

  @Test
  void manifestDescribesAControllerPolicy() {
    assertThat(mf.policy("admn").or(() -> mf.policy("universal"))).isPresent();
    assertThat(engine.provider()).isEqualTo(ExecutionProvider.CPU);
  }

  @Test
  void noSampleEverRunsMoreThanItsBudgetAndUnchosenLayersNeverRun() {
    Random rnd = new Random(11);
    int lm = mf.layersPerModality();
    for (Policy policy : policies()) {
      for (int trial = 0; trial < 6; trial++) {
        int b = 1 + rnd.nextInt(12);
        List<EngineSample> batch = new ArrayList<>();
        for (int s = 0; s < b; s++) {
          batch.add(RandomFrames.sample(mf, rnd, 0.75, randomBudget(rnd)));
        }
        long[] before = engine.layerRunCounts();
        List<SampleResult> res = engine.infer(batch, policy);
        long[] after = engine.layerRunCounts();

        boolean[] chosenByAny = new boolean[mf.totalLayers()];
        for (int s = 0; s < b; s++) {
          SampleResult r = res.get(s);
          int budget = engine.budgetLayers(policy, batch.get(s).budgetFraction());
          assertThat(r.budgetLayers()).isEqualTo(budget);
          assertThat(r.layerCount()).as("%s sample %d", policy, s).isLessThanOrEqualTo(budget);
          int present = 0;
          for (int i = 0; i < mf.modalityCount(); i++) {
            int[] layers = r.layers()[i];
            if (r.present()[i]) {
              present++;
              assertThat(layers).as("first layer forced").startsWith(0);
            } else {
              assertThat(layers).as("missing modality gets nothing").isEmpty();
            }
            assertThat(layers).isSorted();
            for (int l : layers) {
              chosenByAny[i * lm + l] = true;
            }
          }
          // Exactly L layers whenever there are enough layers to choose from; `static` only at
          // its manifest budgets (between them it runs the largest allocation below L).
          int expected = policy == Policy.FULL ? present * lm : Math.min(budget, present * lm);
          if (policy != Policy.STATIC || mf.budgets().containsValue(budget)) {
            assertThat(r.layerCount()).as("%s sample %d layers", policy, s).isEqualTo(expected);
          }
        }
        for (int g = 0; g < chosenByAny.length; g++) {
          assertThat(after[g] - before[g])
              .as("%s layer %d run count in one batch", policy, g)
              .isEqualTo(chosenByAny[g] ? 1 : 0);
        }
      }
    }
  }

  @Test
  void batchedResultsEqualPerSampleResults() {
    Random rnd = new Random(5);
    for (Policy policy : policies()) {
      List<EngineSample> batch = new ArrayList<>();
      for (int s = 0; s < 16; s++) {
        batch.add(RandomFrames.sample(mf, rnd, 0.8, randomBudget(rnd)));
      }
      List<SampleResult> batched = engine.infer(batch, policy);
      for (int s = 0; s < batch.size(); s++) {
        SampleResult one = engine.infer(List.of(batch.get(s)), policy).get(0);
        SampleResult many = batched.get(s);
        assertThat(many.layers()).as("%s sample %d layers", policy, s).isDeepEqualTo(one.layers());
        assertThat(many.xCm()).isCloseTo(one.xCm(), within(1e-3));
        assertThat(many.yCm()).isCloseTo(one.yCm(), within(1e-3));
        for (int j = 0; j < 4; j++) {
          assertThat(many.covariance()[j])
              .isCloseTo(
                  one.covariance()[j], within(1e-4 * Math.max(1, Math.abs(one.covariance()[j]))));
        }
        for (int c = 0; c < one.classProbabilities().length; c++) {
          assertThat(many.classProbabilities()[c])
              .isCloseTo(one.classProbabilities()[c], within(1e-5f));
        }
        assertThat(many.flops()).isEqualTo(one.flops());
      }
    }
  }

  @Test
  void concurrentCallsFromSeveralThreadsGiveTheSequentialResults() throws Exception {
    Random rnd = new Random(21);
    List<List<EngineSample>> batches = new ArrayList<>();
    for (int k = 0; k < 8; k++) {
      List<EngineSample> batch = new ArrayList<>();
      for (int s = 0; s < 4; s++) {
        batch.add(RandomFrames.sample(mf, rnd, 0.8, randomBudget(rnd)));
      }
      batches.add(batch);
    }
    Policy policy = mf.policy("admn").isPresent() ? Policy.ADMN : Policy.NAIVE;
    List<List<SampleResult>> expected = new ArrayList<>();
    for (List<EngineSample> b : batches) {
      expected.add(engine.infer(b, policy));
    }
    java.util.concurrent.ExecutorService pool =
        java.util.concurrent.Executors.newFixedThreadPool(4);
    try {
      List<java.util.concurrent.Future<List<SampleResult>>> futures = new ArrayList<>();
      for (int rep = 0; rep < 3; rep++) {
        for (List<EngineSample> b : batches) {
          futures.add(pool.submit(() -> engine.infer(b, policy)));
        }
      }
      for (int f = 0; f < futures.size(); f++) {
        List<SampleResult> got = futures.get(f).get();
        List<SampleResult> want = expected.get(f % batches.size());
        for (int s = 0; s < want.size(); s++) {
          assertThat(got.get(s).layers()).isDeepEqualTo(want.get(s).layers());
          assertThat(got.get(s).xCm()).isEqualTo(want.get(s).xCm());
          assertThat(got.get(s).classProbabilities())
              .containsExactly(want.get(s).classProbabilities());
        }
      }
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void aFrameThatDoesNotFitIsRejectedNamingTheSampleBeforeAnyGraphRuns() {
    Random rnd = new Random(4);
    EngineSample good = RandomFrames.sample(mf, rnd, 1.0, 0.5);
    String cam = mf.modalities().get(0);
    int[] shape = mf.input(cam).shape().clone();
    shape[1] += 1;
    io.qoiflow.records.SensorFrame wrong =
        RandomFrames.frame(
            io.qoiflow.records.Modality.valueOf(cam.toUpperCase(java.util.Locale.ROOT)),
            shape,
            rnd);
    EngineSample bad = EngineSample.of(List.of(wrong), 0.5);
    assertThatThrownBy(() -> engine.validate(bad))
        .isInstanceOf(FrameDecoder.BadFrameException.class)
        .hasMessageContaining("shape");
    engine.validate(good);
    long runs = engine.graphRuns(mf.embedKey(1));
    assertThatThrownBy(() -> engine.infer(List.of(good, bad), Policy.NAIVE))
        .isInstanceOf(FrameDecoder.BadFrameException.class)
        .hasMessageContaining("sample 1");
    assertThat(engine.graphRuns(mf.embedKey(1))).isEqualTo(runs);
  }

  @Test
  void controllerOverlappedWithEmbedsGivesTheSameResults() {
    Random rnd = new Random(17);
    List<EngineSample> batch = new ArrayList<>();
    for (int s = 0; s < 9; s++) {
      batch.add(RandomFrames.sample(mf, rnd, 0.8, randomBudget(rnd)));
    }
    System.setProperty("qoiflow.engine.overlap", "true");
    try (InferenceEngine overlapped = InferenceEngine.open(mf.dir(), ExecutionProvider.CPU)) {
      System.clearProperty("qoiflow.engine.overlap");
      for (Policy p : policies()) {
        List<SampleResult> a = engine.infer(batch, p);
        List<SampleResult> b = overlapped.infer(batch, p);
        for (int s = 0; s < batch.size(); s++) {
          assertThat(b.get(s).layers()).isDeepEqualTo(a.get(s).layers());
          assertThat(b.get(s).xCm()).isEqualTo(a.get(s).xCm());
          assertThat(b.get(s).qoi()).containsExactly(a.get(s).qoi());
          assertThat(b.get(s).classProbabilities()).containsExactly(a.get(s).classProbabilities());
        }
      }
    } finally {
      System.clearProperty("qoiflow.engine.overlap");
    }
  }

  @Test
  void fullRunsEveryLayerAndCostsTheManifestsFullFlops() {
    Random rnd = new Random(9);
    EngineSample all = RandomFrames.sample(mf, rnd, 1.0, 1.0);
    SampleResult r = engine.infer(List.of(all), Policy.FULL).get(0);
    assertThat(r.layerCount()).isEqualTo(mf.totalLayers());
    for (float q : r.qoi()) {
      assertThat(q).isNaN();
    }
    long expected = mf.flops("fusion");
    for (int i = 0; i < mf.modalityCount(); i++) {
      expected += mf.flops(mf.embedKey(i));
      for (int l = 0; l < mf.layersPerModality(); l++) {
        expected += mf.flops(mf.layerKey(i, l));
      }
    }
    assertThat(r.flops()).isEqualTo(expected);
    float sum = 0;
    for (float p : r.classProbabilities()) {
      sum += p;
    }
    assertThat(sum).isCloseTo(1f, within(1e-4f));
  }
}
