"""Harmonic triplet loss (arXiv v3 §7): a v2 embedding comparable with v1's.

v1 is an older model, frozen; v2 is being trained. Both embed the same
batch, and the loss runs on the union of the two sets of embeddings:

  1. U = [v2 (B rows); v1 (B rows)], every image twice, labels repeated;
  2. the distance matrix over U, [2B, 2B] (O(B^2) memory, as the other
     losses): the v1 and v2 embeddings of one image are two items, so
     (i, i + B) is a positive pair, the pair that ties v2 to v1;
  3. positives: same label, not the same item, and not both from v1;
  4. negatives: any other identity, of either version, mined with the
     `MINERS` of facenet_tf.losses (semi-hard by default: §7 Fig. 9 mines
     semi-hard negatives "from the union of v1 and v2 embeddings").

The distributed train step mines its own replica's anchors (both versions)
against the gathered union; `union_distances` takes those keys, and with no
keys it is the single-device case that `harmonic_terms` uses.
"""
import tensorflow as tf

from facenet_tf.losses import distances
from facenet_tf.losses import mining as mining_lib
from facenet_tf.losses import triplet


def _versions(v2, v1):
  """The union [v2; v1] and a bool [2B] marking its v1 rows."""
  # §7: v1 is the old, fixed model; no gradient may reach it.
  v1 = tf.stop_gradient(tf.cast(v1, tf.float32))
  union = tf.concat([tf.cast(v2, tf.float32), v1], axis=0)
  is_v1 = tf.concat([tf.zeros(tf.shape(v2)[:1], tf.bool),
                     tf.ones(tf.shape(v1)[:1], tf.bool)], axis=0)
  return union, is_v1


def union_distances(v2, v1, labels, keys_v2=None, keys_v1=None,
                    key_labels=None, offset=0, metric="squared_l2"):
  """Distances and masks of the anchors [v2; v1] against the keys' union.

  Args:
    v2: float [B, D], the anchors' v2 embeddings (in training).
    v1: float [B, D], the same images' v1 embeddings (frozen).
    labels: int [B], their identities.
    keys_v2, keys_v1, key_labels: the keys' [N, D], [N, D] and [N]; None:
      the anchors themselves (one device). Under replicas: the gathered
      global batch, holding the anchors at rows offset..offset + B - 1.
    offset: where the anchors sit among the keys.
    metric: a facenet_tf.losses.METRICS name.

  Returns:
    (dist [2B, 2N], pos [2B, 2N], neg [2B, 2N]) for facenet_tf.losses.MINERS.
  """
  labels = tf.reshape(labels, [-1])
  if keys_v2 is None:
    keys_v2, keys_v1, key_labels = v2, v1, labels
  key_labels = tf.reshape(key_labels, [-1])
  # 1. Both versions of every anchor and of every key, labels repeated.
  anchors, anchor_is_v1 = _versions(v2, v1)
  keys, key_is_v1 = _versions(keys_v2, keys_v1)
  anchor_labels = tf.concat([labels, labels], axis=0)
  union_labels = tf.concat([key_labels, key_labels], axis=0)
  # 2. Only an embedding is the same item as itself: v2 row i is key
  #    offset + i, v1 row i is key N + offset + i. The v1 and v2 embeddings
  #    of one image are distinct items, hence a positive pair.
  b, n = tf.shape(labels)[0], tf.shape(key_labels)[0]
  local = tf.range(b) + offset
  anchor_item = tf.concat([local, local + n], axis=0)
  same_item = tf.equal(anchor_item[:, None], tf.range(2 * n)[None, :])
  dist = distances.distance_matrix(anchors, keys, metric, same_item)
  # 3. A v1-v1 pair is left out: its d(a, p) is a constant of the frozen
  #    model, so its term trains v2 only through a v2 negative, and with a v1
  #    negative it would add to the mean a violation v2 cannot change.
  pos, neg = mining_lib.label_masks(anchor_labels, union_labels, same_item)
  pos &= ~(anchor_is_v1[:, None] & key_is_v1[None, :])
  return dist, pos, neg


def harmonic_terms(v2, v1, labels, margin=0.2, metric="squared_l2",
                   mining="semihard"):
  """`TripletTerms` of the harmonic loss over one batch (one device).

  Args:
    v2: float [B, D], v2 embeddings of the batch (the model in training).
    v1: float [B, D], v1 embeddings of the same images (frozen; no gradient).
    labels: int [B] identities.
    margin: the triplet margin alpha (paper §3.1: 0.2).
    metric: a facenet_tf.losses.METRICS name (paper: squared L2).
    mining: a facenet_tf.losses.MINERS name; 'semihard' is §7 Fig. 9's.

  Returns:
    facenet_tf.losses.TripletTerms; `summarize` turns them into the loss.
  """
  if mining not in mining_lib.MINERS:
    raise ValueError(f"Unknown triplet mining {mining!r}; expected one of "
                     f"{sorted(mining_lib.MINERS)}.")
  dist, pos, neg = union_distances(v2, v1, labels, metric=metric)
  # 4. Negatives of either version, mined over the whole union.
  return mining_lib.MINERS[mining](dist, pos, neg, margin)


def harmonic_loss(v2, v1, labels, margin=0.2, metric="squared_l2",
                  mining="semihard", with_stats=False):
  """Mean harmonic triplet loss; with `with_stats`, (loss, mining stats)."""
  loss, stats = triplet.summarize(
      harmonic_terms(v2, v1, labels, margin, metric, mining))
  return (loss, stats) if with_stats else loss
