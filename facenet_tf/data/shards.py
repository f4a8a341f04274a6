"""Finding the TFRecord shards of a directory and checking their framing.

A truncated shard is a real risk (a copy or a job killed mid-write), and TF's
reader handles it badly: a file cut inside a record's data raises
`DataLossError: truncated record at <offset>` without naming the file, and a
file cut inside a record's 12-byte header ends silently, one identity short.
So the readers check, before reading, that every shard they will read is
complete, and raise an error naming the file. The check walks the record
headers (a 12-byte read and a seek per identity record, no data read): about
10 ms for LFW's 5,749 records. A shard cut exactly at a record boundary is a
valid, shorter shard and passes.
"""
import collections
import os
import re
import struct

import tensorflow as tf

_SHARD_RE = re.compile(
    r"^(?P<name>.+)\.tfrecord-(?P<index>\d{5})-of-(?P<count>\d{5})$")
# TFRecord framing: uint64 length, uint32 masked CRC of the length, the data,
# uint32 masked CRC of the data.
_HEADER_BYTES = 12
_FOOTER_BYTES = 4


class ShardError(ValueError):
  """A shard set that is incomplete, ambiguous or truncated."""


def find_shards(data_dir, name=None):
  """The glob pattern and sorted paths of the shards `<name>.tfrecord-*-of-*`.

  Args:
    data_dir: directory holding the shards (and manifest.json).
    name: the shards' name prefix; None accepts the only one present.

  Returns:
    (pattern, paths): a glob pattern matching exactly `paths`.

  Raises:
    ShardError: no shards, several names without `name`, or shards missing
      from a `-of-N` set.
  """
  by_name = collections.defaultdict(list)
  for path in tf.io.gfile.glob(os.path.join(data_dir, "*.tfrecord-*-of-*")):
    match = _SHARD_RE.match(os.path.basename(path))
    if match and name in (None, match["name"]):
      by_name[match["name"]].append((int(match["index"]), int(match["count"]),
                                     path))
  if not by_name:
    wanted = f"{name}.tfrecord-NNNNN-of-NNNNN" if name else "*.tfrecord-*-of-*"
    raise ShardError(f"No shards {wanted} in {data_dir}")
  if len(by_name) > 1:
    raise ShardError(f"Several shard sets in {data_dir}: {sorted(by_name)}; "
                     "pass name= to choose one")
  (found_name, shards), = by_name.items()
  shards.sort()
  counts = sorted({count for _, count, _ in shards})
  if len(counts) != 1 or [i for i, _, _ in shards] != list(range(counts[0])):
    raise ShardError(f"Incomplete shard set {found_name} in {data_dir}: "
                     f"{len(shards)} files, their names say -of-{counts}")
  pattern = os.path.join(data_dir, f"{found_name}.tfrecord-*-of-*")
  return pattern, [path for _, _, path in shards]


def num_labels(data_dir, name=None):
  """1 + the largest label in the shards: the classes a classifier needs."""
  _, paths = find_shards(data_dir, name)
  spec = {"label": tf.io.FixedLenFeature([], tf.int64)}
  labels = tf.data.TFRecordDataset(paths).map(
      lambda x: tf.io.parse_single_example(x, spec)["label"])
  return int(labels.reduce(tf.constant(-1, tf.int64), tf.maximum)) + 1


def check_shard(path):
  """Raises ShardError naming `path` if its last record is cut short.

  Returns:
    The number of records in the shard.
  """
  size = tf.io.gfile.stat(path).length
  records, offset = 0, 0
  with tf.io.gfile.GFile(path, "rb") as f:
    while offset < size:
      header = f.read(_HEADER_BYTES)
      if len(header) < _HEADER_BYTES:
        raise ShardError(f"Truncated shard {path}: a record header at byte "
                         f"{offset} is cut short (file size {size})")
      length, = struct.unpack("<Q", header[:8])
      offset += _HEADER_BYTES + length + _FOOTER_BYTES
      if offset > size:
        raise ShardError(f"Truncated shard {path}: record {records} ends at "
                         f"byte {offset}, after the end of the file ({size})")
      f.seek(offset)
      records += 1
  return records
