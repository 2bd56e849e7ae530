package io.qoiflow.simulator;

import io.qoiflow.records.Modality;

/** One drawn corruption: a type at a level in (0, 1] on one modality. */
public record Corruption(Modality modality, CorruptionType type, double level) {}
