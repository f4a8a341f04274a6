"""Distillation losses: learn a teacher's embedding of the same faces.

The teacher (dlib's face-recognition ResNet, data_pipelines/teacher.py) gave
every training crop a 128-d descriptor, stored with the crop. No identity
labels are needed: every face counts, not only identities with many images.
A row of zeros means "no target" (the teacher could not describe that
face); such rows take no part. Two losses, chosen by measurement
(WORKSPACE_NOTES.md, "#30"):

  cosine       regression of the student's unit embedding onto the
               teacher's direction: mean over faces of 1 - cos(s, t), which
               for unit vectors is ||s - t/|t| ||^2 / 2. The student's space
               becomes the teacher's, so its embeddings are comparable with
               face_recognition's encodings (normalised).
  relational   the student's pairwise squared-L2 distance matrix matches the
               teacher's (of the normalised descriptors) over all pairs of
               faces with a target: mean of (d_s - d_t)^2 (RKD's distance
               term, Park et al. 2019, unnormalised: both live on the unit
               sphere). Only the geometry is copied, not the coordinates.
  harmonic     §7's harmonic triplet loss (losses/harmonic.py) with the
               teacher as the frozen v1: semi-hard triplets mined over the
               union of student and (normalised) teacher embeddings, so the
               two become comparable. Needs labels; `harmonic_terms` of
               losses/harmonic.py on (student, `unit_targets(targets)`).

dlib's unit descriptors share one direction (their mean has norm 0.93:
two people's faces sit at cosine 0.85, one person's at 0.95), so regressing
onto them lets a student park every face near that mean at a small loss
(WORKSPACE_NOTES.md, #30 session 12). `centred_targets` subtracts the
training set's mean unit descriptor first (the shards' manifest holds it),
so the cosine and relational losses copy what tells faces apart; the §7
harmonic loss keeps the raw descriptors, the ones face_recognition stores.

The losses return additive terms (sum, count), like the triplet miners, so a
distributed step divides its replica's sum by the all-reduced count and the
replicas' shares add up to one device's loss. The relational loss takes its
anchors' rows against the gathered keys, as the triplet loss mines globally.
"""
import collections

import tensorflow as tf

from facenet_tf.losses import distances

LOSSES = ("cosine", "relational", "harmonic")
DistillTerms = collections.namedtuple("DistillTerms", ["loss_sum", "count"])


def target_mask(targets):
  """bool [B]: the rows that hold a teacher target (not all zeros)."""
  return tf.reduce_any(tf.not_equal(targets, 0.0), axis=-1)


def _unit(x):
  return tf.math.l2_normalize(tf.cast(x, tf.float32), axis=-1)


def unit_targets(targets):
  """The teacher's descriptors on the unit sphere (zero rows stay zero)."""
  return _unit(targets)


def centred_targets(targets, center):
  """unit(unit(t) - center) per row; rows without a target stay zero.

  Args:
    targets: float [B, D], the teacher's descriptors; zero rows: none.
    center: float [D], the mean of the training set's unit descriptors.
  """
  has = tf.cast(target_mask(targets), tf.float32)[:, None]
  return _unit(_unit(targets) - tf.cast(center, tf.float32)) * has


def cosine_terms(embeddings, targets):
  """Sum over faces with a target of 1 - cos(student, teacher), and count.

  Args:
    embeddings: float [B, D], the student's (L2-normalised) embeddings.
    targets: float [B, D], the teacher's descriptors; zero rows: none.
  """
  has = tf.cast(target_mask(targets), tf.float32)
  # 1. Both on the unit sphere: the teacher's norm carries no identity.
  cosine = tf.reduce_sum(_unit(embeddings) * _unit(targets), axis=-1)
  # 2. One term per face with a target; the others weigh nothing.
  return DistillTerms(tf.reduce_sum((1.0 - cosine) * has),
                      tf.reduce_sum(has))


def relational_terms(embeddings, targets, keys=None, key_targets=None,
                     offset=0):
  """Sum over pairs of (d_student - d_teacher)^2, and the pair count.

  Args:
    embeddings: float [A, D], this replica's (anchor) student embeddings.
    targets: float [A, D], their teacher descriptors (zero rows: none).
    keys, key_targets: float [B, D], the gathered global batch's; None: the
      anchors themselves (one device).
    offset: where the anchors sit among the keys (replica id x A).
  """
  if keys is None:
    keys, key_targets = embeddings, targets
  # 1. Squared L2 between unit vectors, student and teacher alike, [A, B].
  d_student = distances.distance_matrix(_unit(embeddings), _unit(keys),
                                        "squared_l2")
  d_teacher = distances.distance_matrix(_unit(targets), _unit(key_targets),
                                        "squared_l2")
  # 2. Pairs of two different faces that both have a target.
  anchors = tf.shape(embeddings)[0]
  same_item = tf.equal(tf.range(anchors)[:, None] + offset,
                       tf.range(tf.shape(keys)[0])[None, :])
  valid = (target_mask(targets)[:, None] & target_mask(key_targets)[None, :]
           & ~same_item)
  valid = tf.cast(valid, tf.float32)
  # 3. The teacher is fixed: no gradient reaches its distances.
  error = tf.square(d_student - tf.stop_gradient(d_teacher))
  return DistillTerms(tf.reduce_sum(error * valid), tf.reduce_sum(valid))


def distillation_loss(embeddings, targets, kind="cosine", center=None):
  """The single-device mean loss of `kind` ('cosine' or 'relational'; the
  harmonic loss is losses.harmonic_loss(student, unit_targets, labels)),
  onto the targets centred on `center` when it is given."""
  if kind not in LOSSES[:2]:
    raise ValueError(f"Unknown label-free distillation loss {kind!r}; "
                     f"expected one of {LOSSES[:2]}.")
  if center is not None:
    targets = centred_targets(targets, center)
  terms = (cosine_terms if kind == "cosine" else relational_terms)(
      embeddings, targets)
  return tf.math.divide_no_nan(terms.loss_sum, terms.count)
