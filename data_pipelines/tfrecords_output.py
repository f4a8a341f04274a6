"""The output directory: what a conversion writes there, and how.

Every file is written under a hidden temporary name and renamed when
complete, so a killed run never leaves a half-written shard or manifest
under a final name. `manifest.json` is written last: its presence marks a
complete conversion.
"""
import dataclasses
import os
import re

import tensorflow as tf

from data_pipelines.tfrecords_identities import ConversionError
from facenet_tf.data import records

MANIFEST_NAME = "manifest.json"
# Names this tool writes: `--overwrite` deletes these and nothing else.
_OWN_FILE = re.compile(
    r"^(manifest\.json|.+\.tfrecord-\d{5}-of-\d{5}|\..+\.(tmp|staging))$")


@dataclasses.dataclass(frozen=True)
class Job:
  """What to convert and where: small, as it travels to every worker."""
  input_dir: str
  output_dir: str
  name: str
  num_shards: int
  min_images: int

  def shard_path(self, index):
    return os.path.join(
        self.output_dir, records.shard_name(self.name, index, self.num_shards))

  def staging_path(self, index):
    return _hidden(self.shard_path(index), "staging")


def prepare_output_dir(input_dir, output_dir, overwrite):
  """Creates `output_dir`, or empties a previous conversion's files from it.

  Raises:
    ConversionError: `output_dir` is inside `input_dir` (it would be read as
      an identity), is not empty and `overwrite` is false, or holds files
      this tool did not write.
  """
  if _is_inside(output_dir, input_dir):
    raise ConversionError(
        f"output_dir {output_dir} is inside input_dir {input_dir}")
  if not tf.io.gfile.exists(output_dir):
    tf.io.gfile.makedirs(output_dir)
    return
  if not tf.io.gfile.isdir(output_dir):
    raise ConversionError(f"output_dir {output_dir} is not a directory")
  entries = sorted(e.rstrip("/") for e in tf.io.gfile.listdir(output_dir))
  if not entries:
    return
  if not overwrite:
    raise ConversionError(
        f"output_dir {output_dir} is not empty ({len(entries)} entries); "
        "pass --overwrite to replace a previous conversion")
  foreign = [e for e in entries if not _OWN_FILE.match(e)]
  if foreign:
    raise ConversionError(
        f"output_dir {output_dir} holds files this tool did not write "
        f"({', '.join(foreign[:5])}); --overwrite only replaces a previous "
        "conversion's shards and manifest")
  for entry in entries:
    tf.io.gfile.remove(os.path.join(output_dir, entry))


def write_shard(path, serialized_records):
  """Writes a TFRecord file atomically (temporary name, then rename)."""
  temporary = _hidden(path, "tmp")
  with tf.io.TFRecordWriter(temporary) as writer:
    for record in serialized_records:
      writer.write(record)
  tf.io.gfile.rename(temporary, path, overwrite=True)


def write_text(path, text):
  """Writes a text file atomically (temporary name, then rename)."""
  temporary = _hidden(path, "tmp")
  with tf.io.gfile.GFile(temporary, "w") as f:
    f.write(text)
  tf.io.gfile.rename(temporary, path, overwrite=True)


def _hidden(path, suffix):
  directory, base = os.path.split(path)
  return os.path.join(directory, f".{base}.{suffix}")


def _is_inside(path, parent):
  """True when `path` is `parent` or below it (local paths or URLs)."""
  if "://" not in path + parent:
    path, parent = os.path.realpath(path), os.path.realpath(parent)
  return (path.rstrip("/") + "/").startswith(parent.rstrip("/") + "/")
