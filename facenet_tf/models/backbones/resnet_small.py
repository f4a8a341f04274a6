"""`resnet_small`: a compact pre-activation-free ResNet for CPU-budget runs.

Not one of the paper's networks. Issue #9 trains on LFW's ~9.5k DevTrain
images on two CPU cores; at 64 px an Inception (nns2, nn4) spends most of
its budget in early, wide layers, while a plain ResNet (He et al. 2016) of
basic blocks converges faster per CPU second. ResNet-10 layout: stem 3x3/2,
then four stages of one basic block (widths 32-64-128-256, stride 2 between
stages), global average pooling. At 64x64: 1.26M params, 64M multiply-adds.

Aligned faces keep each part of the face in a fixed place, which global
average pooling throws away. `resnet_small_flat` keeps it: BatchNorm then
flatten, so the embedding layer sees every position (ArcFace's output "E",
Deng et al. 2019, without dropout). On LFW View 1 it took the same
2,100-step recipe from 0.917 to 0.923-0.943 in two runs (flip;
WORKSPACE_NOTES.md, #14 session 10).
"""
from keras import layers

from facenet_tf.models.layers import batch_norm
from facenet_tf.models.layers import conv_bn
from facenet_tf.models.registry import register

WIDTHS = (32, 64, 128, 256)
BLOCKS_PER_STAGE = 1


def basic_block(x, filters, stride, weight_decay, name):
  """Two 3x3 conv-BN, a projection shortcut when the shape changes, ReLU."""
  shortcut = x
  if stride != 1 or x.shape[-1] != filters:
    shortcut = conv_bn(x, filters, 1, stride=stride, weight_decay=weight_decay,
                       name=f"{name}_proj", activation=None)
  y = conv_bn(x, filters, 3, stride=stride, weight_decay=weight_decay,
              name=f"{name}_a")
  y = conv_bn(y, filters, 3, weight_decay=weight_decay, name=f"{name}_b",
              activation=None)
  return layers.Activation("relu", name=f"{name}_out")(
      layers.Add(name=f"{name}_add")([shortcut, y]))


def resnet10_body(x, weight_decay):
  """The stem and four stages: [B, H/16, W/16, 256] feature maps."""
  x = conv_bn(x, WIDTHS[0], 3, stride=2, weight_decay=weight_decay,
              name="stem")
  for s, filters in enumerate(WIDTHS):
    for b in range(BLOCKS_PER_STAGE):
      stride = 2 if (b == 0 and s > 0) else 1
      x = basic_block(x, filters, stride, weight_decay,
                      name=f"stage{s + 1}_block{b + 1}")
  return x


@register("resnet_small", image_size=(64, 64),
          description="ResNet-10: 4 basic residual blocks (32-256 wide), for CPU runs")
def resnet_small(x, weight_decay):
  return layers.GlobalAveragePooling2D(name="pool")(
      resnet10_body(x, weight_decay))


@register("resnet_small_flat", image_size=(64, 64),
          description="resnet_small with BN + flatten (ArcFace's 'E'), not pooling")
def resnet_small_flat(x, weight_decay):
  x = batch_norm(name="head_bn")(resnet10_body(x, weight_decay))
  return layers.Flatten(name="head_flatten")(x)
