"""Pairwise distances between embeddings (paper §3.1: squared L2).

All metrics are computed in float32 whatever the input dtype, so that mixed
precision models mine in full precision. The formulas follow
tensorflow-addons' `pairwise_distance` / `angular_distance` exactly, which is
what lets our losses reproduce its golden gradients.
"""
import tensorflow as tf

METRICS = ("squared_l2", "l2", "angular")


def check_metric(metric):
  if metric not in METRICS:
    raise ValueError(f"Unknown metric {metric!r}; expected one of {METRICS}.")


def distance_matrix(queries, keys, metric="squared_l2", same_item=None):
  """Distances [A, B] between `queries` [A, D] and `keys` [B, D].

  Args:
    queries: float tensor [A, D].
    keys: float tensor [B, D].
    metric: 'squared_l2', 'l2' or 'angular' (1 - cosine similarity).
    same_item: optional bool [A, B], True where query a and key b are the same
      example; those distances are forced to exactly 0 (the diagonal of a
      square matrix, or a replica's own rows inside a gathered batch).
  """
  check_metric(metric)
  queries = tf.cast(queries, tf.float32)
  keys = tf.cast(keys, tf.float32)
  if metric == "angular":
    q = tf.math.l2_normalize(queries, axis=1)
    k = tf.math.l2_normalize(keys, axis=1)
    # Rounding can push 1 - cos slightly below 0; distances are never < 0.
    dist = tf.maximum(1.0 - tf.matmul(q, k, transpose_b=True), 0.0)
  else:
    dist = _euclidean(queries, keys, squared=metric == "squared_l2")
  if same_item is not None:
    dist = dist * tf.cast(tf.logical_not(same_item), tf.float32)
  return dist


def _euclidean(queries, keys, squared):
  """(Squared) Euclidean distances, safe at 0 in value and in gradient."""
  # ||q||^2 - 2 q.k + ||k||^2, one matmul: O(A*B) memory, never A*B*D.
  sq = (tf.reduce_sum(tf.square(queries), axis=1, keepdims=True)
        + tf.reduce_sum(tf.square(keys), axis=1)[tf.newaxis, :]
        - 2.0 * tf.matmul(queries, keys, transpose_b=True))
  # Cancellation can make the expansion slightly negative: clamp at 0.
  sq = tf.maximum(sq, 0.0)
  zero = sq <= 0.0
  if squared:
    dist = sq
  else:
    # d sqrt(x)/dx is infinite at 0. Where x == 0 take sqrt(1e-16) instead and
    # mask the result, so the value is 0 and the gradient is exactly 0, not NaN.
    dist = tf.sqrt(sq + tf.cast(zero, tf.float32) * 1e-16)
  return dist * tf.cast(tf.logical_not(zero), tf.float32)


def pairwise_distances(embeddings, metric="squared_l2"):
  """Distances [B, B] between all rows of `embeddings` [B, D]; 0 on the diagonal."""
  embeddings = tf.convert_to_tensor(embeddings)
  eye = tf.eye(tf.shape(embeddings)[0], dtype=tf.bool)
  return distance_matrix(embeddings, embeddings, metric, same_item=eye)
