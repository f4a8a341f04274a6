"""The per-identity work both runners share: list, convert, label, serialise.

The input is a tree `D/<identity>/<image>`. Identity folders are put in a
seeded random order, the record order, and go round-robin to shards in it
(the i-th to shard i mod S): balanced, and known before any image is read,
so a worker can own a whole shard. The order is random, not sorted by name,
because a reader's shuffle buffer only mixes a window of consecutive records:
sorted shards fed batches of alphabetically adjacent identities, i.e. one
source at a time in a merged tree (WORKSPACE_NOTES.md, #14 session 8). Labels are
given later, 0..n-1 over the identities that kept at least `min_images`
usable images, sorted by name: a skipped identity takes no label, so labels
stay dense, and the label of an identity depends on which others were skipped.

All file access goes through `tf.io.gfile`, so the same code reads `gs://`
trees on Dataflow workers.
"""
import collections
import dataclasses
import functools
import io
import os
import random

import numpy as np
import tensorflow as tf

from data_pipelines import teacher_targets
from data_pipelines import tfrecords_images
from facenet_tf.data import image_tree
from facenet_tf.data import records

# Skip reasons written to the manifest, besides tfrecords_images.UNDECODABLE.
NOT_AN_IMAGE = "not_an_image"            # a file without an image extension
DIRECTORY = "directory"                  # a folder inside an identity folder
UNREADABLE = "unreadable"                # the file could not be read
NOT_AN_IDENTITY_FOLDER = "not_an_identity_folder"  # a file directly under D
EMPTY_IDENTITY = "empty_identity"        # an identity with no usable image
TOO_FEW_IMAGES = "too_few_images"        # fewer usable images than min_images
_NO_TARGET = np.zeros(2 * 128, np.float32)


class ConversionError(ValueError):
  """A request that cannot run, with a message meant for the user."""


@dataclasses.dataclass
class Identity:
  """One identity folder after conversion.

  Attributes:
    name: folder name.
    shard: index of the shard that holds its record.
    images: record-ready dicts (see `tfrecords_images.convert`, plus `path`)
      sorted by file name; empty when the identity is skipped.
    skipped: `{"path", "reason", "detail"}` for every file left out, and one
      for the folder itself when the whole identity is skipped.
  """
  name: str
  shard: int
  images: list
  skipped: list

  def summary(self):
    """What the manifest needs: counts and histograms, no image bytes."""
    return {
        "name": self.name,
        "shard": self.shard,
        "num_images": len(self.images),
        "sizes": collections.Counter(
            f"{im['height']}x{im['width']}" for im in self.images),
        "stored_formats": collections.Counter(
            im["format"] for im in self.images),
        "source_formats": collections.Counter(
            im["source_format"] for im in self.images),
        "channels": collections.Counter(
            str(im["channels"]) for im in self.images),
        "skipped": self.skipped,
        # None: the tree has no teacher targets (records carry none).
        "with_teacher": (sum(bool(im["teacher"].any()) for im in self.images)
                         if self.has_teacher() else None),
        "teacher_unit_sum": self._teacher_unit_sum(),
    }

  def has_teacher(self):
    return bool(self.images) and "teacher" in self.images[0]

  def _teacher_unit_sum(self):
    """[sum of the unit target rows (faces and mirrors), their count], for
    the manifest's mean (losses/distillation.py centres on it), or None."""
    if not self.has_teacher():
      return None
    rows = np.concatenate([np.reshape(im["teacher"],
                                      (-1, records.TEACHER_VALUES // 2))
                           for im in self.images]).astype(np.float64)
    rows = rows[np.any(rows != 0.0, axis=1)]
    unit = rows / np.linalg.norm(rows, axis=1, keepdims=True)
    return [unit.sum(axis=0).tolist(), len(unit)]


def list_identities(input_dir, num_shards, seed=0):
  """The identity folders of `input_dir` and their shards.

  Returns:
    `(identities, skipped)`: `(name, shard)` for each folder, in the record
    order (sorted names shuffled with `seed`); skip entries for the files
    found directly under `input_dir`.

  Raises:
    ConversionError: `input_dir` is missing or holds no folder.
  """
  if not tf.io.gfile.isdir(input_dir):
    raise ConversionError(f"input_dir {input_dir} is not a directory")
  names, skipped = [], []
  for entry in sorted(e.rstrip("/") for e in tf.io.gfile.listdir(input_dir)):
    folder = os.path.join(input_dir, entry)
    if image_tree.is_loop(folder, input_dir):
      skipped.append({"path": entry, "reason": NOT_AN_IDENTITY_FOLDER,
                      "detail": "a link to the tree or an ancestor (a loop)"})
    elif tf.io.gfile.isdir(folder):
      names.append(entry)
    else:
      skipped.append({"path": entry, "reason": NOT_AN_IDENTITY_FOLDER,
                      "detail": "a file outside any identity folder"})
  if not names:
    raise ConversionError(
        f"input_dir {input_dir} holds no identity folder; expected "
        "<input_dir>/<identity>/<image>")
  random.Random(seed).shuffle(names)
  return [(name, i % num_shards) for i, name in enumerate(names)], skipped


def convert_identity(input_dir, name, shard, min_images):
  """Reads, validates and encodes every image of one identity folder."""
  folder = os.path.join(input_dir, name)
  images, skipped = [], []
  # GCS lists sub-folders with a trailing slash; local listings do not.
  for file_name in sorted(e.rstrip("/") for e in tf.io.gfile.listdir(folder)):
    path = f"{name}/{file_name}"
    try:
      image = _convert_file(os.path.join(folder, file_name))
    except tfrecords_images.UnusableImage as unusable:
      skipped.append({"path": path, "reason": unusable.reason,
                      "detail": unusable.detail})
    else:
      images.append({**image, "path": path})
  targets = tree_targets(input_dir)
  if targets is not None:
    # Zeros where the teacher has no target for a face (records.py).
    for image in images:
      image["teacher"] = targets.get(image["path"], _NO_TARGET)
  if len(images) < min_images:
    skipped.append({
        "path": name, "reason": TOO_FEW_IMAGES if images else EMPTY_IDENTITY,
        "detail": f"{len(images)} usable image(s), min_images={min_images}"})
    images = []
  return Identity(name, shard, images, skipped)


@functools.lru_cache(maxsize=2)
def tree_targets(input_dir):
  """{`<identity>/<file>`: [256] target then mirror} of a tree with teacher
  targets (data_pipelines/teacher_targets.py, written by training_tree),
  else None. Read once per process, through gfile like the images."""
  path = os.path.join(input_dir, teacher_targets.TREE_FILE)
  if not tf.io.gfile.exists(path):
    return None
  with tf.io.gfile.GFile(path, "rb") as f:
    arrays = np.load(io.BytesIO(f.read()))
  both = np.concatenate([arrays["target"], arrays["mirror"]], axis=1)
  return dict(zip(map(str, arrays["paths"]), both))


def _convert_file(file_path):
  extension = os.path.splitext(file_path)[1].lower()
  if extension not in tfrecords_images.IMAGE_EXTENSIONS:
    if tf.io.gfile.isdir(file_path):
      raise tfrecords_images.UnusableImage(
          DIRECTORY, "the tree is <input_dir>/<identity>/<image>; deeper "
          "folders are not read")
    raise tfrecords_images.UnusableImage(
        NOT_AN_IMAGE, f"extension {extension!r} is not an image extension")
  try:
    with tf.io.gfile.GFile(file_path, "rb") as f:
      data = f.read()
  except tf.errors.OpError as error:
    raise tfrecords_images.UnusableImage(UNREADABLE, error.message) from None
  return tfrecords_images.convert(data)


def assign_labels(names):
  """Dense labels 0..n-1 over the usable identities' names, sorted."""
  return {name: label for label, name in enumerate(sorted(names))}


def serialize(label, identity):
  """The identity's record; deterministic bytes (see records.encode_identity)."""
  return records.encode_identity(label, identity.name, identity.images)
