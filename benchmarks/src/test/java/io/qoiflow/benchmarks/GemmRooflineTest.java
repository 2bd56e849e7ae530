package io.qoiflow.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.onnxruntime.OrtSession;
import org.junit.jupiter.api.Test;

/** The hand-written MatMul graph loads in ONNX Runtime and multiplies. */
class GemmRooflineTest {

  @Test
  void matMulGraphComputesTheProductForAnyShape() throws Exception {
    try (OrtSession s = GemmRoofline.openMatMul()) {
      for (int[] mkn : new int[][] {{3, 5, 2}, {7, 1, 4}}) {
        int m = mkn[0];
        int k = mkn[1];
        int n = mkn[2];
        float[] a = new float[m * k];
        float[] b = new float[k * n];
        for (int i = 0; i < a.length; i++) {
          a[i] = i * 0.5f - 1;
        }
        for (int i = 0; i < b.length; i++) {
          b[i] = 2 - i * 0.25f;
        }
        float[] y = GemmRoofline.multiply(s, a, b, m, k, n);
        for (int i = 0; i < m; i++) {
          for (int j = 0; j < n; j++) {
            float e = 0;
            for (int p = 0; p < k; p++) {
              e += a[i * k + p] * b[p * n + j];
            }
            assertThat(y[i * n + j]).as("y[%d,%d]", i, j).isCloseTo(e, within(1e-4f));
          }
        }
      }
    }
  }
}
