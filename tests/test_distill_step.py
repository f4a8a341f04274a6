"""The train step with a teacher: distillation loss, weights, replicas.

Batches are tests/test_train_step.py's (P=4 x K=4 random 64 px images, the
`tiny` model), with a random 128-d teacher target per image.
"""
import json
import subprocess
import sys

import numpy as np
import pytest

from facenet_tf import losses
from facenet_tf.training import trainer as trainer_lib
from tests import test_train_step as step_tests

ROOT = step_tests.ROOT


def _targets(size=16, seed=1):
  targets = np.random.default_rng(seed).normal(size=(size, 128))
  targets = targets.astype(np.float32)
  targets[3] = 0.0  # the teacher could not describe this face
  return targets


@pytest.mark.integration
@pytest.mark.parametrize("kind", losses.DISTILL_LOSSES)
def test_logged_losses_are_the_weighted_sum_of_the_same_pass(kind):
  """loss = 0.5 x triplet + 2 x distillation, each computed on the step's
  own embeddings (before the update) by the pure functions."""
  images, labels = step_tests._batch()
  targets = _targets()
  trainer = step_tests._trainer(triplet_weight=0.5, distill_weight=2.0,
                                distill_loss=kind)
  before = trainer.embedder(images, training=True)
  triplet = float(losses.triplet_semihard_loss(labels, before))
  if kind == "harmonic":  # §7 with the teacher as v1 (losses/harmonic.py)
    distill = float(losses.harmonic_loss(
        before, losses.distillation_unit_targets(targets), labels))
  else:
    distill = float(losses.distillation_loss(before, targets, kind))
  logs = trainer.train_step((images, labels, targets))
  np.testing.assert_allclose(float(logs["distill_loss"]), distill, rtol=1e-5)
  np.testing.assert_allclose(float(logs["loss"]), triplet, rtol=1e-5)
  assert distill > 0.05  # random targets: far from the student


@pytest.mark.integration
@pytest.mark.parametrize("kind", losses.DISTILL_LOSSES)
def test_the_centre_moves_cosine_and_relational_targets_not_harmonic(kind):
  """distill_center = the targets' mean unit row: the logged distillation
  loss is the pure loss onto the centred targets for cosine and relational,
  and the raw-target harmonic loss for §7 (face_recognition's encodings)."""
  images, labels = step_tests._batch()
  targets = _targets()
  has = targets.any(axis=1)
  center = (targets[has] / np.linalg.norm(targets[has], axis=1,
                                          keepdims=True)).mean(axis=0)
  trainer = step_tests._trainer(triplet_weight=0.0, distill_weight=1.0,
                                distill_loss=kind,
                                distill_center=center.tolist())
  assert trainer.get_config()["distill_center"] == pytest.approx(center)
  before = trainer.embedder(images, training=True)
  if kind == "harmonic":
    want = losses.harmonic_loss(
        before, losses.distillation_unit_targets(targets), labels)
  else:
    want = losses.distillation_loss(before, targets, kind, center)
    raw = losses.distillation_loss(before, targets, kind)
    assert abs(float(want) - float(raw)) > 1e-3  # the centre matters
  logs = trainer.train_step((images, labels, targets))
  np.testing.assert_allclose(float(logs["distill_loss"]), float(want),
                             rtol=1e-5)


@pytest.mark.integration
def test_distillation_alone_pulls_the_student_to_the_teacher():
  """Triplet weight 0: 30 Adam steps on one batch move the cosine loss down
  by more than half (random targets, a 16-image batch: memorisable)."""
  import keras  # pylint: disable=import-outside-toplevel
  images, labels = step_tests._batch()
  targets = _targets()
  trainer = step_tests._trainer(keras.optimizers.Adam(1e-3),
                                triplet_weight=0.0, distill_weight=1.0)
  first = float(trainer.train_step((images, labels, targets))["distill_loss"])
  for _ in range(29):
    last = float(trainer.train_step((images, labels, targets))["distill_loss"])
  assert last < 0.5 * first, (first, last)


@pytest.mark.integration
def test_mirrored_two_cpus_equal_one_device():
  """tests/distill_distributed_check.py (own process): for the three losses
  (cosine alone; relational and harmonic beside the triplet loss), one step
  on 2 replicas lands within 1e-5 of one device's step, which moves weights
  by > 1e-3."""
  out = subprocess.run([sys.executable, "-m", "tests.distill_distributed_check"],
                       cwd=ROOT, capture_output=True, text=True, timeout=900)
  assert out.returncode == 0, out.stderr[-3000:]
  results = json.loads(out.stdout.strip().splitlines()[-1])
  assert len(results) == 3
  for name, result in results.items():
    assert result["moved"] > 1e-3, (name, result)
    assert result["global"] <= 1e-5, (name, result)


@pytest.mark.unit
def test_bad_weights_and_missing_targets_are_refused():
  embedder = step_tests.models.build("tiny")
  with pytest.raises(ValueError, match="distill_loss"):
    trainer_lib.FaceNetTrainer(embedder, distill_weight=1.0, distill_loss="kl")
  with pytest.raises(ValueError, match="not all 0"):
    trainer_lib.FaceNetTrainer(embedder, triplet_weight=0.0)
  trainer = step_tests._trainer(distill_weight=1.0)
  with pytest.raises(ValueError, match="teacher targets"):
    trainer.train_step(step_tests._batch())
