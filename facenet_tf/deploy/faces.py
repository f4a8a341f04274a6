"""Aligned faces as the model sees them: the int8 calibration set.

Reads an aligned tree (data_pipelines.align output, any image extension) the
way evaluation reads it: the spec's model crop, resized to the model's input,
rounded to uint8. A seeded sample of `limit` images, so a large tree costs no
more than a small one.
"""
import os

import numpy as np
import tensorflow as tf

from facenet_tf.data import eval_input
from facenet_tf.evaluation import eval_lib

DEFAULT_LIMIT = 200


def image_paths(images_dir):
  """Every image of the tree `images_dir/<identity>/...`, sorted."""
  if not os.path.isdir(images_dir):
    raise FileNotFoundError(f"Representative directory {images_dir} does not "
                            "exist.")
  return eval_input.list_identity_tree(os.path.abspath(images_dir))[0]


def aligned_faces(images_dir, image_size, channels=3, limit=DEFAULT_LIMIT,
                  seed=0):
  """uint8 [min(limit, N), H, W, channels] model inputs from an aligned tree."""
  paths = image_paths(images_dir)
  if len(paths) > limit:
    rng = np.random.default_rng(seed)
    paths = [paths[i] for i in sorted(rng.choice(len(paths), limit,
                                                 replace=False))]
  batches = eval_input.image_files_dataset(
      paths, image_size, 64, eval_lib.default_crop_fraction(images_dir))
  try:
    images = np.concatenate([b.numpy() for b in batches])
  except tf.errors.InvalidArgumentError as error:  # names the bad file
    raise ValueError(error.message.strip().splitlines()[0]) from None
  return eval_lib.to_uint8(images, channels)
