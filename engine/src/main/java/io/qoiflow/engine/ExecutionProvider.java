package io.qoiflow.engine;

import java.util.Locale;

/** Where the graphs run. {@code AUTO} uses CUDA when it can be added, else the CPU. */
public enum ExecutionProvider {
  CPU,
  CUDA,
  AUTO;

  public static ExecutionProvider parse(String s) {
    return valueOf(s.trim().toUpperCase(Locale.ROOT));
  }
}
