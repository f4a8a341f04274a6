"""Shared checks for every embedding model (keras-hub style test helper).

`check_model` asserts, for one built model:
- the output shape [B, embedding_dim] and unit-norm rows (paper Fig. 2);
- get_config -> JSON -> from_config rebuilds the same architecture;
- model.save -> keras.models.load_model gives identical outputs;
- optionally, one gradient step changes the weights and gives finite values.
"""
import json

import keras
import numpy as np
import tensorflow as tf

from facenet_tf import losses
from facenet_tf import models


def random_images(model, batch, seed=0):
  shape = model.inputs[0].shape[1:]
  rng = np.random.default_rng(seed)
  return rng.uniform(0, 255, size=(batch, *shape)).astype(np.float32)


def check_output(model, batch=4):
  images = random_images(model, batch)
  out = model(images, training=False).numpy()
  assert out.shape == (batch, model.embedding_dim)
  assert out.dtype == np.float32
  np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-3)
  return images, out


def check_config_round_trip(model):
  config = json.loads(json.dumps(model.get_config()))
  rebuilt = models.FaceEmbedder.from_config(config)
  assert rebuilt.get_config() == model.get_config()
  assert rebuilt.count_params() == model.count_params()
  assert [w.shape for w in rebuilt.weights] == [w.shape for w in model.weights]


def check_save_load(model, tmp_path, images, expected):
  path = tmp_path / f"{model.name}.keras"
  model.save(path)
  loaded = keras.models.load_model(path)
  assert isinstance(loaded, models.FaceEmbedder)
  np.testing.assert_array_equal(loaded(images, training=False).numpy(),
                                expected)


def check_gradient_step(model, batch=8):
  """One SGD step on a semi-hard loss moves the weights, finitely."""
  images = random_images(model, batch, seed=1)
  labels = np.repeat(np.arange(batch // 2), 2)
  optimizer = keras.optimizers.SGD(0.1)
  before = [w.numpy().copy() for w in model.trainable_weights]
  with tf.GradientTape() as tape:
    emb = model(images, training=True)
    loss = losses.triplet_semihard_loss(labels, emb, margin=1.0)
  grads = tape.gradient(loss, model.trainable_weights)
  assert all(g is not None and np.all(np.isfinite(g)) for g in grads)
  optimizer.apply_gradients(zip(grads, model.trainable_weights))
  changed = sum(not np.array_equal(b, w.numpy())
                for b, w in zip(before, model.trainable_weights))
  assert changed >= len(before) // 2, f"{changed}/{len(before)} weights moved"


def check_model(model, tmp_path, gradient_step=True):
  images, out = check_output(model)
  check_config_round_trip(model)
  check_save_load(model, tmp_path, images, out)
  if gradient_step:
    check_gradient_step(model)
