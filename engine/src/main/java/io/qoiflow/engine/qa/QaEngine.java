package io.qoiflow.engine.qa;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.qoiflow.engine.ExecutionProvider;
import io.qoiflow.engine.FrameDecoder;
import io.qoiflow.engine.ModelIntegrityException;
import io.qoiflow.engine.ModelManifest;
import io.qoiflow.engine.OrtRuntime;
import io.qoiflow.records.Modality;
import io.qoiflow.records.SensorFrame;
import io.qoiflow.schemas.FrameSpec;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * The mPnP-LLM question answerer on ONNX Runtime: a modality's prefix graph turns a frame into the
 * per-block key/value prefix (gates applied), and the LM graph, run once per generated token (no KV
 * cache: prompts are ~15 tokens), decodes greedily up to {@code max_new_tokens}. Which blocks see
 * the prefix (the last N) and whether LoRA is on are graph inputs, so one set of graphs serves
 * every N and both modalities. Thread-safe: sessions are shared, tensors are per call.
 */
public final class QaEngine implements AutoCloseable {

  /** A modality's prefix for one frame: K and V, each L × H × P × hd floats. */
  public record Prefix(Modality modality, float[] keys, float[] values, long flops) {}

  /**
   * One answer.
   *
   * @param text generated words joined by spaces (without the end token)
   * @param ids generated token ids
   * @param runs token count of every LM run
   * @param flops prefix FLOPs plus every LM run's
   * @param modality whose prefix fed the LM
   * @param connectedBlocks N
   * @param firstLogits next-token logits of the first run (for parity checks)
   */
  public record Answer(
      String text,
      List<Integer> ids,
      int[] runs,
      long flops,
      Modality modality,
      int connectedBlocks,
      float[] firstLogits) {}

  private final Path dir;
  private final JsonNode manifest;
  private final String name;
  private final String version;
  private final QaConfig config;
  private final QaPolicy policy;
  private final WordLevelTokenizer tokenizer;
  private final String prompt;
  private final int eosId;
  private final int maxNewTokens;
  private final Map<Modality, int[]> inputShapes = new EnumMap<>(Modality.class);
  private final Map<Modality, Boolean> lora = new EnumMap<>(Modality.class);
  private final Map<Modality, Long> prefixFlops = new EnumMap<>(Modality.class);
  private final Map<Modality, OrtSession> prefixSessions = new EnumMap<>(Modality.class);
  private final Map<Integer, Long> trainFlopsByN;
  private final OrtSession lm;
  private final OrtEnvironment env;
  private final ExecutionProvider provider;

  private QaEngine(Path dir, JsonNode root, String manifestSha, ExecutionProvider requested) {
    this.dir = dir;
    this.manifest = root;
    if (!"mpnp-qa".equals(root.path("kind").asText())) {
      throw new ModelIntegrityException("manifest.json", dir + " is not an mpnp-qa model");
    }
    this.name = root.path("name").asText();
    this.version = name + "@" + manifestSha.substring(0, 12);
    this.config = QaConfig.of(root.path("config"));
    JsonNode pol = root.path("policy");
    this.policy =
        new QaPolicy(
            pol.path("camera_qoi_threshold").asDouble(0.5),
            config.layers(),
            pol.path("default_budget_fraction").asDouble(1.0));
    this.tokenizer =
        WordLevelTokenizer.load(dir.resolve(root.path("tokenizer").path("file").asText()));
    this.prompt = root.path("prompt").asText();
    this.eosId = tokenizer.id(root.path("eos").asText());
    this.maxNewTokens = root.path("max_new_tokens").asInt(8);
    Map<Integer, Long> tf = new TreeMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = root.path("train_flops_by_n").fields();
        it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      tf.put(Integer.parseInt(e.getKey()), e.getValue().asLong());
    }
    this.trainFlopsByN = Collections.unmodifiableMap(tf);
    this.env = OrtRuntime.get().env();
    this.provider = OrtRuntime.resolve(requested);
    OrtSession lmSession = null;
    try {
      Map<Modality, FrameSpec> specs = FrameSpec.readInputs(root.path("inputs"));
      for (JsonNode m : root.path("modalities")) {
        Modality mod = Modality.valueOf(m.asText().toUpperCase(Locale.ROOT));
        FrameSpec spec = specs.get(mod);
        if (spec == null) {
          throw new IllegalArgumentException(dir + ": manifest has no `inputs." + m.asText() + "`");
        }
        inputShapes.put(mod, spec.shape());
        lora.put(mod, root.path("lora").path(m.asText()).asBoolean(false));
        JsonNode g = root.path("graphs").path("prefix_" + m.asText());
        prefixFlops.put(mod, g.path("flops").asLong());
        prefixSessions.put(
            mod, OrtRuntime.get().open(dir.resolve(g.path("file").asText()), provider));
      }
      lmSession =
          OrtRuntime.get()
              .open(dir.resolve(root.path("graphs").path("lm").path("file").asText()), provider);
    } catch (OrtException e) {
      closeAll();
      throw new IllegalStateException("cannot open the QA graphs of " + dir, e);
    }
    this.lm = lmSession;
  }

  /** Opens {@code dir/manifest.json} after verifying the sha256 of every file it lists. */
  public static QaEngine open(Path dir, ExecutionProvider provider) {
    Path mf = dir.resolve("manifest.json");
    if (!Files.isRegularFile(mf)) {
      throw new ModelIntegrityException("manifest.json", "no manifest.json in " + dir);
    }
    JsonNode root;
    try {
      root = new ObjectMapper().readTree(mf.toFile());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + mf, e);
    }
    ModelManifest.verifyListedFiles(dir, root);
    return new QaEngine(dir, root, ModelManifest.sha256Hex(mf), provider);
  }

  public String name() {
    return name;
  }

  /** Model name and the first 12 hex digits of the manifest's sha256. */
  public String version() {
    return version;
  }

  public QaConfig config() {
    return config;
  }

  public QaPolicy policy() {
    return policy;
  }

  public WordLevelTokenizer tokenizer() {
    return tokenizer;
  }

  public JsonNode manifest() {
    return manifest;
  }

  public Path dir() {
    return dir;
  }

  public ExecutionProvider provider() {
    return provider;
  }

  /** Training FLOPs per N from the manifest (counted by the trainer). */
  public Map<Integer, Long> trainFlopsByN() {
    return trainFlopsByN;
  }

  /** Modalities that have a prefix graph. */
  public List<Modality> modalities() {
    return List.copyOf(prefixSessions.keySet());
  }

  /** The prefix of a frame (decoded as the schema documents). */
  public Prefix prefix(Modality m, SensorFrame frame) {
    int[] shape = inputShapes.get(m);
    if (shape == null) {
      throw new IllegalArgumentException("QA model " + name + " has no " + m + " prefix");
    }
    return prefix(m, FrameDecoder.decode(frame, shape));
  }

  /** The prefix of raw frame values in the manifest's input shape. */
  public Prefix prefix(Modality m, float[] values) {
    int[] shape = inputShapes.get(m);
    OrtSession s = prefixSessions.get(m);
    if (s == null) {
      throw new IllegalArgumentException("QA model " + name + " has no " + m + " prefix");
    }
    long[] dims = new long[shape.length + 1];
    dims[0] = 1;
    for (int i = 0; i < shape.length; i++) {
      dims[i + 1] = shape[i];
    }
    try (OnnxTensor in = OnnxTensor.createTensor(env, FloatBuffer.wrap(values), dims);
        OrtSession.Result r = s.run(Map.of("frame", in))) {
      float[] k = floats(r, "prefix_k");
      float[] v = floats(r, "prefix_v");
      if (k.length != config.prefixElements() || v.length != config.prefixElements()) {
        throw new IllegalStateException("prefix graph returned " + k.length + " floats");
      }
      return new Prefix(m, k, v, prefixFlops.get(m));
    } catch (OrtException e) {
      throw new IllegalStateException("prefix graph of " + m + " failed", e);
    }
  }

  /** The prompt's token ids for a question. */
  public int[] promptIds(String question) {
    return tokenizer.encode(prompt.replace("{q}", question));
  }

  /**
   * Greedy answer to {@code question} with {@code prefix} in the last {@code n} blocks (0 = no
   * prefix: the plain LM). Stops at the end token, after {@code max_new_tokens}, or when the run
   * would exceed the LM's block size.
   *
   * @throws IllegalArgumentException when the prompt alone does not fit the LM
   */
  public Answer answer(String question, Prefix prefix, int n) {
    if (n < 0 || n > config.layers()) {
      throw new IllegalArgumentException("N must be in 0.." + config.layers() + ": " + n);
    }
    int[] promptIds = promptIds(question);
    if (promptIds.length >= config.blockSize()) {
      throw new IllegalArgumentException(
          "question too long: " + promptIds.length + " tokens, the LM holds " + config.blockSize());
    }
    int layers = config.layers();
    boolean useLora = lora.getOrDefault(prefix.modality(), false);
    float[] connected = new float[layers];
    float[] loraOn = new float[layers];
    for (int j = layers - n; j < layers; j++) {
      connected[j] = 1f;
      loraOn[j] = useLora ? 1f : 0f;
    }
    long[] pdims = {1, layers, config.heads(), config.prefixTokens(), config.headDim()};
    List<Integer> out = new ArrayList<>();
    List<Integer> runs = new ArrayList<>();
    float[] first = null;
    long flops = prefix.flops();
    Map<String, OnnxTensor> feeds = new HashMap<>();
    try {
      feeds.put("prefix_k", OnnxTensor.createTensor(env, FloatBuffer.wrap(prefix.keys()), pdims));
      feeds.put("prefix_v", OnnxTensor.createTensor(env, FloatBuffer.wrap(prefix.values()), pdims));
      feeds.put(
          "connected",
          OnnxTensor.createTensor(env, FloatBuffer.wrap(connected), new long[] {1, layers}));
      feeds.put(
          "lora_on",
          OnnxTensor.createTensor(env, FloatBuffer.wrap(loraOn), new long[] {1, layers}));
      for (int step = 0; step < maxNewTokens; step++) {
        int t = promptIds.length + out.size();
        long[] ids = new long[t];
        for (int i = 0; i < promptIds.length; i++) {
          ids[i] = promptIds[i];
        }
        for (int i = 0; i < out.size(); i++) {
          ids[promptIds.length + i] = out.get(i);
        }
        runs.add(t);
        flops += config.lmRunFlops(t, n, useLora);
        float[] logits;
        try (OnnxTensor idT =
            OnnxTensor.createTensor(env, LongBuffer.wrap(ids), new long[] {1, t})) {
          feeds.put("ids", idT);
          try (OrtSession.Result r = lm.run(feeds)) {
            float[] all = floats(r, "logits");
            int v = all.length / t;
            logits = Arrays.copyOfRange(all, (t - 1) * v, t * v);
          } finally {
            feeds.remove("ids");
          }
        }
        if (first == null) {
          first = logits;
        }
        int next = argmax(logits);
        if (next == eosId) {
          break;
        }
        out.add(next);
        if (promptIds.length + out.size() >= config.blockSize()) {
          break;
        }
      }
    } catch (OrtException e) {
      throw new IllegalStateException("LM graph failed", e);
    } finally {
      for (OnnxTensor t : feeds.values()) {
        t.close();
      }
    }
    return new Answer(
        tokenizer.decode(out),
        List.copyOf(out),
        runs.stream().mapToInt(Integer::intValue).toArray(),
        flops,
        prefix.modality(),
        n,
        first);
  }

  /** Index of the largest value, the lowest index on ties (as numpy's argmax). */
  static int argmax(float[] x) {
    int best = 0;
    for (int i = 1; i < x.length; i++) {
      if (x[i] > x[best]) {
        best = i;
      }
    }
    return best;
  }

  private static float[] floats(OrtSession.Result r, String name) throws OrtException {
    OnnxTensor t =
        (OnnxTensor)
            r.get(name).orElseThrow(() -> new IllegalStateException("graph has no output " + name));
    FloatBuffer b = t.getFloatBuffer();
    float[] out = new float[b.remaining()];
    b.get(out);
    return out;
  }

  private void closeAll() {
    for (OrtSession s : prefixSessions.values()) {
      try {
        s.close();
      } catch (OrtException e) {
        // closing: nothing more to do
      }
    }
  }

  @Override
  public void close() {
    closeAll();
    if (lm != null) {
      try {
        lm.close();
      } catch (OrtException e) {
        // closing: nothing more to do
      }
    }
  }
}
