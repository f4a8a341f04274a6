"""Harmonic triplet loss (arXiv v3 §7) against a NumPy brute force."""
import numpy as np
import pytest
import tensorflow as tf

from facenet_tf import losses
from tests import numpy_triplets as ref


def _batch(p=4, k=3, dim=8, seed=0, spread=1.5):
  """Unit v2 and v1 embeddings of P x K images (v1 near v2, not equal)."""
  rng = np.random.default_rng(seed)
  centres = rng.normal(size=(p, dim)) * spread
  labels = np.repeat(np.arange(p), k).astype(np.int32)
  unit = lambda x: (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(
      np.float32)
  v2 = unit(centres[labels] + rng.normal(size=(p * k, dim)))
  v1 = unit(v2 + 0.7 * rng.normal(size=(p * k, dim)))
  return labels, v2, v1


def harmonic_semihard(labels, v2, v1, margin=0.2, metric="squared_l2",
                      keep_v1_pairs=False):
  """Semi-hard over every (a, p, n) of the union [v2; v1], by loops.

  A positive pair: same label, a != p, and (unless `keep_v1_pairs`) not
  both from v1. Negatives: every other-label item of either version.
  """
  emb = np.concatenate([v2, v1])
  lab = np.concatenate([labels, labels])
  is_v1 = np.arange(len(emb)) >= len(v2)
  d = ref.distances(emb, metric)
  terms = []
  for a in range(len(emb)):
    negs = [d[a, n] for n in range(len(emb)) if lab[n] != lab[a]]
    for p in range(len(emb)):
      if p == a or lab[p] != lab[a] or not negs:
        continue
      if is_v1[a] and is_v1[p] and not keep_v1_pairs:
        continue
      farther = [x for x in negs if x > d[a, p]]
      d_an = min(farther) if farther else max(negs)
      terms.append(max(d[a, p] - d_an + margin, 0.0))
  return float(np.mean(terms)) if terms else 0.0


@pytest.mark.unit
@pytest.mark.parametrize("metric", losses.METRICS)
@pytest.mark.parametrize("margin,seed", [(0.2, 0), (1.0, 1), (0.2, 2)])
def test_matches_numpy_brute_force(metric, margin, seed):
  labels, v2, v1 = _batch(seed=seed)
  loss = losses.harmonic_loss(v2, v1, labels, margin, metric)
  want = harmonic_semihard(labels, v2, v1, margin, metric)
  np.testing.assert_allclose(float(loss), want, rtol=1e-5, atol=1e-6)


@pytest.mark.unit
def test_cross_version_pair_is_a_positive():
  """One image per identity: the only positives are (i, i + B) and back."""
  rng = np.random.default_rng(4)
  v2 = rng.normal(size=(6, 8)).astype(np.float32)
  v1 = rng.normal(size=(6, 8)).astype(np.float32)
  labels = np.arange(6, dtype=np.int32)
  loss, stats = losses.harmonic_loss(v2, v1, labels, with_stats=True)
  assert float(stats["positive_pairs"]) == 2 * 6
  assert float(loss) > 0
  np.testing.assert_allclose(float(loss), harmonic_semihard(labels, v2, v1),
                             rtol=1e-5)
  # The plain triplet loss of v2 alone has no pair at all here.
  assert float(losses.triplet_semihard_loss(labels, v2)) == 0.0


@pytest.mark.unit
def test_v1_v1_pairs_are_left_out():
  p, k = 4, 3
  labels, v2, v1 = _batch(p, k, seed=6)
  loss, stats = losses.harmonic_loss(v2, v1, labels, with_stats=True)
  b = p * k
  # Every ordered same-label pair of the union, less the v1-v1 ones.
  assert float(stats["positive_pairs"]) == 2 * b * (2 * k - 1) - b * (k - 1)
  with_v1_pairs = harmonic_semihard(labels, v2, v1, keep_v1_pairs=True)
  assert abs(float(loss) - with_v1_pairs) > 1e-3
  np.testing.assert_allclose(float(loss), harmonic_semihard(labels, v2, v1),
                             rtol=1e-5)


@pytest.mark.unit
def test_gradient_reaches_v2_only():
  labels, v2, v1 = _batch(seed=7)
  v2, v1 = tf.constant(v2), tf.constant(v1)
  with tf.GradientTape(persistent=True) as tape:
    tape.watch([v2, v1])
    loss = losses.harmonic_loss(v2, v1, labels)
  grad_v2, grad_v1 = tape.gradient(loss, [v2, v1])
  assert float(tf.reduce_max(tf.abs(grad_v2))) > 1e-3
  assert grad_v1 is None or not np.any(grad_v1.numpy())


@pytest.mark.unit
def test_compiles_with_xla_in_quadratic_memory():
  """B = 24: the union is 48 rows; no HLO value is [48, 48, 48]."""
  labels, v2, v1 = _batch(p=6, k=4, seed=8)
  eager = losses.harmonic_loss(v2, v1, labels)
  jit = tf.function(lambda a, b, l: losses.harmonic_loss(a, b, l),
                    jit_compile=True)
  args = [tf.constant(x) for x in (v2, v1, labels)]
  np.testing.assert_allclose(float(jit(*args)), float(eager), rtol=1e-5)
  hlo = jit.experimental_get_compiler_ir(*args)(stage="hlo")
  assert "[48,48]" in hlo and "[48,48,48]" not in hlo


@pytest.mark.unit
def test_replica_shares_sum_to_the_whole_batch():
  """Two replicas' anchors against the gathered union: the trainer's split."""
  labels, v2, v1 = _batch(p=4, k=4, seed=9)
  whole = losses.harmonic_terms(v2, v1, labels)
  half = len(labels) // 2
  parts = []
  for r in range(2):
    rows = slice(r * half, (r + 1) * half)
    dist, pos, neg = losses.union_distances(
        v2[rows], v1[rows], labels[rows], v2, v1, labels, offset=r * half)
    assert dist.shape == (2 * half, 2 * len(labels))
    parts.append(losses.MINERS["semihard"](dist, pos, neg, 0.2))
  for name, value in whole._asdict().items():
    total = sum(float(getattr(part, name)) for part in parts)
    np.testing.assert_allclose(total, float(value), rtol=1e-5, err_msg=name)


@pytest.mark.unit
def test_unknown_mining_is_refused():
  labels, v2, v1 = _batch()
  with pytest.raises(ValueError, match="semihard"):
    losses.harmonic_loss(v2, v1, labels, mining="hardest")
