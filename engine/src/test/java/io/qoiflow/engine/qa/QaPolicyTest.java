package io.qoiflow.engine.qa;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.qoiflow.records.Modality;
import org.junit.jupiter.api.Test;

class QaPolicyTest {
  private final QaPolicy policy = new QaPolicy(0.5, 8, 0.5);

  @Test
  void cameraQoiPicksTheModality() {
    assertEquals(Modality.CAMERA, policy.modality(QaPolicy.Kind.QOI, 0.9f, true, true));
    assertEquals(Modality.CAMERA, policy.modality(QaPolicy.Kind.QOI, 0.5f, true, true));
    assertEquals(Modality.LIDAR, policy.modality(QaPolicy.Kind.QOI, 0.49f, true, true));
    assertEquals(Modality.CAMERA, policy.modality(QaPolicy.Kind.QOI, Float.NaN, true, true));
    assertEquals(Modality.CAMERA, policy.modality(QaPolicy.Kind.CAMERA, 0.1f, true, true));
    assertEquals(Modality.LIDAR, policy.modality(QaPolicy.Kind.LIDAR, 0.9f, true, true));
  }

  @Test
  void aMissingFrameFallsBackToTheOtherModality() {
    assertEquals(Modality.LIDAR, policy.modality(QaPolicy.Kind.CAMERA, 0.9f, false, true));
    assertEquals(Modality.CAMERA, policy.modality(QaPolicy.Kind.QOI, 0.1f, true, false));
  }

  @Test
  void budgetPicksN() {
    assertEquals(4, policy.connectedBlocks(null));
    assertEquals(1, policy.connectedBlocks(0.01));
    assertEquals(2, policy.connectedBlocks(0.25));
    assertEquals(3, policy.connectedBlocks(0.33));
    assertEquals(8, policy.connectedBlocks(1.0));
    assertEquals(8, policy.connectedBlocks(1.5));
  }
}
