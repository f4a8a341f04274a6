"""Triplet mining on a distance matrix, in O(A*B) memory (paper §3.2).

Every miner takes `dist` [A, B] (rows: anchors, columns: candidates), and the
bool masks `pos` (same identity, not the anchor itself) and `neg` (another
identity), and returns `TripletTerms`: sums and counts, never means. Sums add
across replicas, so the distributed train step can mine over the gathered
global batch with each replica's own anchors as rows, all-reduce the terms and
divide once.

No miner builds an A*B*B tensor. Per anchor the negatives are sorted once
(O(B log B)), and a binary search per positive finds its negative. Outside
XLA the positives are first packed into [A, Q] with Q = the most positives of
any anchor (K - 1 in a P x K batch, ~2% of B at the paper's 45 x 40), so the
searches cost O(A Q log B); under XLA shapes must be static and Q = B.
The search is written out (`_search`) rather than `tf.searchsorted`: XLA
lowers searchsorted to a compare against every element, an A*B*B tensor
(it ran out of 24 GB at B = 1,800), while log2(B) gathers stay O(A*B).
"""
from typing import NamedTuple

import tensorflow as tf
# Private, but the only way to ask whether we are being compiled by XLA.
from tensorflow.python.ops import control_flow_util


class TripletTerms(NamedTuple):
  """Additive pieces of a triplet loss and of its mining statistics."""
  loss_sum: tf.Tensor        # sum of the per-term losses
  loss_count: tf.Tensor      # the loss's denominator (pairs, anchors, or active triplets)
  active_count: tf.Tensor    # terms (or triplets) with a loss > 0
  candidate_count: tf.Tensor  # terms (or triplets) that could be active
  d_ap_sum: tf.Tensor        # sum of d(a, p) over the terms used
  d_an_sum: tf.Tensor        # sum of d(a, n) over the negatives used
  distance_count: tf.Tensor  # count behind d_ap_sum / d_an_sum
  positive_pairs: tf.Tensor  # (a, p) pairs with a != p and the same label
  anchors_without_positive: tf.Tensor
  anchors_without_negative: tf.Tensor


def label_masks(anchor_labels, labels, same_item):
  """Positive and negative masks [A, B] from integer labels of any values."""
  anchor_labels = tf.reshape(anchor_labels, [-1, 1])
  labels = tf.reshape(labels, [1, -1])
  same = tf.equal(anchor_labels, labels)
  return tf.logical_and(same, tf.logical_not(same_item)), tf.logical_not(same)


def _f32(x):
  return tf.cast(x, tf.float32)


def _masked_sum(values, mask):
  # where(), not a product: values may be +inf where the mask is False.
  return tf.reduce_sum(tf.where(mask, values, tf.zeros_like(values)))


def _search(sorted_rows, queries, side):
  """Per row, how many of `sorted_rows` [A, N] are < (left) or <= (right)
  each of `queries` [A, Q]: `tf.searchsorted` as a static binary search."""
  n = sorted_rows.shape[1]
  if n is None:  # dynamic batch size: never under XLA, the kernel is fine
    return tf.searchsorted(sorted_rows, queries, side=side)
  count = tf.zeros(tf.shape(queries), tf.int32)
  step = 1 << (n.bit_length() - 1)
  while step:
    # Invariant: the first `count` sorted values pass the test; try `step` more.
    probe = count + step
    value = tf.gather(sorted_rows, tf.minimum(probe, n) - 1, batch_dims=1)
    passes = value <= queries if side == "right" else value < queries
    count = tf.where((probe <= n) & passes, probe, count)
    step //= 2
  return count


def _sorted_negatives(dist, neg):
  """Per anchor: negative distances ascending, then +inf; the order; the count."""
  padded = tf.where(neg, dist, tf.fill(tf.shape(dist), float("inf")))
  # top_k of the negated row is a full sort that also returns the values.
  neg_sorted, order = tf.math.top_k(-padded, k=tf.shape(dist)[1])
  return -neg_sorted, order, tf.reduce_sum(tf.cast(neg, tf.int32), axis=1)


def _in_xla():
  return control_flow_util.GraphOrParentsInXlaContext(
      tf.compat.v1.get_default_graph())


def _positive_pairs(dist, pos):
  """The (a, p) pairs as [A, Q]: d(a, p), and a mask of the real pairs."""
  if _in_xla():
    return dist, pos
  q = tf.reduce_max(tf.reduce_sum(tf.cast(pos, tf.int32), axis=1))
  # Distances are >= 0, so -1 marks the slots of anchors with fewer positives.
  d_ap, _ = tf.math.top_k(tf.where(pos, dist, -1.0), k=q)
  return d_ap, d_ap >= 0.0


def _terms(loss, valid, d_ap, d_an, pos, neg, active=None, candidates=None):
  """Packs per-term tensors into sums; `valid` marks the terms that exist."""
  has_pair = tf.reduce_any(pos)
  # A batch with no positive pair has no triplet: loss 0, gradient 0 (tfa
  # returned NaN from 0 / 0 here).
  loss_sum = tf.where(has_pair, _masked_sum(loss, valid), 0.0)
  count = _f32(tf.reduce_sum(tf.cast(valid, tf.int32)))
  return TripletTerms(
      loss_sum=loss_sum,
      loss_count=tf.where(has_pair, count, 0.0),
      active_count=(_f32(tf.reduce_sum(tf.cast(valid & (loss > 0), tf.int32)))
                    if active is None else active),
      candidate_count=count if candidates is None else candidates,
      d_ap_sum=_masked_sum(d_ap, valid),
      d_an_sum=_masked_sum(d_an, valid),
      distance_count=count,
      positive_pairs=_f32(tf.reduce_sum(tf.cast(pos, tf.int32))),
      anchors_without_positive=_f32(
          tf.reduce_sum(tf.cast(~tf.reduce_any(pos, axis=1), tf.int32))),
      anchors_without_negative=_f32(
          tf.reduce_sum(tf.cast(~tf.reduce_any(neg, axis=1), tf.int32))))


def semihard_terms(dist, pos, neg, margin):
  """Every (a, p); n = the closest negative with d(a, n) > d(a, p) (Eq. 4).

  If no negative is farther than the positive, n is the farthest negative
  (tensorflow-addons' rule). Pairs whose anchor has no negative are skipped.
  """
  sorted_neg, order, num_neg = _sorted_negatives(dist, neg)
  d_ap, pairs = _positive_pairs(dist, pos)
  # Index of the first sorted negative strictly greater than d(a, p).
  first_farther = _search(sorted_neg, d_ap, side="right")
  farthest = tf.maximum(num_neg - 1, 0)[:, tf.newaxis]
  idx = tf.where(first_farther < num_neg[:, tf.newaxis], first_farther,
                 farthest)
  # Gather through the sort order so the gradient reaches d(a, n) itself.
  d_an = tf.gather(dist, tf.gather(order, idx, batch_dims=1), batch_dims=1)
  valid = pairs & (num_neg > 0)[:, tf.newaxis]
  loss = tf.maximum(d_ap - d_an + margin, 0.0)
  return _terms(loss, valid, d_ap, d_an, pos, neg)


def hardest_negative_terms(dist, pos, neg, margin):
  """Every (a, p); n = the closest negative of a. The paper warns this can
  collapse the model to f(x) = 0 early in training (§3.2)."""
  hardest = tf.reduce_min(tf.where(neg, dist, float("inf")), axis=1,
                          keepdims=True)
  d_an = tf.broadcast_to(hardest, tf.shape(dist))
  valid = pos & tf.reduce_any(neg, axis=1, keepdims=True)
  loss = tf.maximum(dist - d_an + margin, 0.0)
  return _terms(loss, valid, dist, d_an, pos, neg)


def _mix32(x):
  """lowbias32 (C. Wellons' hash prospector): a bijective hash of uint32."""
  for shift, factor in ((16, 0x7feb352d), (15, 0x846ca68b)):
    x = tf.bitwise.bitwise_xor(x, tf.bitwise.right_shift(x, shift))
    x *= tf.constant(factor, tf.uint32)  # wraps modulo 2^32
  return tf.bitwise.bitwise_xor(x, tf.bitwise.right_shift(x, 16))


def random_negative_indices(neg, seed):
  """Per (a, b) entry of `neg` [A, B], the column of a uniformly random
  negative of anchor a, drawn independently for every entry.

  The draw is an integer hash of (seed, a, b), not a TF random op: TF's
  stateless RNG gives other numbers under XLA, a hash gives the same bits in
  eager, XLA and NumPy. It picks the r-th negative (column order), r uniform
  in [0, count): O(A B log B), no [A, B, B] noise as an argmax of random
  scores per pair would need. Rows without a negative get some column.

  Args:
    neg: bool [A, B], True where column b is a negative of anchor a.
    seed: integer scalar.

  Returns:
    int32 [A, B] column indices.
  """
  # top_k is stable: the negatives' columns first, in column order.
  order = tf.math.top_k(tf.cast(neg, tf.int32), k=tf.shape(neg)[1]).indices
  num_neg = tf.reduce_sum(tf.cast(neg, tf.int64), axis=1, keepdims=True)
  entry = tf.reshape(tf.range(tf.size(neg)), tf.shape(neg))
  bits = _mix32(tf.cast(entry, tf.uint32) + _mix32(tf.cast(seed, tf.uint32)))
  # The top 24 bits are a fraction k / 2^24; floor(k * count / 2^24) is an
  # exact integer in [0, count), uniform to within count / 2^24.
  rank = tf.bitwise.right_shift(
      tf.cast(tf.bitwise.right_shift(bits, 8), tf.int64) * num_neg, 24)
  return tf.gather(order, tf.cast(rank, tf.int32), batch_dims=1)


def _batch_seed(dist, neg):
  """A seed that changes with the batch: a weighted sum of each anchor's
  closest-negative column. Integers, so eager and XLA agree unless two
  distances are within rounding of each other."""
  hardest = tf.argmin(tf.where(neg, dist, float("inf")), axis=1)
  weights = tf.range(1, tf.size(hardest, out_type=tf.int64) + 1)
  return tf.reduce_sum(hardest * weights)


def random_negative_terms(dist, pos, neg, margin, seed=None):
  """Every (a, p); n = a negative of a chosen uniformly at random, the
  baseline that §3.2's semi-hard selection improves on.

  The draw is a function of `seed` (an integer) or, by default, of the
  batch: the loss is a function of its inputs (eager and XLA agree, a step
  replays identically), and every new batch draws new negatives.
  """
  seed = _batch_seed(dist, neg) if seed is None else seed
  d_an = tf.gather(dist, random_negative_indices(neg, seed), batch_dims=1)
  valid = pos & tf.reduce_any(neg, axis=1, keepdims=True)
  loss = tf.maximum(dist - d_an + margin, 0.0)
  return _terms(loss, valid, dist, d_an, pos, neg)


def batch_hard_terms(dist, pos, neg, margin, soft=False):
  """Per anchor: the farthest positive and the closest negative.

  An anchor with no positive is its own positive (d(a, p) = 0), as in
  tensorflow-addons. `soft` uses softplus(d_ap - d_an), with no margin.
  """
  d_ap = tf.reduce_max(tf.where(pos, dist, 0.0), axis=1)
  d_an = tf.reduce_min(tf.where(neg, dist, float("inf")), axis=1)
  valid = tf.reduce_any(neg, axis=1)
  x = d_ap - d_an
  loss = tf.math.softplus(x) if soft else tf.maximum(x + margin, 0.0)
  return _terms(loss, valid, d_ap, d_an, pos, neg)


def batch_all_terms(dist, pos, neg, margin):
  """Mean hinge over all (a, p, n) triplets whose hinge is > 0.

  For each (a, p), the active negatives are those with d(a, n) < d(a, p) + m:
  a prefix of the anchor's sorted negatives. Their hinge sum is
  c * (d(a, p) + m) - (sum of the first c), from a prefix sum: O(B^2 log B).
  """
  sorted_neg, order, num_neg = _sorted_negatives(dist, neg)
  finite = tf.gather(tf.where(neg, dist, 0.0), order, batch_dims=1)
  prefix = tf.pad(tf.cumsum(finite, axis=1), [[0, 0], [1, 0]])
  d_ap, pairs = _positive_pairs(dist, pos)
  c = _search(sorted_neg, d_ap + margin, side="left")
  d_an_sum = tf.gather(prefix, c, batch_dims=1)
  c = _f32(c)
  valid = pairs & (num_neg > 0)[:, tf.newaxis]
  hinge_sum = c * (d_ap + margin) - d_an_sum
  active = _masked_sum(c, valid)
  terms = _terms(hinge_sum, valid, d_ap, d_an_sum, pos, neg,
                 active=active, candidates=_masked_sum(
                     tf.broadcast_to(_f32(num_neg)[:, tf.newaxis],
                                     tf.shape(d_ap)), valid))
  # The mean runs over active triplets, and d(a, n) over their negatives.
  return terms._replace(
      loss_count=tf.where(terms.loss_count > 0, active, 0.0),
      d_ap_sum=_masked_sum(c * d_ap, valid), distance_count=active)


MINERS = {
    "semihard": semihard_terms,
    "hard": batch_hard_terms,
    "hard_soft": lambda d, p, n, m: batch_hard_terms(d, p, n, m, soft=True),
    "batch_all": batch_all_terms,
    "hardest_negative": hardest_negative_terms,
    "random": random_negative_terms,
}
