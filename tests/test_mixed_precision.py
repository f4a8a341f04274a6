"""Mixed precision: a half-precision backbone, float32 mining and loss.

`model.dtype_policy='mixed_bfloat16'` (TPUs, recent CPUs and GPUs) or
`'mixed_float16'` (GPUs; `optimizers.make_optimizer` wraps the optimizer in
`LossScaleOptimizer`) keeps float32 variables and computes the layers in half
precision. The embedding leaves the model L2-normalised in float32, and the
distance matrix, the mining and the loss stay float32: a half-precision
distance (8 significant bits for bfloat16) would blur the semi-hard choice
d(a, p) < d(a, n) < d(a, p) + margin.
"""
import keras
import numpy as np
import pytest
import tensorflow as tf

from facenet_tf import config as config_lib
from facenet_tf import losses
from facenet_tf import models
from facenet_tf.training import optimizers
from facenet_tf.training import trainer as trainer_lib
from tests.test_xla_step import patterned_batch

HALF = {"mixed_bfloat16": "bfloat16", "mixed_float16": "float16"}
# Unit roundoff: 2^-8 for bfloat16 (8 significant bits), 2^-11 for float16.
UNIT_ROUNDOFF = {"mixed_bfloat16": 2.0 ** -8, "mixed_float16": 2.0 ** -11}


def _trainer(policy, initial_weights):
  """The production set-up: the default config's AdaGrad via make_optimizer."""
  embedder = models.build("tiny", dtype_policy=policy)
  embedder.set_weights(initial_weights)
  trainer = trainer_lib.FaceNetTrainer(embedder)
  c = config_lib.get_config()
  trainer.compile(optimizer=optimizers.make_optimizer(
      c.optimizer, c.train.steps, policy))
  trainer.optimizer.build(trainer.trainable_variables)
  return trainer


def _initial_weights():
  keras.utils.set_random_seed(0)
  return models.build("tiny").get_weights()


def _step(trainer):
  """(logs, the trainable weights' update as one flat vector)."""
  before = [v.numpy() for v in trainer.trainable_variables]
  logs = tf.function(trainer.train_step)(patterned_batch())
  update = np.concatenate([(v.numpy() - b).ravel() for v, b in
                           zip(trainer.trainable_variables, before)])
  return logs, update


def _spy_on_mining(trainer, monkeypatch):
  """The dtypes the step feeds to mining and gets back, filled when traced."""
  seen = {}
  mine, miner = trainer.mine, losses.MINERS[trainer.mining]

  def spy_mine(labels, embeddings):
    seen["embeddings"] = embeddings.dtype
    return mine(labels, embeddings)

  def spy_miner(dist, pos, neg, margin):
    seen["distances"] = dist.dtype
    terms = miner(dist, pos, neg, margin)
    seen["terms"] = {t.dtype for t in terms}
    return terms

  monkeypatch.setattr(trainer, "mine", spy_mine)
  monkeypatch.setitem(losses.MINERS, trainer.mining, spy_miner)
  return seen


@pytest.mark.integration
@pytest.mark.parametrize("policy", sorted(HALF))
def test_half_precision_step_mines_in_float32_and_matches_float32(
    policy, monkeypatch):
  """From the same weights on the same batch, one step in half precision:
  the backbone computes in half precision, mining and the logs are float32,
  and the step is the float32 step to within rounding.

  Each rounding of a weight or activation to half precision is off by at
  most the unit roundoff u (bfloat16 2^-8 = 3.9e-3, float16 2^-11 = 4.9e-4;
  convolutions and matmuls accumulate in float32). The tiny model rounds
  at ~10 points (4 conv+BN blocks, pooling, dense: inputs and weights), so
  an embedding element is off by ~sqrt(10) u ~ 3u, and independent errors
  partly cancel in the loss, a mean over 48 (a, p) terms of 128-dim
  distances. Hence: loss within 5u relative (2e-2 for bfloat16, 2.4e-3 for
  float16); the update within 10% in norm (float16 loss scaling undone)
  and in direction, cosine > 0.9 (a single semi-hard choice flipped by
  rounding would turn part of the update, not all of it). Measured on the
  build machine: bfloat16 2e-3 and 0.998, float16 2.4e-4 and 0.9996.
  """
  initial = _initial_weights()
  reference_logs, reference = _step(_trainer("float32", initial))
  trainer = _trainer(policy, initial)
  seen = _spy_on_mining(trainer, monkeypatch)
  logs, update = _step(trainer)
  assert trainer.embedder.get_layer("block1_conv").compute_dtype == HALF[policy]
  assert {v.dtype for v in trainer.trainable_variables} == {"float32"}
  assert seen == {"embeddings": tf.float32, "distances": tf.float32,
                  "terms": {tf.float32}}
  assert {v.dtype for v in logs.values()} == {tf.float32}
  if policy == "mixed_float16":
    # Loss scaling is on, and the step was applied, not skipped for overflow.
    assert isinstance(trainer.optimizer, keras.optimizers.LossScaleOptimizer)
    assert float(trainer.optimizer.dynamic_scale) == 2.0 ** 15
  loss, reference_loss = float(logs["loss"]), float(reference_logs["loss"])
  assert loss != reference_loss  # rounded: not the float32 computation
  assert loss == pytest.approx(reference_loss, rel=5 * UNIT_ROUNDOFF[policy])
  norm, reference_norm = np.linalg.norm(update), np.linalg.norm(reference)
  assert norm == pytest.approx(reference_norm, rel=0.1)
  assert float(update @ reference) / (norm * reference_norm) > 0.9
