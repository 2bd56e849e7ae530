package io.qoiflow.engine.qa;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.qoiflow.engine.ModelLocator;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WordLevelTokenizerTest {

  @Test
  void encodesLikeTheHuggingFaceTokenizerOnTheCommittedCases() throws Exception {
    Path dir = ModelLocator.defaultQaModel().orElseThrow();
    WordLevelTokenizer tok = WordLevelTokenizer.load(dir.resolve("tokenizer.json"));
    JsonNode fx = new ObjectMapper().readTree(dir.resolve("fixtures/qa_fixtures.json").toFile());
    int n = 0;
    for (JsonNode c : fx.path("tokenizer_cases")) {
      int[] want = new ObjectMapper().convertValue(c.path("ids"), int[].class);
      assertArrayEquals(want, tok.encode(c.path("text").asText()), c.path("text").asText());
      n++;
    }
    assertEquals(3, n);
  }

  @Test
  void lowercasesSplitsOnWhitespaceAndMapsUnknownWords(@TempDir Path tmp) throws Exception {
    Path f = tmp.resolve("tokenizer.json");
    Files.writeString(
        f,
        "{\"normalizer\":{\"type\":\"Lowercase\"},\"pre_tokenizer\":{\"type\":\"WhitespaceSplit\"},"
            + "\"model\":{\"type\":\"WordLevel\",\"unk_token\":\"[UNK]\","
            + "\"vocab\":{\"[PAD]\":0,\"[UNK]\":1,\"how\":2,\"many\":3,\"?\":5}}}");
    WordLevelTokenizer tok = WordLevelTokenizer.load(f);
    assertArrayEquals(new int[] {2, 3, 1, 5}, tok.encode("  How\tMANY  zebras ?\n"));
    assertEquals("how many ?", tok.decode(List.of(2, 3, 5)));
    assertEquals(6, tok.size());
  }

  @Test
  void refusesOtherTokenizerModels(@TempDir Path tmp) throws Exception {
    Path f = tmp.resolve("tokenizer.json");
    Files.writeString(
        f, "{\"pre_tokenizer\":{\"type\":\"WhitespaceSplit\"},\"model\":{\"type\":\"BPE\"}}");
    assertThrows(IllegalArgumentException.class, () -> WordLevelTokenizer.load(f));
  }
}
