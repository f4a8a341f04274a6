"""Building blocks shared by the backbones: conv-BN-ReLU, L2 pooling, LRN, maxout.

The paper's networks predate batch normalisation (2015); every convolution
here is followed by BatchNorm, as in the public FaceNet reproductions
(OpenFace, davidsandberg/facenet), because it lets them train from scratch
with the paper's AdaGrad at lr 0.05. BatchNorm adds no multiply-adds to the
paper's count (it folds into the convolution at inference).
"""
import contextlib
import contextvars

import keras
from keras import layers
import tensorflow as tf

# Whether conv_bn's BatchNorm all-reduces its batch statistics over replicas.
_SYNC_BATCHNORM = contextvars.ContextVar("sync_batchnorm", default=False)


def regularizer(weight_decay):
  return keras.regularizers.L2(weight_decay) if weight_decay else None


@contextlib.contextmanager
def synchronized_batchnorm(enabled):
  """BatchNorm layers created inside use whole-global-batch statistics.

  Under N replicas each BatchNorm otherwise normalises with its replica's
  statistics, so a distributed step differs from one device on the same
  global batch; synchronised, they are equal (tested in test_train_step.py).
  """
  token = _SYNC_BATCHNORM.set(bool(enabled))
  try:
    yield
  finally:
    _SYNC_BATCHNORM.reset(token)


def batch_norm(name):
  """BatchNorm, synchronised over replicas inside synchronized_batchnorm."""
  return layers.BatchNormalization(epsilon=1e-3,
                                   synchronized=_SYNC_BATCHNORM.get(),
                                   name=name)


def conv_bn(x, filters, kernel, stride=1, weight_decay=0.0, name=None,
            padding="same", activation="relu"):
  """Conv2D (no bias) -> BatchNorm -> ReLU."""
  x = layers.Conv2D(filters, kernel, strides=stride, padding=padding,
                    use_bias=False, kernel_regularizer=regularizer(weight_decay),
                    name=f"{name}_conv")(x)
  x = batch_norm(f"{name}_bn")(x)
  if activation:
    x = layers.Activation(activation, name=f"{name}_relu")(x)
  return x


@keras.saving.register_keras_serializable(package="facenet_tf")
class L2Pooling2D(layers.Layer):
  """L2 pooling (paper Table 2, "L2"): sqrt of the sum of squares in a window."""

  def __init__(self, pool_size=3, strides=1, padding="same", **kwargs):
    super().__init__(**kwargs)
    self.pool_size, self.strides, self.padding = pool_size, strides, padding

  def call(self, x):
    # Sum of squares over each window as a depthwise conv with a ones kernel:
    # 'same' zero-pads, so border windows sum only real values (avg_pool's
    # 'same' would rescale them by the count of real cells instead).
    ones = tf.ones((self.pool_size, self.pool_size, x.shape[-1], 1), x.dtype)
    sum_sq = tf.nn.depthwise_conv2d(tf.square(x), ones,
                                    (1, self.strides, self.strides, 1),
                                    self.padding.upper())
    # sqrt has an infinite slope at 0: a floor keeps the gradient finite.
    return tf.sqrt(tf.maximum(sum_sq, 1e-12))

  def compute_output_shape(self, input_shape):
    return layers.AveragePooling2D(self.pool_size, self.strides,
                                   self.padding).compute_output_shape(input_shape)

  def get_config(self):
    return {**super().get_config(), "pool_size": self.pool_size,
            "strides": self.strides, "padding": self.padding}


@keras.saving.register_keras_serializable(package="facenet_tf")
class LocalResponseNorm(layers.Layer):
  """Local response normalisation ("rnorm" in paper Table 1, AlexNet's constants)."""

  def __init__(self, depth_radius=5, bias=1.0, alpha=1e-4, beta=0.75, **kwargs):
    super().__init__(**kwargs)
    self.depth_radius, self.bias, self.alpha, self.beta = (
        depth_radius, bias, alpha, beta)

  def call(self, x):
    y = tf.nn.local_response_normalization(
        tf.cast(x, tf.float32), self.depth_radius, self.bias, self.alpha,
        self.beta)
    return tf.cast(y, x.dtype)

  def get_config(self):
    return {**super().get_config(), "depth_radius": self.depth_radius,
            "bias": self.bias, "alpha": self.alpha, "beta": self.beta}


@keras.saving.register_keras_serializable(package="facenet_tf")
class Maxout(layers.Layer):
  """Maxout over groups of `pool` consecutive units (paper Table 1, p = 2)."""

  def __init__(self, pool=2, **kwargs):
    super().__init__(**kwargs)
    self.pool = pool

  def call(self, x):
    units = x.shape[-1] // self.pool
    return tf.reduce_max(tf.reshape(x, [-1, units, self.pool]), axis=-1)

  def compute_output_shape(self, input_shape):
    return (*input_shape[:-1], input_shape[-1] // self.pool)

  def get_config(self):
    return {**super().get_config(), "pool": self.pool}
