"""The TFRecord schema: one `tf.train.Example` per identity (schema version 1).

Every image of an identity lives in one record, so the P x K sampler reads a
record and draws K of its images: no per-identity dataset and no file list in
Python, whatever the number of identities (WORKSPACE_NOTES.md, "Shard layout").

Features of a record:
  label       int64 [1]   dense integer label, 0..num_identities-1
  name        bytes [1]   identity name (the folder name)
  images      bytes [n]   encoded JPEG or PNG bytes
  formats     bytes [n]   b"jpeg" or b"png"
  heights     int64 [n]
  widths      int64 [n]
  paths       bytes [n]   source path, relative to the input root
  teacher     float [n*256], optional: per image the teacher's 128-d
              descriptor of the face, then of its mirror image; zeros where
              the teacher has none (data_pipelines/teacher_targets.py)
"""
import tensorflow as tf

SCHEMA_VERSION = 1

TEACHER_VALUES = 256  # per image: target [128], then the mirror's [128]
TEACHER_FEATURE = {
    "teacher": tf.io.RaggedFeature(tf.float32, row_splits_dtype=tf.int64)}
_FEATURES = {
    "label": tf.io.FixedLenFeature([], tf.int64),
    "name": tf.io.FixedLenFeature([], tf.string),
    "images": tf.io.RaggedFeature(tf.string),
    "formats": tf.io.RaggedFeature(tf.string),
    "heights": tf.io.RaggedFeature(tf.int64),
    "widths": tf.io.RaggedFeature(tf.int64),
    "paths": tf.io.RaggedFeature(tf.string),
}


def _bytes(values):
  return tf.train.Feature(bytes_list=tf.train.BytesList(value=list(values)))


def _ints(values):
  return tf.train.Feature(int64_list=tf.train.Int64List(value=list(values)))


def encode_identity(label, name, images):
  """Serialised record of one identity.

  Args:
    label: int label.
    name: identity name (str).
    images: list of dicts with keys `bytes` (encoded), `format` ('jpeg' or
      'png'), `height`, `width`, `path` (str), and optionally `teacher`
      ([256] floats; all images or none).
  """
  if not images:
    raise ValueError(f"Identity {name!r} has no images; it gets no record.")
  feature = {
      "label": _ints([label]),
      "name": _bytes([name.encode()]),
      "images": _bytes(im["bytes"] for im in images),
      "formats": _bytes(im["format"].encode() for im in images),
      "heights": _ints(im["height"] for im in images),
      "widths": _ints(im["width"] for im in images),
      "paths": _bytes(im["path"].encode() for im in images),
  }
  if "teacher" in images[0]:
    feature["teacher"] = tf.train.Feature(float_list=tf.train.FloatList(
        value=[v for im in images for v in im["teacher"]]))
  example = tf.train.Example(features=tf.train.Features(feature=feature))
  # upb orders the feature map by a per-process hash seed: only a
  # deterministic serialisation gives the same bytes in every process (and
  # byte-identical shards from the local and Beam runners).
  return example.SerializeToString(deterministic=True)


def parse_identity(serialized):
  """A dict of tensors from one serialised record (inside tf.data)."""
  return tf.io.parse_single_example(serialized, _FEATURES)


def shard_name(name, index, num_shards):
  """TFDS-style shard file name: `<name>.tfrecord-00003-of-00016`."""
  return f"{name}.tfrecord-{index:05d}-of-{num_shards:05d}"
