"""Cosine-margin softmax (CosFace, Wang et al. 2018): an auxiliary loss.

Not in the paper, which trains on the triplet loss alone with ~8M identities
(§2, §3). On a small training set (LFW DevTrain: 9,525 images of 4,038
people) a classifier over every training identity gives each step a signal
from all classes, not only the few hundred in the batch, and converges in far
fewer CPU minutes (WORKSPACE_NOTES.md, issue #9). It works on the same
unit-norm embedding the triplet loss sees, so nothing changes at inference.

Steps, for unit embeddings e [B, D] and class weights W [D, C]:
  1. normalise each class's weight column: cos = e . w_c / |w_c|, in [-1, 1];
  2. subtract the margin m from the true class's cosine only;
  3. scale by s (unit vectors would otherwise give a near-uniform softmax);
  4. sparse cross-entropy, summed (the trainer divides by the global batch).
"""
import keras
import tensorflow as tf


def cosine_margin_logits(embeddings, class_weights, labels, scale, margin):
  """s * (cos(e, w_c) - m * [c == label]): [B, C] float32 logits."""
  embeddings = tf.cast(embeddings, tf.float32)
  weights = tf.math.l2_normalize(tf.cast(class_weights, tf.float32), axis=0)
  cosine = tf.matmul(embeddings, weights)                           # step 1
  true_class = tf.one_hot(labels, tf.shape(weights)[1], dtype=tf.float32)
  return scale * (cosine - margin * true_class)                     # steps 2-3


def cosine_margin_loss_sum(embeddings, class_weights, labels, scale, margin):
  """The summed cross-entropy of the margin logits (step 4)."""
  labels = tf.reshape(tf.cast(labels, tf.int32), [-1])
  logits = cosine_margin_logits(embeddings, class_weights, labels, scale,
                                margin)
  return tf.reduce_sum(tf.nn.sparse_softmax_cross_entropy_with_logits(
      labels=labels, logits=logits))


@keras.saving.register_keras_serializable(package="facenet_tf")
class CosineClassifier(keras.layers.Layer):
  """Holds the class weights [D, C]; call(e, labels) = summed loss (float32)."""

  def __init__(self, num_classes, scale=30.0, margin=0.35, **kwargs):
    kwargs["dtype"] = "float32"  # logits and loss in float32 under any policy
    super().__init__(**kwargs)
    if num_classes < 2:
      raise ValueError(f"num_classes must be >= 2, got {num_classes}.")
    if scale <= 0 or margin < 0:
      raise ValueError(f"Need scale > 0 and margin >= 0, got {scale}, "
                       f"{margin}.")
    self.num_classes, self.scale, self.margin = num_classes, scale, margin

  def build(self, embeddings_shape):
    self.class_weights = self.add_weight(
        name="class_weights", shape=(embeddings_shape[-1], self.num_classes),
        initializer="glorot_uniform")

  def call(self, embeddings, labels):
    return cosine_margin_loss_sum(embeddings, self.class_weights, labels,
                                  self.scale, self.margin)

  def get_config(self):
    config = super().get_config()
    config.update({"num_classes": self.num_classes, "scale": self.scale,
                   "margin": self.margin})
    return config
