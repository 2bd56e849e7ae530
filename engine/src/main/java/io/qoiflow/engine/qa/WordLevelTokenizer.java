package io.qoiflow.engine.qa;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The WordLevel tokenizer of a Hugging Face {@code tokenizer.json} as the QA model's trainer writes
 * it: optional Lowercase normalizer, WhitespaceSplit pre-tokenizer, word → id with an unknown
 * token. Decoding joins the words with single spaces. Other tokenizer kinds are refused rather than
 * approximated.
 */
public final class WordLevelTokenizer {
  private final Map<String, Integer> vocab;
  private final String[] words;
  private final int unkId;
  private final boolean lowercase;

  WordLevelTokenizer(Map<String, Integer> vocab, String unk, boolean lowercase) {
    this.vocab = Map.copyOf(vocab);
    int max = vocab.values().stream().mapToInt(Integer::intValue).max().orElse(-1);
    this.words = new String[max + 1];
    vocab.forEach((w, i) -> words[i] = w);
    Integer u = vocab.get(unk);
    if (u == null) {
      throw new IllegalArgumentException("unknown token '" + unk + "' is not in the vocabulary");
    }
    this.unkId = u;
    this.lowercase = lowercase;
  }

  /** Reads {@code tokenizer.json}; refuses anything but the WordLevel layout described above. */
  public static WordLevelTokenizer load(Path file) {
    JsonNode root;
    try {
      root = new ObjectMapper().readTree(file.toFile());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file, e);
    }
    JsonNode model = root.path("model");
    if (!"WordLevel".equals(model.path("type").asText())) {
      throw new IllegalArgumentException(file + ": model type is not WordLevel");
    }
    JsonNode norm = root.path("normalizer");
    boolean lower = false;
    if (!norm.isNull() && !norm.isMissingNode()) {
      if (!"Lowercase".equals(norm.path("type").asText())) {
        throw new IllegalArgumentException(file + ": unsupported normalizer " + norm);
      }
      lower = true;
    }
    String pre = root.path("pre_tokenizer").path("type").asText();
    if (!"WhitespaceSplit".equals(pre)) {
      throw new IllegalArgumentException(file + ": unsupported pre_tokenizer " + pre);
    }
    Map<String, Integer> vocab = new HashMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = model.path("vocab").fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      vocab.put(e.getKey(), e.getValue().asInt());
    }
    return new WordLevelTokenizer(vocab, model.path("unk_token").asText(), lower);
  }

  /** Token ids of {@code text}. */
  public int[] encode(String text) {
    String s = lowercase ? text.toLowerCase(Locale.ROOT) : text;
    List<Integer> ids = new ArrayList<>();
    int i = 0;
    int n = s.length();
    while (i < n) {
      while (i < n && Character.isWhitespace(s.charAt(i))) {
        i++;
      }
      int start = i;
      while (i < n && !Character.isWhitespace(s.charAt(i))) {
        i++;
      }
      if (i > start) {
        ids.add(vocab.getOrDefault(s.substring(start, i), unkId));
      }
    }
    return ids.stream().mapToInt(Integer::intValue).toArray();
  }

  /** The id of a word, or -1. */
  public int id(String word) {
    return vocab.getOrDefault(word, -1);
  }

  /** The words of {@code ids} joined by single spaces. */
  public String decode(List<Integer> ids) {
    StringBuilder b = new StringBuilder();
    for (int id : ids) {
      if (b.length() > 0) {
        b.append(' ');
      }
      b.append(id >= 0 && id < words.length && words[id] != null ? words[id] : "[UNK]");
    }
    return b.toString();
  }

  /** Size of the id space (largest id + 1). */
  public int size() {
    return words.length;
  }
}
