"""`inception_resnet_v1`: the Inception-ResNet-v1 backbone of davidsandberg/facenet.

FaceNet (Schroff et al. 2015) does not use this network; it is the backbone of
the strongest public TensorFlow FaceNet reproductions (davidsandberg/facenet's
20180402-114759 and 20180408-102900 models), included as a modern baseline.
It follows Szegedy et al. 2016, "Inception-v4, Inception-ResNet and the Impact
of Residual Connections", in the variant davidsandberg/facenet implements
(`src/models/inception_resnet_v1.py`):

  stem (Fig. 14)           conv 3x3/2 32 V, 3x3 32 V, 3x3 64, max pool 3x3/2 V,
                           1x1 80 V, 3x3 192 V, 3x3/2 256 V
  5 x Inception-ResNet-A   (Fig. 10, "Block35"), residual scale 0.17
  Reduction-A              (Fig. 7, k=192, l=192, m=256, n=384)
  10 x Inception-ResNet-B  (Fig. 11, "Block17"), residual scale 0.10
  Reduction-B              (Fig. 12)
  5 x Inception-ResNet-C   (Fig. 13, "Block8"), residual scale 0.20
  1 x Inception-ResNet-C   scale 1.0, no final ReLU
  global average pooling   -> 1792 features

(V = VALID padding.) At 160x160 the grid is 17x17x256 after the stem, 8x8x896
after Reduction-A and 3x3x1792 after Reduction-B.

Each residual block concatenates its branches, projects them back to the
input depth with a 1x1 convolution (with bias, no BatchNorm, no activation),
scales the projection (paper §3.3, "Scaling of the Residuals"), adds it to
the input and applies ReLU. All other convolutions are conv-BN-ReLU.

Deviations from davidsandberg/facenet: its dropout before the bottleneck is
left out, and its 512-d bottleneck (a fully connected layer with BatchNorm) is
replaced by `FaceEmbedder`'s 128-d Dense embedding (FaceNet's dimension,
paper §5.2 / Table 5).
"""
from keras import layers

from facenet_tf.models.layers import conv_bn
from facenet_tf.models.layers import regularizer
from facenet_tf.models.registry import register


def _residual(x, branches, scale, weight_decay, name, activation="relu"):
  """Concat -> 1x1 linear projection to x's depth -> scale -> add -> ReLU."""
  mixed = layers.Concatenate(name=f"{name}_concat")(branches)
  up = layers.Conv2D(x.shape[-1], 1, kernel_regularizer=regularizer(
      weight_decay), name=f"{name}_up_conv")(mixed)
  up = layers.Rescaling(scale, name=f"{name}_scale")(up)
  x = layers.Add(name=f"{name}_add")([x, up])
  if activation:
    x = layers.Activation(activation, name=f"{name}_relu")(x)
  return x


def _block35(x, scale, wd, name):
  """Inception-ResNet-A (Fig. 10) on the 35x35 (17x17 at 160 px) grid."""
  b0 = conv_bn(x, 32, 1, weight_decay=wd, name=f"{name}_b0_1x1")
  b1 = conv_bn(x, 32, 1, weight_decay=wd, name=f"{name}_b1_1x1")
  b1 = conv_bn(b1, 32, 3, weight_decay=wd, name=f"{name}_b1_3x3")
  b2 = conv_bn(x, 32, 1, weight_decay=wd, name=f"{name}_b2_1x1")
  b2 = conv_bn(b2, 32, 3, weight_decay=wd, name=f"{name}_b2_3x3a")
  b2 = conv_bn(b2, 32, 3, weight_decay=wd, name=f"{name}_b2_3x3b")
  return _residual(x, [b0, b1, b2], scale, wd, name)


def _block17(x, scale, wd, name):
  """Inception-ResNet-B (Fig. 11) on the 17x17 (8x8 at 160 px) grid."""
  b0 = conv_bn(x, 128, 1, weight_decay=wd, name=f"{name}_b0_1x1")
  b1 = conv_bn(x, 128, 1, weight_decay=wd, name=f"{name}_b1_1x1")
  b1 = conv_bn(b1, 128, (1, 7), weight_decay=wd, name=f"{name}_b1_1x7")
  b1 = conv_bn(b1, 128, (7, 1), weight_decay=wd, name=f"{name}_b1_7x1")
  return _residual(x, [b0, b1], scale, wd, name)


def _block8(x, scale, wd, name, activation="relu"):
  """Inception-ResNet-C (Fig. 13) on the 8x8 (3x3 at 160 px) grid."""
  b0 = conv_bn(x, 192, 1, weight_decay=wd, name=f"{name}_b0_1x1")
  b1 = conv_bn(x, 192, 1, weight_decay=wd, name=f"{name}_b1_1x1")
  b1 = conv_bn(b1, 192, (1, 3), weight_decay=wd, name=f"{name}_b1_1x3")
  b1 = conv_bn(b1, 192, (3, 1), weight_decay=wd, name=f"{name}_b1_3x1")
  return _residual(x, [b0, b1], scale, wd, name, activation)


def _reduction_a(x, wd, name, k=192, l=192, m=256, n=384):
  """Reduction-A (Fig. 7) with Inception-ResNet-v1's k, l, m, n (Table 1)."""
  b0 = conv_bn(x, n, 3, stride=2, padding="valid", weight_decay=wd,
               name=f"{name}_b0_3x3")
  b1 = conv_bn(x, k, 1, weight_decay=wd, name=f"{name}_b1_1x1")
  b1 = conv_bn(b1, l, 3, weight_decay=wd, name=f"{name}_b1_3x3a")
  b1 = conv_bn(b1, m, 3, stride=2, padding="valid", weight_decay=wd,
               name=f"{name}_b1_3x3b")
  b2 = layers.MaxPooling2D(3, 2, name=f"{name}_b2_pool")(x)
  return layers.Concatenate(name=f"{name}_concat")([b0, b1, b2])


def _reduction_b(x, wd, name):
  """Reduction-B (Fig. 12)."""
  b0 = conv_bn(x, 256, 1, weight_decay=wd, name=f"{name}_b0_1x1")
  b0 = conv_bn(b0, 384, 3, stride=2, padding="valid", weight_decay=wd,
               name=f"{name}_b0_3x3")
  b1 = conv_bn(x, 256, 1, weight_decay=wd, name=f"{name}_b1_1x1")
  b1 = conv_bn(b1, 256, 3, stride=2, padding="valid", weight_decay=wd,
               name=f"{name}_b1_3x3")
  b2 = conv_bn(x, 256, 1, weight_decay=wd, name=f"{name}_b2_1x1")
  b2 = conv_bn(b2, 256, 3, weight_decay=wd, name=f"{name}_b2_3x3a")
  b2 = conv_bn(b2, 256, 3, stride=2, padding="valid", weight_decay=wd,
               name=f"{name}_b2_3x3b")
  b3 = layers.MaxPooling2D(3, 2, name=f"{name}_b3_pool")(x)
  return layers.Concatenate(name=f"{name}_concat")([b0, b1, b2, b3])


def _stem(x, wd):
  """Stem (Fig. 14): 160x160x3 -> 17x17x256."""
  x = conv_bn(x, 32, 3, stride=2, padding="valid", weight_decay=wd,
              name="stem_1a_3x3")
  x = conv_bn(x, 32, 3, padding="valid", weight_decay=wd, name="stem_2a_3x3")
  x = conv_bn(x, 64, 3, weight_decay=wd, name="stem_2b_3x3")
  x = layers.MaxPooling2D(3, 2, name="stem_3a_pool")(x)
  x = conv_bn(x, 80, 1, padding="valid", weight_decay=wd, name="stem_3b_1x1")
  x = conv_bn(x, 192, 3, padding="valid", weight_decay=wd, name="stem_4a_3x3")
  return conv_bn(x, 256, 3, stride=2, padding="valid", weight_decay=wd,
                 name="stem_4b_3x3")


@register("inception_resnet_v1", image_size=(160, 160),
          description="Inception-ResNet-v1 (Szegedy et al. 2016), the backbone "
                      "of davidsandberg/facenet's 20180402-114759 / "
                      "20180408-102900 models; not in the FaceNet paper")
def inception_resnet_v1(x, weight_decay):
  wd = weight_decay
  x = _stem(x, wd)
  for i in range(5):
    x = _block35(x, 0.17, wd, name=f"block35_{i + 1}")
  x = _reduction_a(x, wd, name="reduction_a")
  for i in range(10):
    x = _block17(x, 0.10, wd, name=f"block17_{i + 1}")
  x = _reduction_b(x, wd, name="reduction_b")
  for i in range(5):
    x = _block8(x, 0.20, wd, name=f"block8_{i + 1}")
  # The last Block8 is unscaled and linear, as in davidsandberg/facenet.
  x = _block8(x, 1.0, wd, name="block8_6", activation=None)
  return layers.GlobalAveragePooling2D(name="pool")(x)
