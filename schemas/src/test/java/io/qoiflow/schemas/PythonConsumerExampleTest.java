package io.qoiflow.schemas;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.qoiflow.records.FusionResult;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Python consumer example ({@code examples/python/read_results.py}) decodes the bytes the job's
 * sink writes ({@link SingleObjectSerde}, as {@code AvroSingleObjectSerializationSchema}) from the
 * {@code .avsc} files alone: marker, fingerprint (computed in Python from the canonical form) and
 * body. Python comes from {@code QOIFLOW_PYTHON} or the training venv ({@code
 * model-artifacts/training/setup_venv.sh}, which pins fastavro).
 */
class PythonConsumerExampleTest {
  static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

  @Test
  void fastavroDecodesAResultFromTheAvscAlone(@TempDir Path tmp) throws Exception {
    Path python = python();
    FusionResult result =
        (FusionResult)
            RecordFixtures.all().stream().filter(r -> r instanceof FusionResult).findFirst().get();
    Path value = tmp.resolve("result.bin");
    Files.write(value, SingleObjectSerde.forClass(FusionResult.class).encode(result));
    // A value whose fingerprint is not the schema's must be refused, not misread.
    byte[] wrong = SingleObjectSerde.forClass(FusionResult.class).encode(result);
    wrong[5] ^= 0x01;
    Path wrongValue = Files.write(tmp.resolve("wrong.bin"), wrong);

    List<String> ok = run(python, value);
    assertThat(ok).hasSize(1);
    JsonNode decoded = new ObjectMapper().readTree(ok.get(0));
    assertThat(decoded.get("rigId").asText()).isEqualTo(result.getRigId());
    assertThat(decoded.get("xCm").asDouble()).isEqualTo(result.getXCm());
    assertThat(decoded.get("className").asText()).isEqualTo(result.getClassName());
    assertThat(decoded.get("modalities")).hasSize(result.getModalities().size());
    assertThat(decoded.get("latency").get("totalMs").asDouble())
        .isEqualTo(result.getLatency().getTotalMs());

    Process p = start(python, wrongValue);
    String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).isNotZero();
    assertThat(err).contains("writer fingerprint");
  }

  static Path python() {
    String env = System.getenv("QOIFLOW_PYTHON");
    Path p = env != null ? Path.of(env) : ROOT.resolve("model-artifacts/training/.venv/bin/python");
    Assumptions.assumeTrue(
        Files.isExecutable(p),
        "no Python with fastavro: run model-artifacts/training/setup_venv.sh or set QOIFLOW_PYTHON");
    return p;
  }

  static Process start(Path python, Path value) throws Exception {
    return new ProcessBuilder(
            python.toString(),
            ROOT.resolve("examples/python/read_results.py").toString(),
            "--avsc-dir",
            ROOT.resolve("schemas/src/main/avro").toString(),
            "--record",
            "FusionResult",
            value.toString())
        .start();
  }

  static List<String> run(Path python, Path value) throws Exception {
    Process p = start(python, value);
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(err).isZero();
    return out.lines().toList();
  }
}
