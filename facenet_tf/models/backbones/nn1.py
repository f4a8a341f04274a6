"""`nn1`: the paper's Zeiler&Fergus-style network with 1x1 convs (Table 1).

Design (FACTS.md §3, paper Table 1), 220x220x3 input:

  conv1 7x7/2 64 -> pool1 max 3x3/2 -> rnorm1
  -> conv2a 1x1 64 -> conv2 3x3 192 -> rnorm2 -> pool2 max 3x3/2
  -> conv3a 1x1 192 -> conv3 3x3 384 -> pool3 max 3x3/2
  -> conv4a 1x1 384 -> conv4 3x3 256 -> conv5a 1x1 256 -> conv5 3x3 256
  -> conv6a 1x1 256 -> conv6 3x3 256 -> pool4 max 3x3/2
  -> flatten 7x7x256 -> fc1 maxout p=2 -> fc2 maxout p=2  (4096 features)

`FaceEmbedder` adds the table's fc7128 (Dense 128) and the L2 normalisation.

The 1x1 "a" layers are the NIN-style bottlenecks the table interleaves with
the Zeiler&Fergus 3x3 convolutions. Each fc row is a Dense layer of 8192
units followed by maxout over pairs (p = 2), giving the table's 1x32x128 =
4096 outputs: fc1 is 12544 -> 8192 (103M params and multiply-adds) and fc2
is 4096 -> 8192 (34M), which together carry ~98% of the model's 140M
parameters.

Choices the paper leaves open:
  * Padding: all convolutions and pools use 'same' padding, which reproduces
    the table's spatial sizes exactly (220 -> 110 -> 55 -> 28 -> 14 -> 7;
    'valid' 3x3/2 pooling would give 54 after pool1).
  * Every convolution is conv-BN-ReLU (see layers.py); the fc layers have a
    bias and no activation besides maxout, which is their nonlinearity.
  * rnorm uses AlexNet's LRN constants (`LocalResponseNorm` defaults); the
    paper gives none.
  * No dropout: the paper does not mention any for NN1.
"""
from keras import layers

from facenet_tf.models.layers import LocalResponseNorm
from facenet_tf.models.layers import Maxout
from facenet_tf.models.layers import conv_bn
from facenet_tf.models.layers import regularizer
from facenet_tf.models.registry import register

# Table 1 rows conv{3..6}: (name, 1x1 reduce filters, 3x3 filters, pool after).
_NIN_STAGES = (
    ("conv3", 192, 384, "pool3"),
    ("conv4", 384, 256, None),
    ("conv5", 256, 256, None),
    ("conv6", 256, 256, "pool4"),
)


def _max_pool(x, name):
  """3x3/2 max pooling; 'same' padding matches Table 1's size-out column."""
  return layers.MaxPooling2D(3, strides=2, padding="same", name=name)(x)


def _nin_pair(x, name, reduce_filters, filters, weight_decay):
  """Table 1 rows `{name}a` (1x1 bottleneck) then `{name}` (3x3 conv)."""
  x = conv_bn(x, reduce_filters, 1, weight_decay=weight_decay,
              name=f"{name}a")
  return conv_bn(x, filters, 3, weight_decay=weight_decay, name=name)


def _fc_maxout(x, units, weight_decay, name):
  """Table 1 fc rows: Dense(2 * units) then maxout with pool size p = 2."""
  x = layers.Dense(2 * units, kernel_regularizer=regularizer(weight_decay),
                   name=f"{name}_dense")(x)
  return Maxout(pool=2, name=f"{name}_maxout")(x)


@register("nn1", image_size=(220, 220), paper_params=140e6,
          paper_madds=1.6e9,
          description="Zeiler&Fergus + 1x1 convs, maxout fc (paper Table 1)")
def nn1(x, weight_decay):
  # conv1 220x220x3 -> 110x110x64; pool1 -> 55x55x64; rnorm1.
  x = conv_bn(x, 64, 7, stride=2, weight_decay=weight_decay, name="conv1")
  x = _max_pool(x, "pool1")
  x = LocalResponseNorm(name="rnorm1")(x)
  # conv2a, conv2 -> 55x55x192; rnorm2; pool2 -> 28x28x192.
  x = _nin_pair(x, "conv2", 64, 192, weight_decay)
  x = LocalResponseNorm(name="rnorm2")(x)
  x = _max_pool(x, "pool2")
  # conv3a..conv6 with pool3 (-> 14x14x384) and pool4 (-> 7x7x256).
  for name, reduce_filters, filters, pool in _NIN_STAGES:
    x = _nin_pair(x, name, reduce_filters, filters, weight_decay)
    if pool:
      x = _max_pool(x, pool)
  # concat (a no-op in Table 1) -> flatten 7x7x256 = 12544.
  x = layers.Flatten(name="flatten")(x)
  # fc1 and fc2: 1x32x128 = 4096 maxout units each.
  x = _fc_maxout(x, 4096, weight_decay, "fc1")
  return _fc_maxout(x, 4096, weight_decay, "fc2")
