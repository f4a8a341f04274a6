"""Embedding models: registry, backbones, the embedding head, FLOP counter."""
from facenet_tf.models import backbones  # noqa: F401  (registers them)
from facenet_tf.models.embedder import FaceEmbedder
from facenet_tf.models.embedder import build
from facenet_tf.models.flops import count_multiply_adds
from facenet_tf.models.registry import get
from facenet_tf.models.registry import names
from facenet_tf.models.registry import register
