"""Evaluation input: every image of a path list or of a shard set, in order.

Files are read by the one image reader (reading.read_photo: EXIF, modes,
bombs), shard records decoded as training decodes them; each image is cut
to the model's view (alignment/model_crop_tf: the central `crop_fraction`
of each side, resized), float32 0..255. Batches keep the remainder:
evaluation embeds every image exactly once. `degrade` optionally lowers the
crop's quality, as in the paper's Table 4 (JPEG quality and number of pixels
at evaluation time, the model trained at full quality).
"""
import math
import numbers
import os

import tensorflow as tf

from facenet_tf.alignment import model_crop
from facenet_tf.alignment import model_crop_tf
from facenet_tf.data import augment
from facenet_tf.data import image_tree
from facenet_tf.data import reading
from facenet_tf.data import records
from facenet_tf.data import shards

AUTOTUNE = tf.data.AUTOTUNE


def list_identity_tree(root, extensions=reading.IMAGE_EXTENSIONS):
  """Images of a tree `root/<identity>/<image>`, sorted, with dense labels.

  Identities are the sorted sub-folders that hold at least one image with one
  of `extensions` (case-insensitive); label i is the i-th of them, the same
  numbering as TFDS's ImageFolder when no folder is empty. Linked folders
  and files are followed; a local folder linked to the root or to one of
  its ancestors (a loop, image_tree.is_loop) is left out.

  Returns:
    (paths, labels, names): image paths sorted by identity then file name,
    their int labels, and the identity names indexed by label.
  """
  paths, labels, names = [], [], []
  for name in sorted(tf.io.gfile.listdir(root)):
    folder = os.path.join(root, name.rstrip("/"))
    if not tf.io.gfile.isdir(folder) or image_tree.is_loop(folder, root):
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


def check_degradation(jpeg_quality=None, degrade_pixels=None):
  """Raises ValueError unless each option is off or in range (see degrade)."""
  if jpeg_quality is not None and not (_is_int(jpeg_quality)
                                       and 1 <= jpeg_quality <= 100):
    raise ValueError("jpeg_quality must be an integer in 1..100 (None: no "
                     f"re-encoding), got {jpeg_quality!r}")
  if degrade_pixels is not None and not (_is_int(degrade_pixels)
                                         and degrade_pixels >= 0):
    raise ValueError("degrade_pixels must be a number of pixels >= 1 (0 or "
                     f"None: off), got {degrade_pixels!r}")


def _is_int(value):
  return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def degrade(image, jpeg_quality=None, degrade_pixels=None):
  """An evaluation crop as a lower-quality camera would give it (Table 4).

  With `degrade_pixels` N the crop is reduced to round(sqrt(N)) px a side
  (area: each pixel the mean of those it covers, i.e. antialiased), then
  resized back bilinearly; a side already that small is kept, so N at or
  above the crop's pixels changes nothing. With `jpeg_quality` Q the
  (reduced) image is encoded as a JPEG of quality Q and decoded. Both off
  (None or 0): `image` itself, bit for bit.

  Args:
    image: float32 [H, W, 3] in 0..255, H and W static.
    jpeg_quality: None, or the JPEG quality 1..100.
    degrade_pixels: None or 0, or the number of pixels N >= 1.

  Returns:
    float32 [H, W, 3] in 0..255.
  """
  check_degradation(jpeg_quality, degrade_pixels)
  size = tuple(image.shape[:2])
  low = _reduced_size(size, degrade_pixels)
  if low != size:
    image = tf.image.resize(image, low, method="area")
  if jpeg_quality is not None:
    image = _jpeg_round_trip(image, jpeg_quality)
  if low != size:
    image = tf.image.resize(image, size, method="bilinear")
  return image


def _reduced_size(size, pixels):
  """(h, w) capped at round(sqrt(pixels)) a side; `size` itself when off."""
  if not pixels:
    return size
  side = round(math.sqrt(pixels))
  return min(side, size[0]), min(side, size[1])


def _jpeg_round_trip(image, quality):
  pixels = tf.cast(tf.round(tf.clip_by_value(image, 0.0, 255.0)), tf.uint8)
  decoded = tf.io.decode_jpeg(tf.io.encode_jpeg(pixels, quality=quality),
                              channels=3)
  return tf.ensure_shape(tf.cast(decoded, tf.float32), image.shape)


def _read(path):
  """uint8 [h, w, 3] of the image file at `path` (reading.read_photo)."""
  return reading.read_photo(path.decode())


def image_files_dataset(paths, image_size, batch_size, crop_fraction=1.0,
                        jpeg_quality=None, degrade_pixels=None):
  """Batches of float32 [b, H, W, 3] images of `paths`, in order.

  A missing, unreadable or undecodable file raises InvalidArgumentError
  naming it when the iteration reaches it. Failed reads are dropped
  (`ignore_errors`) and a scan over the image indices reports the first gap.

  Args:
    paths: image file paths (reading.IMAGE_EXTENSIONS).
    image_size: output size, int or (height, width).
    batch_size: images per batch; the last batch holds the remainder.
    crop_fraction: the central fraction of each side the model sees
      (model_crop_tf.model_view); 1: the whole image.
    jpeg_quality: re-encode each crop as a JPEG of this quality (degrade).
    degrade_pixels: reduce each crop to this many pixels and back (degrade).
  """
  check_degradation(jpeg_quality, degrade_pixels)
  paths = tf.constant(list(paths), tf.string)
  count = int(paths.shape[0])

  def load(index):
    image = tf.numpy_function(_read, [paths[index]], tf.uint8, stateful=False)
    view = model_crop_tf.model_view(tf.ensure_shape(image, (None, None, 3)),
                                    image_size, crop_fraction)
    return index, degrade(view, jpeg_quality, degrade_pixels)

  loaded = tf.data.Dataset.range(count).map(
      load, num_parallel_calls=AUTOTUNE, deterministic=True).ignore_errors()
  height, width = model_crop.image_hw(image_size)
  end = tf.data.Dataset.from_tensors(
      (tf.constant(count, tf.int64), tf.zeros((height, width, 3))))

  def check_next(expected, element):
    index, _ = element
    check = tf.debugging.Assert(
        tf.equal(index, expected),
        ["Cannot read or decode image file (missing, unreadable or not an "
         "image):", paths[tf.minimum(expected, count - 1)]])
    with tf.control_dependencies([check]):
      return expected + 1, tf.nest.map_structure(tf.identity, element)

  checked = loaded.concatenate(end).scan(tf.constant(0, tf.int64), check_next)
  images = checked.filter(lambda index, _: index < count).map(
      lambda _, image: image)
  return images.batch(batch_size).prefetch(AUTOTUNE)


def records_dataset(data_dir, image_size, batch_size, crop_fraction=1.0,
                    name=None):
  """Every image of a shard set once, in shard and record order.

  Args:
    data_dir: directory of identity shards (records.py).
    image_size: output size, int or (height, width).
    batch_size: images per batch; the last batch holds the remainder.
    crop_fraction: the central fraction of each side the model sees; 1: the
      whole image.
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
    example["image"] = model_crop_tf.model_view(
        augment.decode(example["image"]), image_size, crop_fraction)
    return example

  examples = tf.data.TFRecordDataset(paths).flat_map(images_of)
  return examples.map(decode, num_parallel_calls=AUTOTUNE,
                      deterministic=True).batch(batch_size).prefetch(AUTOTUNE)
