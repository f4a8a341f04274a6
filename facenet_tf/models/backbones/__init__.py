"""Backbones; importing this package registers every architecture."""
from facenet_tf.models.backbones import inception  # noqa: F401
from facenet_tf.models.backbones import inception_resnet_v1  # noqa: F401
from facenet_tf.models.backbones import nn1  # noqa: F401
from facenet_tf.models.backbones import resnet_small  # noqa: F401
from facenet_tf.models.backbones import tiny  # noqa: F401
