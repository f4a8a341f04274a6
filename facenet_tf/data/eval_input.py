"""Evaluation input: every image of a path list or of a shard set, in order.

Images go through evaluation geometry (augment.eval_image): resized to
`image_size + crop_padding` when they differ, then the centre `image_size`
window, float32 0..255. Batches keep the remainder: evaluation embeds every
image exactly once.
"""
import os

import tensorflow as tf

from facenet_tf.data import augment
from facenet_tf.data import records
from facenet_tf.data import shards

AUTOTUNE = tf.data.AUTOTUNE
# What tf.io.decode_image reads (PGM is not among them).
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".gif", ".bmp")


def list_identity_tree(root, extensions=IMAGE_EXTENSIONS):
  """Images of a tree `root/<identity>/<image>`, sorted, with dense labels.

  Identities are the sorted sub-folders that hold at least one image with one
  of `extensions` (case-insensitive); label i is the i-th of them, the same
  numbering as TFDS's ImageFolder when no folder is empty.

  Returns:
    (paths, labels, names): image paths sorted by identity then file name,
    their int labels, and the identity names indexed by label.
  """
  paths, labels, names = [], [], []
  for name in sorted(tf.io.gfile.listdir(root)):
    folder = os.path.join(root, name.rstrip("/"))
    if not tf.io.gfile.isdir(folder):
      continue
    files = sorted(f for f in tf.io.gfile.listdir(folder)
                   if f.lower().endswith(tuple(extensions)))
    if files:
      paths += [os.path.join(folder, f) for f in files]
      labels += [len(names)] * len(files)
      names.append(name.rstrip("/"))
  if not names:
    raise ValueError(f"No identity folder with images {extensions} in {root}")
  return paths, labels, names


def image_files_dataset(paths, image_size, batch_size, crop_padding=0):
  """Batches of float32 [b, H, W, 3] images of `paths`, in order.

  A missing, unreadable or undecodable file raises InvalidArgumentError
  naming it when the iteration reaches it. TF's own decode errors do not
  name the file, so failed reads are dropped (`ignore_errors`) and a scan
  over the image indices reports the first gap.

  Args:
    paths: image file paths (JPEG, PNG, GIF, BMP).
    image_size: output size, int or (height, width).
    batch_size: images per batch; the last batch holds the remainder.
    crop_padding: resize to image_size + crop_padding, keep the centre.
  """
  paths = tf.constant(list(paths), tf.string)
  count = int(paths.shape[0])
  load = lambda index: (index, augment.eval_image(
      tf.io.read_file(paths[index]), image_size, crop_padding))
  loaded = tf.data.Dataset.range(count).map(
      load, num_parallel_calls=AUTOTUNE, deterministic=True).ignore_errors()
  height, width = augment.image_hw(image_size)
  end = tf.data.Dataset.from_tensors(
      (tf.constant(count, tf.int64), tf.zeros((height, width, 3))))

  def check_next(expected, element):
    index, _ = element
    check = tf.debugging.Assert(
        tf.equal(index, expected),
        ["Cannot read or decode image file (missing, unreadable or not "
         "JPEG/PNG/GIF/BMP):", paths[tf.minimum(expected, count - 1)]])
    with tf.control_dependencies([check]):
      return expected + 1, tf.nest.map_structure(tf.identity, element)

  checked = loaded.concatenate(end).scan(tf.constant(0, tf.int64), check_next)
  images = checked.filter(lambda index, _: index < count).map(
      lambda _, image: image)
  return images.batch(batch_size).prefetch(AUTOTUNE)


def records_dataset(data_dir, image_size, batch_size, crop_padding=0,
                    name=None):
  """Every image of a shard set once, in shard and record order.

  Args:
    data_dir: directory of identity shards (records.py).
    image_size: output size, int or (height, width).
    batch_size: images per batch; the last batch holds the remainder.
    crop_padding: resize to image_size + crop_padding, keep the centre.
    name: the shards' name prefix, when `data_dir` holds several sets.

  Returns:
    Batches of dicts: image float32 [b, H, W, 3], label int32 [b], path [b]
    (relative to the tree the shards were built from).
  """
  _, paths = shards.find_shards(data_dir, name)
  for path in paths:
    shards.check_shard(path)

  def images_of(serialized):
    identity = records.parse_identity(serialized)
    count = tf.size(identity["images"])
    return tf.data.Dataset.from_tensor_slices({
        "image": identity["images"], "path": identity["paths"],
        "label": tf.fill([count], tf.cast(identity["label"], tf.int32))})

  def decode(example):
    example = dict(example)
    example["image"] = augment.eval_image(example["image"], image_size,
                                          crop_padding)
    return example

  examples = tf.data.TFRecordDataset(paths).flat_map(images_of)
  return examples.map(decode, num_parallel_calls=AUTOTUNE,
                      deterministic=True).batch(batch_size).prefetch(AUTOTUNE)
