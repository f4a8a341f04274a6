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
  """Every image file under `images_dir`, sorted."""
  if not os.path.isdir(images_dir):
    raise FileNotFoundError(f"Representative directory {images_dir} does not "
                            "exist.")
  paths = sorted(
      os.path.join(root, name) for root, _, names in os.walk(images_dir)
      for name in names
      if name.lower().endswith(eval_input.IMAGE_EXTENSIONS))
  if not paths:
    raise ValueError(f"{images_dir} holds no images "
                     f"({', '.join(eval_input.IMAGE_EXTENSIONS)}).")
  return paths


def aligned_faces(images_dir, image_size, channels=3, limit=DEFAULT_LIMIT,
                  seed=0):
  """uint8 [min(limit, N), H, W, channels] model inputs from an aligned tree."""
  paths = image_paths(images_dir)
  if len(paths) > limit:
    rng = np.random.default_rng(seed)
    paths = [paths[i] for i in sorted(rng.choice(len(paths), limit,
                                                 replace=False))]
  padding = eval_lib.crop_padding(image_size,
                                  eval_lib.default_crop_fraction(images_dir))
  batches = eval_input.image_files_dataset(paths, image_size, 64, padding)
  try:
    images = np.concatenate([b.numpy() for b in batches])
  except tf.errors.InvalidArgumentError as error:  # names the bad file
    raise ValueError(error.message.strip().splitlines()[0]) from None
  if channels == 1:
    images = tf.image.rgb_to_grayscale(images).numpy()
  return np.clip(np.round(images), 0, 255).astype(np.uint8)
