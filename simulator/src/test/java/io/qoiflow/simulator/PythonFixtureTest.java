package io.qoiflow.simulator;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.qoiflow.records.CorruptionLabel;
import io.qoiflow.records.LabelledSample;
import io.qoiflow.records.ObjectState;
import io.qoiflow.records.QaPair;
import io.qoiflow.records.SensorFrame;
import io.qoiflow.schemas.SensorContract;
import io.qoiflow.simulator.cli.SimulateCommand;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.avro.file.DataFileReader;
import org.apache.avro.specific.SpecificDatumReader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The fixture the Python reader's test decodes: {@code qoiflow simulate} writes a few samples and
 * Java records what it wrote (per-frame sums and elements, ground truth) as JSON. Run with {@code
 * -Dqoiflow.writeFixtures=true} to (re)write the committed files; otherwise this checks that the
 * committed JSON still describes what the simulator produces.
 */
class PythonFixtureTest {
  static final long SEED = 7;
  static final String SPEC = "random";
  static final int SAMPLES = 6;
  static final Path FIXTURES = Path.of("..", "model-artifacts", "training", "tests", "fixtures");

  @Test
  void fixtureDescribesWhatTheSimulatorWrites(@TempDir Path tmp) throws Exception {
    boolean write = Boolean.getBoolean("qoiflow.writeFixtures");
    Path avro = write ? FIXTURES.resolve("java_samples.avro") : tmp.resolve("s.avro");
    Files.createDirectories(avro.getParent());
    int rc =
        new CommandLine(new SimulateCommand())
            .execute(
                "--samples",
                Integer.toString(SAMPLES),
                "--seed",
                Long.toString(SEED),
                "--corruption",
                SPEC,
                "--codec",
                "deflate6",
                "--quiet",
                "--out",
                avro.toString());
    assertThat(rc).isZero();
    List<Map<String, Object>> described = new ArrayList<>();
    Simulator sim = new Simulator(SEED, CorruptionSpec.parse(SPEC));
    boolean anyOff = false;
    try (DataFileReader<LabelledSample> reader =
        new DataFileReader<>(
            new File(avro.toString()), new SpecificDatumReader<>(LabelledSample.class))) {
      for (LabelledSample s : reader) {
        // The file holds exactly the samples of new Simulator(seed, spec).
        assertThat(s).isEqualTo(sim.next());
        described.add(describe(s));
        anyOff |= s.getFrames().size() < 5;
      }
    }
    assertThat(described).hasSize(SAMPLES);
    assertThat(anyOff).as("fixture includes a sample with a modality off").isTrue();
    ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    Path jsonPath = FIXTURES.resolve("java_samples.json");
    String text = json.writeValueAsString(described);
    if (write) {
      Files.writeString(jsonPath, text + "\n");
    } else if (Files.exists(jsonPath)) {
      assertThat(json.readTree(jsonPath.toFile())).isEqualTo(json.readTree(text));
    }
  }

  static Map<String, Object> describe(LabelledSample s) {
    Map<String, Object> d = new LinkedHashMap<>();
    d.put("seed", s.getSeed());
    d.put("index", s.getIndex());
    Map<String, Object> frames = new LinkedHashMap<>();
    for (SensorFrame f : s.getFrames()) {
      float[] v = SensorContract.values(f);
      double sum = 0;
      for (float x : v) {
        sum += x;
      }
      Map<String, Object> fd = new LinkedHashMap<>();
      fd.put("shape", f.getShape());
      fd.put("dtype", f.getDtype().name());
      fd.put("sum", sum);
      fd.put("first", List.of(v[0], v[1], v[2], v[3]));
      fd.put("last", v[v.length - 1]);
      fd.put("argmax", argmax(v));
      frames.put(f.getModality().name().toLowerCase(Locale.ROOT), fd);
    }
    d.put("frames", frames);
    ObjectState t = s.getTruth().getTarget();
    Map<String, Object> truth = new LinkedHashMap<>();
    truth.put("classIndex", t.getClassIndex());
    truth.put("className", t.getClassName());
    truth.put("xCm", t.getXCm());
    truth.put("yCm", t.getYCm());
    truth.put("status", t.getStatus());
    truth.put("objects", s.getTruth().getObjects().size());
    List<List<Object>> cs = new ArrayList<>();
    for (CorruptionLabel c : s.getTruth().getCorruptions()) {
      cs.add(List.of(c.getModality().name().toLowerCase(Locale.ROOT), c.getType(), c.getLevel()));
    }
    truth.put("corruptions", cs);
    List<List<String>> qs = new ArrayList<>();
    for (QaPair q : s.getTruth().getQuestions()) {
      qs.add(List.of(q.getQuestionType(), q.getQuestion(), q.getAnswer()));
    }
    truth.put("questions", qs);
    d.put("truth", truth);
    return d;
  }

  static int argmax(float[] v) {
    int best = 0;
    for (int i = 1; i < v.length; i++) {
      if (v[i] > v[best]) {
        best = i;
      }
    }
    return best;
  }
}
