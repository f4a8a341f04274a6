"""XLA compilation of the losses, and the serialisable Keras wrapper."""
import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from facenet_tf import losses
from tests.test_losses_reference import make_batch


def _loss_and_grad(kind, metric):
  def fn(labels, emb):
    with tf.GradientTape() as tape:
      tape.watch(emb)
      loss, stats = losses.summarize(
          losses.mining_terms(labels, emb, kind, 0.2, metric))
    return loss, tape.gradient(loss, emb), stats
  return fn


@pytest.mark.unit
@pytest.mark.parametrize("kind", sorted(losses.MINERS))
@pytest.mark.parametrize("metric", losses.METRICS)
def test_xla_equals_eager(kind, metric):
  labels, emb = make_batch(p=8, k=8, dim=32, seed=11)
  emb = tf.constant(emb)
  eager = _loss_and_grad(kind, metric)(labels, emb)
  xla = tf.function(_loss_and_grad(kind, metric), jit_compile=True)(labels, emb)
  assert float(eager[0]) > 0
  np.testing.assert_allclose(xla[0], eager[0], rtol=1e-5)
  np.testing.assert_allclose(xla[1], eager[1], atol=1e-5)
  for name, value in eager[2].items():
    np.testing.assert_allclose(xla[2][name], value, rtol=1e-5, err_msg=name)


@pytest.mark.unit
@pytest.mark.parametrize("kind", sorted(losses.MINERS))
def test_xla_graph_has_no_cubic_tensor(kind):
  """Compiled at B = 48, no HLO value has shape [48, 48, 48] (XLA lowers
  tf.searchsorted to exactly that, which ran out of memory at B = 1,800)."""
  labels, emb = make_batch(p=12, k=4, dim=16)
  fn = tf.function(lambda l, e: losses.summarize(
      losses.mining_terms(l, e, kind))[0], jit_compile=True)
  hlo = fn.experimental_get_compiler_ir(tf.constant(labels), tf.constant(emb))(
      stage="hlo")
  assert "[48,48]" in hlo  # the distance matrix is there ...
  assert "[48,48,48]" not in hlo  # ... and nothing cubic


@pytest.mark.unit
@pytest.mark.parametrize("mining", sorted(losses.MINERS))
def test_keras_loss_round_trip(mining):
  loss = losses.TripletLoss(mining=mining, margin=0.5, metric="l2")
  config = json.loads(json.dumps(keras.losses.serialize(loss)))
  restored = keras.losses.deserialize(config)
  assert isinstance(restored, losses.TripletLoss)
  assert (restored.mining, restored.margin, restored.metric) == (mining, 0.5, "l2")
  labels, emb = make_batch(p=4, k=3)
  want = losses.summarize(losses.mining_terms(labels, emb, mining, 0.5, "l2"))[0]
  np.testing.assert_allclose(restored(labels, emb), want, rtol=1e-6)


@pytest.mark.integration
def test_keras_loss_trains_a_model():
  """model.fit uses TripletLoss as is and lowers the loss of a linear embedder."""
  labels, x = make_batch(p=8, k=8, dim=16, seed=2, unit=False, spread=2.0)
  model = keras.Sequential([
      keras.Input((16,)), keras.layers.Dense(8),
      keras.layers.UnitNormalization()])
  model.compile(optimizer=keras.optimizers.Adam(0.05),
                loss=losses.TripletLoss())
  before = float(losses.triplet_semihard_loss(labels, model(x)))
  history = model.fit(x, labels, batch_size=64, epochs=20, shuffle=False,
                      verbose=0)
  after = float(losses.triplet_semihard_loss(labels, model(x)))
  # Epoch 1's loss is taken before its only update: Keras saw our value.
  np.testing.assert_allclose(history.history["loss"][0], before, rtol=1e-5)
  assert np.all(np.isfinite(history.history["loss"]))
  assert after < 0.8 * before


@pytest.mark.unit
def test_dynamic_batch_size_graph():
  """A tf.function traced with an unknown batch size gives the same loss."""
  labels, emb = make_batch(p=5, k=4, dim=16, seed=4)
  fn = tf.function(losses.triplet_semihard_loss, input_signature=[
      tf.TensorSpec([None], tf.int64), tf.TensorSpec([None, 16], tf.float32)])
  np.testing.assert_allclose(fn(labels, emb),
                             losses.triplet_semihard_loss(labels, emb),
                             rtol=1e-6)
