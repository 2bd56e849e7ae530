package io.qoiflow.engine.qa;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.qoiflow.engine.ExecutionProvider;
import io.qoiflow.engine.ModelIntegrityException;
import io.qoiflow.engine.ModelLocator;
import io.qoiflow.records.Modality;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Java tokenizer + ONNX Runtime greedy decoding vs the Python fixtures of the committed model. */
class QaEngineParityTest {
  private static QaEngine engine;
  private static JsonNode fixtures;

  @BeforeAll
  static void open() throws Exception {
    Path dir = ModelLocator.defaultQaModel().orElseThrow();
    engine = QaEngine.open(dir, ExecutionProvider.CPU);
    fixtures = new ObjectMapper().readTree(dir.resolve("fixtures/qa_fixtures.json").toFile());
  }

  @AfterAll
  static void close() {
    engine.close();
  }

  private static float[] frame(int sample, String modality) {
    return frame(fixtures, sample, modality);
  }

  private static float[] frame(JsonNode fixtures, int sample, String modality) {
    JsonNode a = fixtures.path("frames").get(sample).path(modality);
    float[] out = new float[a.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = (float) a.get(i).asDouble();
    }
    return out;
  }

  /** Every committed QA model, not only the default: a model is shipped only with Java parity. */
  @ParameterizedTest
  @ValueSource(strings = {"mpnp-sim-v1", "mpnp-sim-v2"})
  void everyFixtureAnswerIsReproducedToken_for_token(String name) throws Exception {
    Path dir = ModelLocator.repoRoot().resolve("model-artifacts").resolve(name);
    JsonNode fixtures =
        new ObjectMapper().readTree(dir.resolve("fixtures/qa_fixtures.json").toFile());
    try (QaEngine engine = QaEngine.open(dir, ExecutionProvider.CPU)) {
      reproduces(engine, fixtures);
    }
  }

  private static void reproduces(QaEngine engine, JsonNode fixtures) {
    ObjectMapper om = new ObjectMapper();
    int cases = 0;
    double worst = 0;
    List<String> modalities = new ArrayList<>();
    for (JsonNode c : fixtures.path("cases")) {
      String m = c.path("modality").asText();
      Modality mod = Modality.valueOf(m.toUpperCase(Locale.ROOT));
      QaEngine.Prefix p = engine.prefix(mod, frame(fixtures, c.path("sample").asInt(), m));
      String q = c.path("question").asText();
      assertArrayEquals(om.convertValue(c.path("prompt_ids"), int[].class), engine.promptIds(q), q);
      QaEngine.Answer a = engine.answer(q, p, c.path("n").asInt());
      String where = m + " N=" + c.path("n").asInt() + " " + q;
      assertEquals(c.path("answer").asText(), a.text(), where);
      assertEquals(List.of(om.convertValue(c.path("answer_ids"), Integer[].class)), a.ids(), where);
      assertArrayEquals(om.convertValue(c.path("runs"), int[].class), a.runs(), where);
      assertEquals(c.path("flops").asLong(), a.flops(), where);
      float[] want = om.convertValue(c.path("first_logits"), float[].class);
      for (int i = 0; i < want.length; i++) {
        worst = Math.max(worst, Math.abs(want[i] - a.firstLogits()[i]));
      }
      if (!modalities.contains(m)) {
        modalities.add(m);
      }
      cases++;
    }
    assertTrue(cases >= 20, "fixture cases: " + cases);
    assertEquals(List.of("camera", "lidar"), modalities.stream().sorted().toList());
    assertTrue(worst < 1e-4, "largest first-step logit difference " + worst);
  }

  @Test
  void theModalityAndNChangeThePrefixTheLmSees() {
    QaEngine.Prefix cam = engine.prefix(Modality.CAMERA, frame(0, "camera"));
    QaEngine.Prefix lid = engine.prefix(Modality.LIDAR, frame(0, "lidar"));
    String q = "how many objects are there ?";
    float[] l1 = engine.answer(q, cam, 1).firstLogits();
    float[] l8 = engine.answer(q, cam, engine.config().layers()).firstLogits();
    float[] lidar = engine.answer(q, lid, engine.config().layers()).firstLogits();
    float[] none = engine.answer(q, cam, 0).firstLogits();
    assertTrue(maxDiff(l1, l8) > 1e-3);
    assertTrue(maxDiff(l8, lidar) > 1e-3);
    assertTrue(maxDiff(none, l1) > 1e-3);
    // N = 0 is the plain LM: whichever prefix, the same logits
    assertArrayEquals(none, engine.answer(q, lid, 0).firstLogits(), 1e-6f);
  }

  @Test
  void tooLongAQuestionIsRefused() {
    QaEngine.Prefix cam = engine.prefix(Modality.CAMERA, frame(0, "camera"));
    String q = String.join(" ", java.util.Collections.nCopies(60, "car"));
    assertThrows(IllegalArgumentException.class, () -> engine.answer(q, cam, 2));
  }

  @Test
  void aTamperedGraphIsRefused(@TempDir Path tmp) throws Exception {
    Path src = ModelLocator.defaultQaModel().orElseThrow();
    try (Stream<Path> files = Files.walk(src)) {
      for (Path f : (Iterable<Path>) files::iterator) {
        Path to = tmp.resolve(src.relativize(f).toString());
        if (Files.isDirectory(f)) {
          Files.createDirectories(to);
        } else {
          Files.copy(f, to);
        }
      }
    }
    Files.write(tmp.resolve("tokenizer.json"), new byte[] {' '}, StandardOpenOption.APPEND);
    assertThrows(ModelIntegrityException.class, () -> QaEngine.open(tmp, ExecutionProvider.CPU));
  }

  private static double maxDiff(float[] a, float[] b) {
    double d = 0;
    for (int i = 0; i < a.length; i++) {
      d = Math.max(d, Math.abs(a[i] - b[i]));
    }
    return d;
  }
}
