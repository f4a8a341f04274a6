"""The cosine-margin softmax auxiliary loss: NumPy reference, trainer, config.

Fixtures: 12 unit embeddings of dimension 8 over 5 classes, labels
(0..4, 0..4, 0, 1); scale 30, margin 0.35 (CosFace's). A NumPy reference
normalises W's columns, takes cos = e.W, lowers the true class by the margin,
scales, and sums log-sum-exp minus the true logit.
"""
import keras
import numpy as np
import pytest
import tensorflow as tf

from facenet_tf import config as config_lib
from facenet_tf import losses
from facenet_tf import models
from facenet_tf.training import train_lib
from facenet_tf.training import trainer as trainer_lib


def _fixture(seed=0, n=12, d=8, classes=5):
  rng = np.random.default_rng(seed)
  e = rng.normal(size=(n, d))
  e /= np.linalg.norm(e, axis=1, keepdims=True)
  w = rng.normal(size=(d, classes))
  labels = np.arange(n) % classes
  return e.astype(np.float32), w.astype(np.float32), labels.astype(np.int32)


def numpy_loss_sum(e, w, labels, scale, margin):
  w = w / np.linalg.norm(w, axis=0, keepdims=True)
  logits = scale * (e.astype(np.float64) @ w)
  logits[np.arange(len(labels)), labels] -= scale * margin
  top = logits.max(axis=1, keepdims=True)
  lse = top[:, 0] + np.log(np.exp(logits - top).sum(axis=1))
  return float(np.sum(lse - logits[np.arange(len(labels)), labels]))


@pytest.mark.unit
@pytest.mark.parametrize("scale,margin", [(30.0, 0.35), (1.0, 0.0), (64.0, 0.5)])
def test_loss_matches_numpy(scale, margin):
  e, w, labels = _fixture()
  got = losses.cosine_margin_loss_sum(e, w, labels, scale, margin)
  np.testing.assert_allclose(float(got), numpy_loss_sum(e, w, labels, scale,
                                                        margin), rtol=1e-5)


@pytest.mark.unit
def test_margin_raises_the_loss_and_weight_scale_does_not_matter():
  """Only the direction of each class weight counts (step 1 normalises)."""
  e, w, labels = _fixture(seed=1)
  plain = float(losses.cosine_margin_loss_sum(e, w, labels, 30.0, 0.0))
  assert float(losses.cosine_margin_loss_sum(e, w, labels, 30.0, 0.35)) > plain
  scaled = w * np.array([3.0, 0.1, 7.0, 1.0, 2.0], np.float32)
  np.testing.assert_allclose(
      float(losses.cosine_margin_loss_sum(e, scaled, labels, 30.0, 0.0)),
      plain, rtol=1e-5)


@pytest.mark.unit
def test_classifier_layer_round_trips_and_checks_arguments():
  layer = losses.CosineClassifier(7, scale=16.0, margin=0.2)
  clone = losses.CosineClassifier.from_config(layer.get_config())
  assert (clone.num_classes, clone.scale, clone.margin) == (7, 16.0, 0.2)
  for bad in ({"num_classes": 1}, {"num_classes": 5, "scale": 0.0},
              {"num_classes": 5, "margin": -0.1}):
    with pytest.raises(ValueError):
      losses.CosineClassifier(**bad)


@pytest.mark.integration
def test_train_step_adds_the_weighted_softmax_of_the_same_pass():
  """P=4 x K=4 random images, 10 classes; weight 0.5.

  The step's softmax_loss is the mean over the 16 images of the reference
  loss on the embeddings of the same (training-mode) forward pass, and its
  total loss is the triplet loss + 0.5 x that; the class weights move.
  """
  rng = np.random.default_rng(0)
  images = rng.uniform(0, 255, (16, 64, 64, 3)).astype(np.float32)
  labels = np.repeat(np.arange(4), 4).astype(np.int32) + 3
  keras.utils.set_random_seed(0)
  trainer = trainer_lib.FaceNetTrainer(models.build("tiny"), num_classes=10,
                                       softmax_weight=0.5)
  trainer.compile(optimizer=keras.optimizers.SGD(0.1))
  trainer.optimizer.build(trainer.trainable_variables)
  before_w = trainer.classifier.class_weights.numpy()
  e = trainer.embedder(images, training=True).numpy()
  logs = trainer.train_step((images, labels))
  expected = numpy_loss_sum(e, before_w, labels, 30.0, 0.35) / 16
  np.testing.assert_allclose(float(logs["softmax_loss"]), expected, rtol=1e-4)
  assert np.abs(trainer.classifier.class_weights.numpy() - before_w).max() > 0
  clone = trainer_lib.FaceNetTrainer.from_config(trainer.get_config())
  assert (clone.num_classes, clone.softmax_weight) == (10, 0.5)


@pytest.mark.unit
def test_bad_softmax_settings_are_refused():
  with pytest.raises(ValueError, match="num_classes"):
    trainer_lib.FaceNetTrainer(models.build("tiny"), softmax_weight=1.0)
  config = config_lib.get_config("smoke")
  config.loss.softmax_weight = 1.0
  config.train.grad_cache_chunk = 4
  with pytest.raises(config_lib.ConfigError, match="grad_cache_chunk"):
    config_lib.validate(config)


@pytest.mark.integration
def test_smoke_run_checkpoints_the_classifier(tmp_path):
  """Synthetic smoke (40 identities): the class weights [128, 40] are saved."""
  config = config_lib.get_config("smoke")
  config.loss.softmax_weight = 1.0
  config.export.enabled = False
  result = train_lib.train(config, str(tmp_path))
  assert np.isfinite(result["verification_accuracy"])
  names = dict(tf.train.list_variables(str(tmp_path / "checkpoints")))
  shapes = [s for n, s in names.items() if n.startswith("classifier/")]
  assert [128, 40] in shapes, names


def _trainer(mining, **softmax):
  keras.utils.set_random_seed(0)
  trainer = trainer_lib.FaceNetTrainer(models.build("tiny"), mining=mining,
                                       **softmax)
  trainer.compile(optimizer=keras.optimizers.SGD(0.1))
  trainer.optimizer.build(trainer.trainable_variables)
  return trainer


def _pretraining(mining):
  return _trainer(mining, num_classes=10, softmax_weight=1.0,
                  softmax_pretrain_steps=1)


def _weights(trainer):
  return np.concatenate([w.ravel() for w in trainer.embedder.get_weights()])


@pytest.mark.integration
def test_softmax_pretraining_then_triplets_alone():
  """softmax_pretrain_steps = 1, the same 16 images twice, SGD(0.1).

  Step 1 trains the softmax alone: semi-hard and batch-all mining (different
  triplets) give the same update. Step 2 trains the triplets alone: it is a
  triplet-only trainer's step from the same weights, the class weights get
  no gradient (plain SGD leaves them as they were), and the mining now
  matters.
  """
  rng = np.random.default_rng(0)
  images = rng.uniform(0, 255, (16, 64, 64, 3)).astype(np.float32)
  labels = np.repeat(np.arange(4), 4).astype(np.int32)
  semihard, batch_all = _pretraining("semihard"), _pretraining("batch_all")
  for trainer in (semihard, batch_all):
    trainer.train_step((images, labels))
  np.testing.assert_allclose(_weights(semihard), _weights(batch_all),
                             atol=1e-6)
  triplets_only = _trainer("semihard")
  triplets_only.embedder.set_weights(semihard.embedder.get_weights())
  before = semihard.classifier.class_weights.numpy()
  for trainer in (semihard, batch_all, triplets_only):
    trainer.train_step((images, labels))
  np.testing.assert_allclose(_weights(semihard), _weights(triplets_only),
                             atol=1e-6)
  np.testing.assert_array_equal(semihard.classifier.class_weights.numpy(),
                                before)
  assert np.abs(_weights(semihard) - _weights(batch_all)).max() > 1e-4
  clone = trainer_lib.FaceNetTrainer.from_config(semihard.get_config())
  assert clone.softmax_pretrain_steps == 1

@pytest.mark.unit
def test_bad_pretraining_settings_are_refused():
  with pytest.raises(ValueError, match="softmax_weight"):
    trainer_lib.FaceNetTrainer(models.build("tiny"), softmax_pretrain_steps=5)
  for weight, steps in ((0.0, 5), (1.0, 20), (1.0, -1)):
    config = config_lib.get_config("smoke")  # 20 steps
    config.loss.softmax_weight = weight
    config.loss.softmax_pretrain_steps = steps
    with pytest.raises(config_lib.ConfigError, match="softmax_pretrain_steps"):
      config_lib.validate(config)
