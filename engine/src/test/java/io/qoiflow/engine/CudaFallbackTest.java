package io.qoiflow.engine;

import static org.assertj.core.api.Assertions.assertThat;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtProvider;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * On a machine without CUDA (this one), asking for CUDA falls back to the CPU with one log line,
 * and results equal a CPU engine's. On a CUDA machine with {@code -Pcuda} the provider is CUDA.
 */
class CudaFallbackTest {

  @Test
  void cudaOrAutoWithoutAGpuFallsBackToCpuAndLogsOnce() {
    boolean cudaUsable = OrtRuntime.cudaUnavailableReason() == null;
    int logsBefore = OrtRuntime.CUDA_FALLBACK_LOGS.get();
    try (InferenceEngine cuda =
            InferenceEngine.open(ModelLocator.defaultModel(), ExecutionProvider.CUDA);
        InferenceEngine auto =
            InferenceEngine.open(ModelLocator.defaultModel(), ExecutionProvider.AUTO);
        InferenceEngine cpu =
            InferenceEngine.open(ModelLocator.defaultModel(), ExecutionProvider.CPU)) {
      if (cudaUsable) {
        assertThat(cuda.provider()).isEqualTo(ExecutionProvider.CUDA);
        assertThat(auto.provider()).isEqualTo(ExecutionProvider.CUDA);
        return;
      }
      assertThat(OrtEnvironment.getAvailableProviders()).contains(OrtProvider.CPU);
      assertThat(cuda.provider()).isEqualTo(ExecutionProvider.CPU);
      assertThat(auto.provider()).isEqualTo(ExecutionProvider.CPU);
      // Logged once for the JVM, not once per engine or per session.
      assertThat(OrtRuntime.CUDA_FALLBACK_LOGS.get()).isEqualTo(Math.max(1, logsBefore));

      Random rnd = new Random(1);
      List<EngineSample> batch = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        batch.add(RandomFrames.sample(cpu.manifest(), rnd, 0.8, 0.5));
      }
      List<SampleResult> a = cuda.infer(batch, Policy.FULL);
      List<SampleResult> b = cpu.infer(batch, Policy.FULL);
      for (int i = 0; i < batch.size(); i++) {
        assertThat(a.get(i).xCm()).isEqualTo(b.get(i).xCm());
        assertThat(a.get(i).classProbabilities()).containsExactly(b.get(i).classProbabilities());
      }
    }
  }
}
