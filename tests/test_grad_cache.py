"""Gradient caching (issue #7): the chunked step's gradient is the exact one.

With BatchNorm frozen, a gradient-cache step equals the whole-batch step.
With training-mode BatchNorm each chunk is normalised with its own
statistics (grad_cache.py), so the step equals the whole-batch gradient of
that ghost-batch model, and moves the moving statistics once per chunk.
"""
import json
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

from facenet_tf import config as config_lib
from facenet_tf import losses
from facenet_tf import models
from facenet_tf.training import grad_cache
from facenet_tf.training import train_lib
from facenet_tf.training import trainer as trainer_lib

ROOT = __import__("pathlib").Path(__file__).resolve().parents[1]
P, K = 4, 6  # B = 24: chunks of 4 and 8 mix identities (shuffled rows)


def _batch():
  """Each identity its own pattern plus noise: no semi-hard rounding ties."""
  rng = np.random.default_rng(0)
  labels = rng.permutation(np.repeat(np.arange(P), K)).astype(np.int32)
  patterns = rng.uniform(0, 255, (P, 64, 64, 3))
  noise = rng.normal(0, 20, (P * K, 64, 64, 3))
  return (np.clip(patterns[labels] + noise, 0, 255).astype(np.float32),
          labels)


def _trainer(chunk, frozen_bn, weight_decay=0.0):
  """A seeded `tiny` trainer with SGD(1.0): one step moves w by -gradient."""
  keras.utils.set_random_seed(0)
  embedder = models.build("tiny", weight_decay=weight_decay)
  for layer in embedder.layers:
    if isinstance(layer, keras.layers.BatchNormalization):
      layer.trainable = not frozen_bn  # frozen: inference-mode statistics
  trainer = trainer_lib.FaceNetTrainer(embedder, grad_cache_chunk=chunk)
  trainer.compile(optimizer=keras.optimizers.SGD(1.0))
  trainer.optimizer.build(trainer.trainable_variables)
  return trainer


def _values(variables):
  return [v.numpy() for v in variables]


def _step(trainer, jit_compile=False):
  """(logs, gradient = weights before - after) of one tf.function step."""
  before = _values(trainer.trainable_variables)
  logs = tf.function(trainer.train_step, jit_compile=jit_compile)(_batch())
  after = _values(trainer.trainable_variables)
  return logs, [b - a for b, a in zip(before, after)]


def _max_difference(a, b):
  return max(float(np.max(np.abs(x - y))) for x, y in zip(a, b))


@pytest.mark.integration
def test_frozen_batchnorm_gradient_equals_the_whole_batch_step():
  """6 chunks of 4; weight decay's direct gradient joins the cached one."""
  plain_logs, plain = _step(_trainer(0, frozen_bn=True, weight_decay=1e-3))
  logs, cached = _step(_trainer(4, frozen_bn=True, weight_decay=1e-3))
  assert max(float(np.max(np.abs(g))) for g in plain) > 1e-2
  assert _max_difference(plain, cached) <= 1e-5
  for key in ("loss", "active_fraction", "regularization_loss",
              "embedding_norm_mean", "hist_d_an"):
    np.testing.assert_allclose(logs[key], plain_logs[key], rtol=1e-5)


@pytest.mark.integration
def test_training_batchnorm_is_exact_for_per_chunk_statistics():
  """Equal to one tape over the chunked forward; moving stats move once."""
  chunk = 8
  images, labels = _batch()
  reference = _trainer(0, frozen_bn=False)
  start = _values(reference.embedder.non_trainable_variables)
  with tf.GradientTape() as tape:
    embeddings = tf.concat(
        [reference.embedder(images[i:i + chunk], training=True)
         for i in range(0, len(images), chunk)], axis=0)
    loss = losses.triplet_semihard_loss(labels, embeddings)
  expected = tape.gradient(loss, reference.trainable_variables)
  trainer = _trainer(chunk, frozen_bn=False)
  logs, cached = _step(trainer)
  assert float(logs["loss"]) == pytest.approx(float(loss), rel=1e-5)
  assert _max_difference([g.numpy() for g in expected], cached) <= 1e-5
  # One update per chunk (the recompute pass replays, not repeats, them).
  moving = _values(trainer.embedder.non_trainable_variables)
  assert _max_difference(
      _values(reference.embedder.non_trainable_variables), moving) <= 1e-6
  assert _max_difference(start, moving) > 1e-3
  # Whole-batch statistics give another gradient: the documented trade-off.
  _, whole = _step(_trainer(0, frozen_bn=False))
  assert _max_difference(whole, cached) > 1e-3


@pytest.mark.integration
def test_step_compiles_with_xla_and_matches_graph_mode():
  _, graph = _step(_trainer(12, frozen_bn=False))
  _, xla = _step(_trainer(12, frozen_bn=False), jit_compile=True)
  assert _max_difference(graph, xla) <= 1e-4


@pytest.mark.integration
def test_dropout_masks_repeat_in_the_recompute_pass():
  """Seed-generator state is replayed: pass 3 draws pass 1's masks."""
  keras.utils.set_random_seed(0)
  inputs = keras.Input((6,))
  hidden = keras.layers.BatchNormalization()(keras.layers.Dense(16)(inputs))
  outputs = keras.layers.Dense(3)(keras.layers.Dropout(0.5)(hidden))
  model = keras.Model(inputs, outputs)
  x = tf.random.stateless_normal((12, 6), seed=(1, 2))
  # The batch loss couples every row, as the triplet loss does.
  loss_fn = lambda out: (tf.reduce_sum(tf.square(
      out[0] - tf.reduce_mean(out[0], axis=0))) ** 0.5, None)
  state = _values(model.non_trainable_variables)
  with tf.GradientTape() as tape:
    loss, _ = loss_fn([tf.concat([model(x[i:i + 4], training=True)
                                  for i in range(0, 12, 4)], axis=0)])
  expected = tape.gradient(loss, model.trainable_variables)
  after_reference = _values(model.non_trainable_variables)
  for variable, value in zip(model.non_trainable_variables, state):
    variable.assign(value)
  grads, _, _ = grad_cache.cached_gradients(model, x, 4, loss_fn,
                                            model.trainable_variables)
  assert _max_difference([g.numpy() for g in expected],
                         [g.numpy() for g in grads]) <= 1e-5
  assert _max_difference(after_reference,
                         _values(model.non_trainable_variables)) == 0
  # The masks do change with the state: the equality above is not vacuous.
  first, second = (model(x, training=True).numpy() for _ in range(2))
  assert np.mean(first == second) < 0.9


@pytest.mark.integration
def test_mirrored_two_cpus_equals_one_device():
  """tests/grad_cache_distributed_check.py, in its own process (CPU split)."""
  out = subprocess.run(
      [sys.executable, "-m", "tests.grad_cache_distributed_check"], cwd=ROOT,
      capture_output=True, text=True, timeout=300)
  assert out.returncode == 0, out.stderr[-3000:]
  result = json.loads(out.stdout.strip().splitlines()[-1])
  assert result["moved"] > 1e-2, result
  assert result["ghost_bn"] <= 1e-5, result


@pytest.mark.unit
def test_chunk_sizes_are_validated():
  with pytest.raises(ValueError, match="must divide the per-replica batch"):
    grad_cache.num_chunks(24, 5)
  with pytest.raises(ValueError, match="static per-replica batch"):
    grad_cache.num_chunks(None, 4)
  assert grad_cache.num_chunks(24, 8) == 3
  with pytest.raises(ValueError, match="grad_cache_chunk"):
    trainer_lib.FaceNetTrainer(models.build("tiny"), grad_cache_chunk=-1)
  config = config_lib.get_config()
  assert config.train.grad_cache_chunk == 0
  config.train.grad_cache_chunk = 7  # the batch is 32 x 8 + 16 = 272
  with pytest.raises(config_lib.ConfigError, match="grad_cache_chunk"):
    config_lib.validate(config)
  config.train.grad_cache_chunk = 68
  config_lib.validate(config)


@pytest.mark.unit
def test_chunk_is_in_the_keras_config():
  trainer = trainer_lib.FaceNetTrainer(models.build("tiny"),
                                       grad_cache_chunk=8)
  clone = trainer_lib.FaceNetTrainer.from_config(trainer.get_config())
  assert clone.grad_cache_chunk == 8


@pytest.mark.unit
def test_replica_split_is_checked_before_the_run_starts(tmp_path):
  """The default batch is 32 x 8 + 16 = 272: 136 per replica on 2, 68 on 4.
  A chunk of 272 divides the global batch (validate passes) but not 136."""
  config = config_lib.get_config()
  config_lib.validate_for_replicas(config, 2)  # chunk 0: off
  config.train.grad_cache_chunk = 68
  config_lib.validate_for_replicas(config, 2)
  config_lib.validate_for_replicas(config, 4)
  config.train.grad_cache_chunk = 272
  config_lib.validate(config)
  with pytest.raises(config_lib.ConfigError,
                     match=r"per-replica batch .* = 136: e.g. 136"):
    config_lib.validate_for_replicas(config, 2)
  config.train.grad_cache_chunk, config.data.p = 0, 33  # 33 identities
  with pytest.raises(config_lib.ConfigError, match="divisible by the 2"):
    config_lib.validate_for_replicas(config, 2)
  # Wired into the run: the error comes before anything is written.
  config.train.grad_cache_chunk, config.data.p = 272, 32
  two_replicas = type("Strategy", (), {"num_replicas_in_sync": 2})()
  with pytest.raises(config_lib.ConfigError, match="per-replica batch"):
    train_lib.train(config, str(tmp_path), strategy=two_replicas)
  assert not list(tmp_path.iterdir())
