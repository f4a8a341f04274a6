"""A local identity tree as a TFDS dataset, offline (`tfds.ImageFolder`).

`tfds.ImageFolder(root)` expects `root/<split>/<label>/<image>` (JPEG or PNG
only: it skips PGM, so AT&T/ORL must be converted first). Our trees are
`root/<identity>/<image>`, one level short, so `identity_tree_builder` makes
`workdir/<split>` a symbolic link to the tree and opens `workdir`: nothing is
copied and nothing is written next to the (possibly read-only) images. Labels
are the sorted identity names, as in eval_input.list_identity_tree.

With network access, TFDS's own LFW (the original, not deep-funneled,
images, 13,233 x 250x250 RGB, one "train" split, the name as a string label)
downloads and prepares itself:

  import tensorflow_datasets as tfds
  ds = tfds.load("lfw", split="train", as_supervised=True)  # (name, image)

It has no pair lists: evaluate with facenet_tf.evaluation.lfw_protocol on a
local copy instead. The training pipeline reads TFRecord shards
(data_pipelines.build_tfrecords), not TFDS.
"""
import os

import tensorflow as tf

from facenet_tf import extras
from facenet_tf.alignment import model_crop_tf

# The `tfds` extra; nothing else in facenet_tf imports it.
tfds = extras.require("tensorflow_datasets", "facenet_tf.data.tfds_folder",
                      "tfds", "tensorflow-datasets")


def identity_tree_builder(root, workdir, split="train"):
  """`tfds.ImageFolder` over `root/<identity>/<image>` as split `split`.

  Args:
    root: the identity tree.
    workdir: a directory for the split link; it must outlive the datasets
      made from the builder (their file paths run through the link).
    split: the split name to expose the tree as.
  """
  os.makedirs(workdir, exist_ok=True)
  link = os.path.join(workdir, split)
  target = os.path.abspath(root)
  if os.path.islink(link) and os.readlink(link) != target:
    raise ValueError(f"{link} already links to {os.readlink(link)}, not "
                     f"{target}: use another workdir")
  if not os.path.islink(link):
    os.symlink(target, link, target_is_directory=True)
  return tfds.ImageFolder(workdir)


def load_identity_tree(root, workdir, image_size=None, split="train",
                       shuffle_files=False):
  """(image, label) pairs of an identity tree, via TFDS.

  Args:
    root, workdir, split: as in identity_tree_builder.
    image_size: None keeps uint8 images at their size; else float32 images
      resized to it (int or (height, width)), as model_crop_tf.resize does.
    shuffle_files: shuffle the example order (TFDS's own order is a fixed
      pseudo-random one).

  Returns:
    (dataset, names): the dataset and the identity names indexed by label.
  """
  builder = identity_tree_builder(root, workdir, split)
  dataset = builder.as_dataset(split=split, as_supervised=True,
                               shuffle_files=shuffle_files)
  if image_size is not None:
    dataset = dataset.map(
        lambda image, label: (model_crop_tf.resize(image, image_size), label),
        num_parallel_calls=tf.data.AUTOTUNE)
  return dataset, builder.info.features["label"].names
