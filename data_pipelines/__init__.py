"""Offline data tools: alignment, TFRecord conversion, protocol files."""
import facenet_tf  # pylint: disable=unused-import  # hides TF's start-up lines
