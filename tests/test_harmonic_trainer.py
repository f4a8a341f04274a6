"""HarmonicTrainer (arXiv v3 §7): what each phase's step trains."""
import json
import pathlib
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

from facenet_tf import losses
from facenet_tf import models
from facenet_tf.training import harmonic_trainer
from facenet_tf.training import trainer as trainer_lib

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _batch(p=4, k=4, size=64, seed=0):
  rng = np.random.default_rng(seed)
  images = rng.uniform(0, 255, (p * k, size, size, 3)).astype(np.float32)
  return images, np.repeat(np.arange(p), k).astype(np.int32)


def _models(v1_size=64):
  keras.utils.set_random_seed(0)
  v2 = models.build("tiny")
  keras.utils.set_random_seed(1)
  v1 = models.build("tiny", image_size=(v1_size, v1_size))
  return v2, v1


def _trainer(v2, v1, train_layers, **kwargs):
  trainer = harmonic_trainer.HarmonicTrainer(v2, v1, train_layers, **kwargs)
  trainer.compile(optimizer=keras.optimizers.SGD(0.5))
  return trainer


def _weights(model):
  """{layer name: [arrays]}, trainable and not (BN moving statistics)."""
  return {layer.name: [np.array(w) for w in layer.get_weights()]
          for layer in model.layers if layer.weights}


def _changed(before, after):
  return {name for name in before
          if any(not np.array_equal(a, b)
                 for a, b in zip(before[name], after[name]))}


@pytest.mark.integration
def test_phase1_step_moves_only_the_embedding_layer():
  """v1 at another input size (48 px): its images are resized."""
  images, labels = _batch()
  v2, v1 = _models(v1_size=48)
  before, v1_before = _weights(v2), _weights(v1)
  trainer = _trainer(v2, v1, "embedding")
  assert {v.path for v in trainer.trainable_variables} == {
      "embedding/kernel", "embedding/bias"}
  # Frozen BatchNorm runs in inference mode: the loss is that of v2's
  # inference embeddings against v1's.
  want = losses.harmonic_loss(v2(images, training=False),
                              trainer.v1_embeddings(images), labels)
  logs = trainer.train_step((images, labels))
  np.testing.assert_allclose(float(logs["loss"]), float(want), rtol=1e-5)
  assert _changed(before, _weights(v2)) == {"embedding"}
  assert not _changed(v1_before, _weights(v1))


@pytest.mark.integration
def test_phase2_step_moves_the_backbone_and_not_v1():
  images, labels = _batch()
  v2, v1 = _models()
  before, v1_before = _weights(v2), _weights(v1)
  _trainer(v2, v1, "all").train_step((images, labels))
  changed = _changed(before, _weights(v2))
  assert {"embedding", "block1_conv", "block1_bn", "block4_bn"} <= changed
  assert not _changed(v1_before, _weights(v1))


@pytest.mark.integration
def test_logs_are_facenet_trainers():
  images, labels = _batch()
  v2, v1 = _models()
  plain = trainer_lib.FaceNetTrainer(models.build("tiny"))
  plain.compile(optimizer=keras.optimizers.SGD(0.1))
  logs = _trainer(v2, v1, "all").train_step((images, labels))
  assert set(logs) == set(plain.train_step((images, labels)))
  # Every ordered pair of the union [v2; v1] of 16 images, less v1-v1's.
  assert float(logs["positive_pairs"]) == 2 * 16 * 7 - 16 * 3


@pytest.mark.integration
def test_grad_cache_and_xla_steps_equal_the_plain_step():
  """Phase 1 (frozen BatchNorm): the gradient cache is exact."""
  images, labels = _batch()
  results = []
  for kwargs, jit in (({}, False), ({"grad_cache_chunk": 8}, False),
                      ({}, True)):
    v2, v1 = _models()
    trainer = _trainer(v2, v1, "embedding", **kwargs)
    logs = tf.function(trainer.train_step, jit_compile=jit)((images, labels))
    results.append((float(logs["loss"]), v2.get_layer("embedding")
                    .get_weights()))
  for loss, weights in results[1:]:
    assert loss == pytest.approx(results[0][0], rel=1e-4)
    for a, b in zip(weights, results[0][1]):
      np.testing.assert_allclose(a, b, atol=1e-5)


@pytest.mark.integration
def test_mirrored_two_cpus_equals_one_device():
  """Global mining of the union on 2 replicas (tests/harmonic_distributed_
  check.py, own process): the step of one device; per-replica mining not."""
  out = subprocess.run([sys.executable, "-m",
                        "tests.harmonic_distributed_check"], cwd=ROOT,
                       capture_output=True, text=True, timeout=300)
  assert out.returncode == 0, out.stderr[-3000:]
  result = json.loads(out.stdout.strip().splitlines()[-1])
  assert result["moved"] > 1e-3 and result["v1_moved"] == 0.0, result
  assert result["global"] <= 1e-5, result
  assert result["replica"] > 1e-4, result


@pytest.mark.unit
def test_bad_arguments_are_refused():
  v2, v1 = _models()
  with pytest.raises(ValueError, match="train_layers"):
    harmonic_trainer.HarmonicTrainer(v2, v1, "backbone")
  with pytest.raises(ValueError, match="softmax_weight"):
    harmonic_trainer.HarmonicTrainer(v2, v1, softmax_weight=1.0,
                                     num_classes=10)
  with pytest.raises(ValueError, match="same"):
    harmonic_trainer.HarmonicTrainer(v2, models.build("tiny",
                                                      embedding_dim=64))
