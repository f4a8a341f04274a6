"""Public triplet losses (paper §3.1 Eq. 3, §3.2 triplet selection).

Each loss is a pure function of (labels, embeddings). Defaults follow the
paper: squared L2 distance, margin α = 0.2, all anchor-positive pairs.
With `with_stats=True` a loss returns `(loss, stats)`, the mining statistics
coming from the same tensors as the loss, with no second pass.
"""
import tensorflow as tf

from facenet_tf.losses import distances
from facenet_tf.losses import mining


def mining_terms(labels, embeddings, kind="semihard", margin=0.2,
                 metric="squared_l2"):
  """`TripletTerms` of one batch, mined over all of it."""
  if kind not in mining.MINERS:
    raise ValueError(
        f"Unknown triplet mining {kind!r}; expected one of {sorted(mining.MINERS)}.")
  embeddings = tf.convert_to_tensor(embeddings)
  labels = tf.reshape(tf.convert_to_tensor(labels), [-1])
  dist = distances.pairwise_distances(embeddings, metric)
  eye = tf.eye(tf.shape(labels)[0], dtype=tf.bool)
  pos, neg = mining.label_masks(labels, labels, same_item=eye)
  return mining.MINERS[kind](dist, pos, neg, margin)


def summarize(terms):
  """(loss, stats) from `TripletTerms`, summed over replicas or not."""
  div = tf.math.divide_no_nan
  loss = div(terms.loss_sum, terms.loss_count)
  stats = {
      "loss": loss,
      "active_fraction": div(terms.active_count, terms.candidate_count),
      "mean_d_ap": div(terms.d_ap_sum, terms.distance_count),
      "mean_d_an": div(terms.d_an_sum, terms.distance_count),
      "positive_pairs": terms.positive_pairs,
      "anchors_without_positive": terms.anchors_without_positive,
      "anchors_without_negative": terms.anchors_without_negative,
  }
  return loss, stats


def _loss(kind, labels, embeddings, margin, metric, with_stats):
  loss, stats = summarize(mining_terms(labels, embeddings, kind, margin, metric))
  return (loss, stats) if with_stats else loss


def triplet_semihard_loss(labels, embeddings, margin=0.2, metric="squared_l2",
                          with_stats=False):
  """Mean over all (a, p) of [d(a,p) - d(a,n) + margin]+, n semi-hard."""
  return _loss("semihard", labels, embeddings, margin, metric, with_stats)


def triplet_hard_loss(labels, embeddings, margin=0.2, soft=False,
                      metric="squared_l2", with_stats=False):
  """Batch-hard: mean over anchors of the hardest positive vs hardest negative.

  `soft=True` replaces the hinge with softplus(d_ap - d_an) (no margin).
  """
  kind = "hard_soft" if soft else "hard"
  return _loss(kind, labels, embeddings, margin, metric, with_stats)


def triplet_batch_all_loss(labels, embeddings, margin=0.2, metric="squared_l2",
                           with_stats=False):
  """Mean of the hinge over every (a, p, n) triplet whose hinge is > 0."""
  return _loss("batch_all", labels, embeddings, margin, metric, with_stats)


def triplet_hardest_negative_loss(labels, embeddings, margin=0.2,
                                  metric="squared_l2", with_stats=False):
  """Mean over all (a, p) of the hinge against the anchor's hardest negative."""
  return _loss("hardest_negative", labels, embeddings, margin, metric,
               with_stats)


def triplet_random_negative_loss(labels, embeddings, margin=0.2,
                                 metric="squared_l2", with_stats=False):
  """Mean over all (a, p) of the hinge against a random negative of a."""
  return _loss("random", labels, embeddings, margin, metric, with_stats)
