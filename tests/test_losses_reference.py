"""Our losses against the NumPy brute force of the paper's definitions.

Fixtures: P identities x K images, random embeddings, labels with arbitrary
values and shuffled order. The brute force (tests/numpy_triplets.py) loops
over every (a, p, n) in float64, so agreement within 1e-5 relative is
float32 rounding only.
"""
import numpy as np
import pytest
import tensorflow as tf

from facenet_tf import losses
from tests import numpy_triplets as ref

METRICS = ["squared_l2", "l2", "angular"]
LOSSES = {
    "semihard": (losses.triplet_semihard_loss, ref.semihard),
    "hard": (losses.triplet_hard_loss, ref.hard),
    "hard_soft": (lambda l, e, **kw: losses.triplet_hard_loss(l, e, soft=True, **kw),
                  lambda l, e, **kw: ref.hard(l, e, soft=True, **kw)),
    "batch_all": (losses.triplet_batch_all_loss, ref.batch_all),
    "hardest_negative": (losses.triplet_hardest_negative_loss,
                         ref.hardest_negative),
}


def make_batch(p=5, k=4, dim=8, seed=0, unit=True, spread=1.5):
  """P x K clustered embeddings; labels are 10 * id + 3, shuffled."""
  rng = np.random.default_rng(seed)
  centres = rng.normal(size=(p, dim))
  emb = np.repeat(centres, k, axis=0) + spread * rng.normal(size=(p * k, dim))
  if unit:
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
  labels = np.repeat(np.arange(p) * 10 + 3, k)
  perm = rng.permutation(p * k)
  return labels[perm], emb[perm].astype(np.float32)


@pytest.mark.unit
@pytest.mark.parametrize("kind", sorted(LOSSES))
@pytest.mark.parametrize("metric", METRICS)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_matches_numpy_brute_force(kind, metric, seed):
  ours, brute = LOSSES[kind]
  labels, emb = make_batch(seed=seed, p=3 + seed, k=2 + seed)
  for margin in (0.2, 1.0):
    got = float(ours(labels, emb, margin=margin, metric=metric))
    want = brute(labels, emb, margin=margin, metric=metric)
    assert want > 0, "fixture must exercise the loss"
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


@pytest.mark.unit
@pytest.mark.parametrize("kind", sorted(LOSSES))
def test_ragged_identities_and_unnormalised(kind):
  """Identities of 1..5 images (singletons are anchors without positives)."""
  rng = np.random.default_rng(7)
  labels = np.array([4, 4, 4, 4, 4, -2, 9, 9, 1000, 1000, 1000, 77])
  emb = (3.0 * rng.normal(size=(len(labels), 6))).astype(np.float32)
  ours, brute = LOSSES[kind]
  np.testing.assert_allclose(float(ours(labels, emb)), brute(labels, emb),
                             rtol=1e-5)


@pytest.mark.unit
@pytest.mark.parametrize("kind", sorted(LOSSES))
def test_no_positive_pair_is_zero_with_zero_gradient(kind):
  labels = np.arange(6)  # every identity has one image
  emb = tf.constant(make_batch(p=6, k=1)[1])
  with tf.GradientTape() as tape:
    tape.watch(emb)
    loss, stats = LOSSES[kind][0](labels, emb, with_stats=True)
  grad = tape.gradient(loss, emb)
  assert float(loss) == 0.0
  np.testing.assert_array_equal(grad.numpy(), 0.0)
  assert float(stats["positive_pairs"]) == 0
  assert float(stats["anchors_without_positive"]) == 6


@pytest.mark.unit
@pytest.mark.parametrize("dtype", [tf.int8, tf.uint8, tf.int32, tf.int64])
def test_label_dtypes_and_values(dtype):
  labels, emb = make_batch(p=4, k=3)
  want = losses.triplet_semihard_loss(labels, emb)
  # Remap the label values (10 * id + 3) to other values of the same partition.
  remapped = tf.cast((labels * 7) % 127, dtype)
  np.testing.assert_allclose(losses.triplet_semihard_loss(remapped, emb), want,
                             rtol=1e-6)
  np.testing.assert_allclose(
      losses.triplet_semihard_loss(tf.reshape(remapped, [-1, 1]), emb), want,
      rtol=1e-6)


@pytest.mark.unit
@pytest.mark.parametrize("dtype", [tf.float16, tf.bfloat16])
def test_half_precision_embeddings_are_mined_in_float32(dtype):
  labels, emb = make_batch(p=4, k=3)
  half = tf.cast(emb, dtype)
  loss = losses.triplet_semihard_loss(labels, half)
  assert loss.dtype == tf.float32
  # Same result as float32 mining on the rounded inputs, not a half-precision one.
  want = ref.semihard(labels, tf.cast(half, tf.float32).numpy())
  np.testing.assert_allclose(float(loss), want, rtol=1e-5)


@pytest.mark.unit
def test_distances_are_safe():
  """The diagonal is exactly 0; no negative distance, no NaN gradient.

  A duplicate row off the diagonal is 0 only up to the rounding of
  ||a||^2 + ||b||^2 - 2 a.b (tfa's expansion): ||a||^2 ~ 16 x 100^2 =
  1.6e5 here, so the sum is ~3.2e5, whose float32 spacing is 2^-5, and the
  norms and the matmul may sum in different orders (CPU kernel dependent:
  0.0625 seen on one host, 0 on another). So the bound is 8 ulps of the
  largest such sum (0.5; its square root for l2), and distinct rows lie
  more than 100 bounds apart (squared distances ~2e5 and more). On
  L2-normalised rows, the embeddings' own scale, duplicates stay < 1e-5.
  """
  rng = np.random.default_rng(3)
  base = rng.normal(size=(5, 16)).astype(np.float32) * 100.0
  emb = tf.constant(np.concatenate([base, base]))  # every row twice
  scale = 2.0 * np.max(np.sum(base.astype(np.float64) ** 2, axis=1))
  squared = 8 * float(np.spacing(np.float32(scale)))
  bound = {"squared_l2": squared, "l2": np.sqrt(squared), "angular": 1e-6}
  for metric in METRICS:
    with tf.GradientTape() as tape:
      tape.watch(emb)
      dist = losses.pairwise_distances(emb, metric)
      total = tf.reduce_sum(dist)
    grad = tape.gradient(total, emb).numpy()
    d = dist.numpy()
    assert np.all(d >= 0.0), metric
    assert np.all(np.isfinite(grad)), metric
    np.testing.assert_array_equal(np.diag(d), 0.0)
    np.testing.assert_allclose(np.diag(d[:5, 5:]), 0.0, atol=bound[metric])
    distinct = d[:5, :5][~np.eye(5, dtype=bool)]
    assert np.min(distinct) > 100 * bound[metric], metric
    np.testing.assert_allclose(d, ref.distances(emb.numpy(), metric),
                               rtol=1e-4, atol=bound[metric])
    # At the model's scale (L2-normalised rows) the old 1e-5 bound holds.
    unit = tf.math.l2_normalize(emb, axis=1)
    d_unit = losses.pairwise_distances(unit, metric).numpy()
    np.testing.assert_allclose(np.diag(d_unit[:5, 5:]), 0.0, atol=1e-5)


@pytest.mark.unit
def test_stats_match_brute_force():
  """Semi-hard stats of the fixture, recomputed by explicit loops."""
  labels, emb = make_batch(p=4, k=3, seed=5)
  loss, stats = losses.triplet_semihard_loss(labels, emb, with_stats=True)
  d = ref.distances(emb, "squared_l2")
  d_ap, d_an, active = [], [], 0
  for a in range(len(labels)):
    negs = sorted(d[a, n] for n in range(len(labels)) if labels[n] != labels[a])
    for p in range(len(labels)):
      if p == a or labels[p] != labels[a]:
        continue
      farther = [x for x in negs if x > d[a, p]]
      d_ap.append(d[a, p])
      d_an.append(farther[0] if farther else negs[-1])
      active += d_ap[-1] - d_an[-1] + 0.2 > 0
  assert float(stats["positive_pairs"]) == len(d_ap) == 4 * 3 * 2
  np.testing.assert_allclose(float(stats["mean_d_ap"]), np.mean(d_ap), rtol=1e-5)
  np.testing.assert_allclose(float(stats["mean_d_an"]), np.mean(d_an), rtol=1e-5)
  np.testing.assert_allclose(float(stats["active_fraction"]),
                             active / len(d_ap), rtol=1e-6)
  assert float(stats["anchors_without_negative"]) == 0
  assert float(stats["loss"]) == float(loss)


@pytest.mark.unit
def test_single_identity_batch_has_no_triplet():
  """All anchors lack negatives: no term exists, so the loss is 0 and says so."""
  emb = make_batch(p=1, k=5)[1]
  loss, stats = losses.triplet_semihard_loss(np.zeros(5, np.int32), emb,
                                             with_stats=True)
  assert float(loss) == 0.0
  assert float(stats["anchors_without_negative"]) == 5
  assert float(stats["positive_pairs"]) == 20


@pytest.mark.unit
def test_unknown_metric_and_mining_are_refused():
  with pytest.raises(ValueError, match="squared_l2"):
    losses.pairwise_distances(np.ones((2, 2), np.float32), "cosine")
  with pytest.raises(ValueError, match="semihard"):
    losses.TripletLoss(mining="hardest")
