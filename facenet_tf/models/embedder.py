"""`FaceEmbedder`: raw pixels -> scaling -> backbone -> dense -> L2 norm (Fig. 2)."""
import contextlib

import keras
from keras import layers

from facenet_tf.models import registry
from facenet_tf.models.layers import regularizer
from facenet_tf.models.layers import synchronized_batchnorm


@contextlib.contextmanager
def _dtype_policy(policy):
  """Layers take the global policy when created: set it for the build only."""
  previous = keras.config.dtype_policy()
  keras.config.set_dtype_policy(policy)
  try:
    yield
  finally:
    keras.config.set_dtype_policy(previous)


@keras.saving.register_keras_serializable(package="facenet_tf")
class FaceEmbedder(keras.Model):
  """Maps face images [B, H, W, C] in 0..255 to unit-norm embeddings [B, D].

  The input scaling (x / 127.5 - 1) is part of the model, so an exported
  SavedModel takes raw pixels and training, evaluation and serving cannot
  disagree on preprocessing. `sync_batchnorm=True` makes every BatchNorm
  use the statistics of the global batch under a tf.distribute strategy. Under a mixed policy ('mixed_float16',
  'mixed_bfloat16') the backbone computes in half precision and the
  embedding is L2-normalised and returned in float32.
  """

  def __init__(self, architecture="tiny", embedding_dim=128, image_size=None,
               channels=3, weight_decay=0.0, dtype_policy="float32",
               sync_batchnorm=False, name=None, **kwargs):
    arch = registry.get(architecture)
    image_size = tuple(image_size or arch.image_size)
    if channels not in (1, 3):
      raise ValueError(f"channels must be 1 or 3, got {channels}.")
    if embedding_dim < 1:
      raise ValueError(f"embedding_dim must be >= 1, got {embedding_dim}.")
    kwargs.pop("dtype", None)  # the policy below decides every layer's dtype
    with _dtype_policy(dtype_policy), synchronized_batchnorm(sync_batchnorm):
      images = keras.Input((*image_size, channels), name="images")
      x = layers.Rescaling(1.0 / 127.5, offset=-1.0, name="scale")(images)
      x = arch.backbone(x, weight_decay)
      x = layers.Dense(embedding_dim, kernel_regularizer=regularizer(
          weight_decay), name="embedding")(x)
      # Paper §2: the embedding lies on the unit hypersphere. A float32 layer
      # casts its input, so the norm and the output are float32 under any policy.
      embeddings = layers.UnitNormalization(dtype="float32", name="l2_norm")(x)
    super().__init__(inputs=images, outputs=embeddings,
                     name=name or architecture, **kwargs)
    self.architecture = architecture
    self.embedding_dim = embedding_dim
    self.image_size = image_size
    self.channels = channels
    self.weight_decay = weight_decay
    self.dtype_policy_name = dtype_policy
    self.sync_batchnorm = sync_batchnorm

  def get_config(self):
    return {"architecture": self.architecture,
            "embedding_dim": self.embedding_dim,
            "image_size": list(self.image_size), "channels": self.channels,
            "weight_decay": self.weight_decay,
            "dtype_policy": self.dtype_policy_name,
            "sync_batchnorm": self.sync_batchnorm, "name": self.name,
            "trainable": self.trainable}

  @classmethod
  def from_config(cls, config):
    return cls(**config)


def build(name, **overrides):
  """A built `FaceEmbedder` for the registered architecture `name`."""
  return FaceEmbedder(architecture=name, **overrides)
