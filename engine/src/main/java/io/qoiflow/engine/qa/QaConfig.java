package io.qoiflow.engine.qa;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * The LM's shape as manifest.json's {@code config} gives it (Python {@code MpnpConfig}).
 *
 * @param vocabSize token id space
 * @param blockSize most tokens one LM run may hold
 * @param layers L, the LM's blocks; N counts the last ones that get the prefix
 * @param heads attention heads H
 * @param dim model width d
 * @param prefixTokens prefix length P per modality
 * @param loraRank LoRA rank r
 */
public record QaConfig(
    int vocabSize, int blockSize, int layers, int heads, int dim, int prefixTokens, int loraRank) {

  static QaConfig of(JsonNode c) {
    return new QaConfig(
        c.path("vocab_size").asInt(),
        c.path("block_size").asInt(),
        c.path("n_layer").asInt(),
        c.path("n_head").asInt(),
        c.path("n_embd").asInt(),
        c.path("prefix_tokens").asInt(),
        c.path("lora_rank").asInt());
  }

  public int headDim() {
    return dim / heads;
  }

  /** Floats of one sample's per-block prefix, K or V: L × H × P × hd. */
  public int prefixElements() {
    return layers * heads * prefixTokens * headDim();
  }

  /**
   * FLOPs (2 × multiply-adds of the matrix products) of one LM run over {@code t} tokens with the
   * prefix in the last {@code n} blocks, LoRA there when {@code lora}. Same formula as Python's
   * {@code mpnp.lm_run_flops}; the graph also evaluates the masked prefix and LoRA terms of
   * unconnected blocks, which this does not count (a per-block runtime would skip them).
   */
  public long lmRunFlops(int t, int n, boolean lora) {
    long d = dim;
    long perBlock = 2L * t * d * d * 4 + 2L * t * d * 4 * d * 2 + 2L * 2 * t * t * d;
    long loraBlock = 2L * 2 * ((long) t * d * loraRank + (long) t * loraRank * d);
    long prefixBlock = 2L * 2 * t * prefixTokens * d;
    long total = layers * perBlock + n * prefixBlock + (lora ? n * loraBlock : 0);
    return total + 2L * t * d * vocabSize;
  }
}
