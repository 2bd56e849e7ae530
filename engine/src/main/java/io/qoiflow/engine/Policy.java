package io.qoiflow.engine;

import java.util.Locale;

/** How a sample's layer set is chosen. */
public enum Policy {
  /** One controller per budget (the ADMN paper's setup). */
  ADMN(true),
  /** One budget-conditioned controller (budget as an input). */
  UNIVERSAL(true),
  /** Controller whose stems were pretrained as an autoencoder, then only the head trained. */
  AE(true),
  /** Fixed evenly spread layers per present modality; no controller. */
  NAIVE(false),
  /**
   * The best single static allocation per budget (S*, chosen on validation data by the training
   * side), read from the manifest's {@code policies.static.allocations_by_budget}; no controller.
   */
  STATIC(false),
  /** Every layer of every present modality; ignores the budget. */
  FULL(false);

  private final boolean usesController;

  Policy(boolean usesController) {
    this.usesController = usesController;
  }

  public boolean usesController() {
    return usesController;
  }

  /** True when the model's manifest must list this policy (controllers and {@link #STATIC}). */
  public boolean needsManifestEntry() {
    return usesController || this == STATIC;
  }

  /** The policy's name in the manifest and on the command line. */
  public String key() {
    return name().toLowerCase(Locale.ROOT);
  }

  public static Policy parse(String s) {
    return valueOf(s.trim().toUpperCase(Locale.ROOT));
  }
}
