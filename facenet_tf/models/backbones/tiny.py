"""`tiny`: four conv blocks for tests and the built-in demo (64x64 input)."""
from keras import layers

from facenet_tf.models.layers import conv_bn
from facenet_tf.models.registry import register


@register("tiny", image_size=(64, 64),
          description="4 conv-BN-ReLU blocks, for tests and the demo")
def tiny(x, weight_decay):
  for i, filters in enumerate((16, 32, 64, 96)):
    x = conv_bn(x, filters, 3, stride=2, weight_decay=weight_decay,
                name=f"block{i + 1}")
  return layers.GlobalAveragePooling2D(name="pool")(x)
