"""`HarmonicTrainer`: trains v2 against a frozen v1 (arXiv v3 §7).

§7 makes a new model's embeddings (v2) comparable with an old one's (v1), so
a gallery embedded by v1 can be searched with v2 probes. Each step:
  1. v1 embeds the batch: frozen, inference mode, at its own input size
     (§7's v1 and v2 are NN1 and NN2, two architectures);
  2. v2 embeds it in training mode;
  3. both are all-gathered, and this replica's anchors of both versions are
     mined against the gathered union (losses/harmonic.py), as
     `FaceNetTrainer` mines its anchors against the global batch;
  4. the summed `TripletTerms` give the loss; only v2's trainable layers
     move.
`train_layers="embedding"` trains only v2's layer named "embedding" (§7's
first phase: the re-initialised embedding layer alone); "all" trains the
whole network (the second phase). The logs are `FaceNetTrainer`'s, so the
summaries and the training loop (training/loop.py) serve both.
"""
import tensorflow as tf

from facenet_tf import losses
from facenet_tf.training import trainer as trainer_lib

TRAIN_LAYERS = ("embedding", "all")


def set_trainable(embedder, train_layers):
  """Marks which of `embedder`'s layers train: 'embedding' or 'all'.

  A frozen BatchNorm (Keras 3: `trainable=False`) normalises with its moving
  statistics and leaves them alone, so in phase 1 every weight outside the
  embedding layer stays bit-identical.
  """
  if train_layers not in TRAIN_LAYERS:
    raise ValueError(f"train_layers must be one of {TRAIN_LAYERS}, got "
                     f"{train_layers!r}.")
  embedder.trainable = True
  for layer in embedder.layers:
    layer.trainable = train_layers == "all" or layer.name == "embedding"


class HarmonicTrainer(trainer_lib.FaceNetTrainer):
  """A `FaceNetTrainer` of v2 (`embedder`) with the harmonic triplet loss.

  Args:
    embedder: v2, the `FaceEmbedder` being trained.
    v1_embedder: v1, a `FaceEmbedder` of the same embedding size; frozen here.
    train_layers: 'embedding' (phase 1) or 'all' (phase 2).
    **kwargs: FaceNetTrainer's (`from_experiment` passes the config's);
      softmax_weight must be 0: the cosine-margin softmax is not part of §7.

  Not Keras-serialisable: a run checkpoints v2's weights and reloads v1
  from its workdir (training/harmonic_lib.py).
  """

  def __init__(self, embedder, v1_embedder, train_layers="all", **kwargs):
    if kwargs.get("softmax_weight"):
      raise ValueError("The harmonic loss takes no softmax_weight.")
    if v1_embedder.embedding_dim != embedder.embedding_dim:
      raise ValueError(
          f"v1 embeds in {v1_embedder.embedding_dim} dimensions and v2 in "
          f"{embedder.embedding_dim}: comparable embeddings need the same.")
    super().__init__(embedder, **kwargs)
    set_trainable(embedder, train_layers)
    v1_embedder.trainable = False
    self.v1_embedder = v1_embedder
    self.train_layers = train_layers

  def v1_embeddings(self, images):
    """v1's embeddings of `images`, resized to v1's input if it differs."""
    size = tuple(self.v1_embedder.image_size)
    if tuple(images.shape[1:3]) != size:
      images = tf.image.resize(images, size, antialias=True)
    return tf.stop_gradient(self.v1_embedder(images, training=False))

  def distances(self, ctx, labels, embeddings):
    """Both versions of this replica's anchors vs the (gathered) union;
    `embeddings` = (v2, v1) of this replica."""
    v2, v1 = embeddings
    keys_v2, keys_v1, key_labels = (self._gather(ctx, x)
                                    for x in (v2, v1, labels))
    return losses.union_distances(
        v2, v1, labels, keys_v2, keys_v1, key_labels,
        self._offset(ctx, tf.shape(labels)[0]), self.metric)

  def _loss_fn(self, ctx, images, labels):
    # v1 outside the gradient tape (FaceNetTrainer.train_step calls this
    # before opening it): v1 is frozen. v2 runs in training mode there.
    v1 = self.v1_embeddings(images)
    return lambda outputs: self._loss(ctx, labels, (outputs[1], v1))
