"""The `random` miner: one uniformly random negative per (a, p) (paper §3.2).

Fixture (`_rows`): 16 keys with labels [0]*4 + [1]*4 + [2]*3 + [3]*2 + [4, 5,
6], random unit 8-d embeddings; the anchors are keys 0, 4, 8, 11, 13 (labels
0, 1, 2, 3, 4) mined against all 16 keys, an [A, B] = [5, 16] matrix as in
the trainer's `mine`. Their positives: 3 + 3 + 2 + 1 + 0 = 9 pairs; their
negatives: 12, 12, 13, 14 and 15 keys.
"""
import numpy as np
import pytest
import tensorflow as tf

from facenet_tf import losses
from facenet_tf.losses import mining

MARGIN = 0.2
KEY_LABELS = np.array([0] * 4 + [1] * 4 + [2] * 3 + [3] * 2 + [4, 5, 6])
ANCHORS = np.array([0, 4, 8, 11, 13])
# chi2 upper tail: P(chi2_3 > 30.7) = P(chi2_4 > 33.4) = 1e-6, so a uniform
# draw fails the test once in a million seeds, and a biased one fails it.
CHI2_BOUND = {3: 30.7, 4: 33.4}


def _rows(seed=0):
  """dist [5, 16], pos, neg of the module docstring's anchors and keys."""
  rng = np.random.default_rng(seed)
  keys = rng.normal(size=(16, 8)).astype(np.float32)
  keys /= np.linalg.norm(keys, axis=1, keepdims=True)
  same_item = ANCHORS[:, None] == np.arange(16)[None, :]
  dist = losses.distance_matrix(keys[ANCHORS], keys, same_item=same_item)
  pos, neg = losses.label_masks(KEY_LABELS[ANCHORS], KEY_LABELS, same_item)
  return dist, pos, neg


def _chi2(counts):
  expected = np.mean(counts)
  return float(np.sum((counts - expected) ** 2 / expected))


@pytest.mark.unit
def test_chosen_negatives_are_negatives_and_loss_is_their_hinge():
  dist, pos, neg = _rows()
  idx = mining.random_negative_indices(neg, seed=7).numpy()
  d, p, n = dist.numpy(), pos.numpy(), neg.numpy()
  anchor, positive = np.nonzero(p)
  assert len(anchor) == 9
  chosen = idx[anchor, positive]
  assert n[anchor, chosen].all()
  want = np.mean(np.maximum(
      d[anchor, positive] - d[anchor, chosen] + MARGIN, 0.0))
  loss, stats = losses.summarize(
      mining.random_negative_terms(dist, pos, neg, MARGIN, seed=7))
  np.testing.assert_allclose(loss, want, rtol=1e-6)
  np.testing.assert_allclose(stats["mean_d_an"], np.mean(d[anchor, chosen]),
                             rtol=1e-6)
  assert float(stats["positive_pairs"]) == 9


@pytest.mark.unit
def test_choice_is_uniform_over_an_anchors_negatives():
  """2,000 identical rows of 12 columns, negatives at 1, 4, 5, 7 and 11:
  24,000 draws from one seed, 4,800 expected per negative."""
  row = np.isin(np.arange(12), [1, 4, 5, 7, 11])
  idx = mining.random_negative_indices(np.tile(row, (2000, 1)), seed=3)
  counts = np.bincount(idx.numpy().ravel(), minlength=12)
  assert counts[~row].sum() == 0
  assert _chi2(counts[row]) < CHI2_BOUND[4]
  # The bound can fail: 10% more draws of one negative exceed it, chi2 ~
  # (480^2 + 4 * 120^2) / 4800 = 60.
  biased = counts[row] + np.array([480, -120, -120, -120, -120])
  assert _chi2(biased) > CHI2_BOUND[4]


@pytest.mark.unit
def test_choice_is_uniform_across_seeds():
  """One entry whose anchor has negatives 0, 2, 3 and 6, drawn with seeds
  0..999: 250 expected per negative, the seeds' draws independent."""
  neg = tf.constant(np.isin(np.arange(8), [0, 2, 3, 6])[None, :])
  draw = tf.function(lambda s: mining.random_negative_indices(neg, s)[0, 5])
  picks = [int(draw(tf.constant(s))) for s in range(1000)]
  counts = np.bincount(picks, minlength=8)
  assert counts.sum() == counts[[0, 2, 3, 6]].sum()
  assert _chi2(counts[[0, 2, 3, 6]]) < CHI2_BOUND[3]


def _choice_counts(dist, pos, neg):
  """How often each (a, n) was drawn by the default (batch-keyed) draw.

  With margin 100 every term is active: loss_sum = sum over pairs of
  d(a, p) - d(a, n) + 100, so -d loss_sum / d d(a, n) counts the pairs of a
  that drew n.
  """
  with tf.GradientTape() as tape:
    tape.watch(dist)
    loss_sum = mining.random_negative_terms(dist, pos, neg, 100.0).loss_sum
  return np.where(neg, -tape.gradient(loss_sum, dist).numpy(), 0.0)


@pytest.mark.unit
def test_default_draw_is_a_function_of_the_batch():
  """The same batch draws the same negatives; another batch (embedding seed
  1) redraws them. Anchors 0, 4, 8, 11 have 12, 12, 13, 14 negatives for 3,
  3, 2, 1 pairs: the same columns again has probability 12^-6 13^-2 14^-1
  = 1.4e-11, the same counts (any order within an anchor) at most
  3! 3! 2! = 72 times that, 1e-9."""
  first = _choice_counts(*_rows(0))
  np.testing.assert_array_equal(_choice_counts(*_rows(0)), first)
  other = _choice_counts(*_rows(1))
  assert first.sum() == other.sum() == 9
  assert (first != other).any()


@pytest.mark.unit
def test_xla_equals_eager_with_gradient():
  labels = np.repeat(np.arange(6), 4)
  emb = tf.constant(np.random.default_rng(2).normal(size=(24, 8)), tf.float32)

  def loss_and_grad(emb):
    with tf.GradientTape() as tape:
      tape.watch(emb)
      loss = losses.triplet_random_negative_loss(labels, emb)
    return loss, tape.gradient(loss, emb)

  eager = loss_and_grad(emb)
  xla = tf.function(loss_and_grad, jit_compile=True)(emb)
  assert float(eager[0]) > 0
  np.testing.assert_allclose(xla[0], eager[0], rtol=1e-5)
  np.testing.assert_allclose(xla[1], eager[1], atol=1e-5)


@pytest.mark.unit
def test_anchor_without_negative_contributes_nothing():
  """Row 0: positives at columns 1, 2, negatives at 3, 4 (2 pairs). Row 1:
  positives at 0, 2, no negative (a single-identity row): no term, so
  loss_count = 2 and anchors_without_negative = 1."""
  dist = tf.constant([[0.0, 0.3, 0.5, 0.4, 0.9],
                      [0.3, 0.0, 0.2, 0.0, 0.0]])
  pos = tf.constant([[False, True, True, False, False],
                     [True, False, True, False, False]])
  neg = tf.constant([[False, False, False, True, True],
                     [False, False, False, False, False]])
  with tf.GradientTape() as tape:
    tape.watch(dist)
    terms = mining.random_negative_terms(dist, pos, neg, MARGIN, seed=0)
    loss, stats = losses.summarize(terms)
  grad = tape.gradient(loss, dist).numpy()
  assert float(terms.loss_count) == 2
  assert float(stats["anchors_without_negative"]) == 1
  assert np.isfinite(float(loss)) and np.isfinite(grad).all()
  assert not grad[1].any()


@pytest.mark.unit
def test_batch_without_negative_gives_zero_loss_and_gradient():
  """One identity, 5 images: 20 pairs, no negative anywhere."""
  emb = tf.constant(np.random.default_rng(3).normal(size=(5, 4)), tf.float32)
  with tf.GradientTape() as tape:
    tape.watch(emb)
    loss, stats = losses.triplet_random_negative_loss(
        np.zeros(5), emb, with_stats=True)
  assert float(loss) == 0 and float(stats["positive_pairs"]) == 20
  assert float(stats["anchors_without_negative"]) == 5
  assert not tape.gradient(loss, emb).numpy().any()
