"""Sharded embeddings: what `facenet-embed --runner beam` writes.

    <output_dir>/shards.json                      the manifest, written last
    <output_dir>/embeddings-00000-of-00004.npz    one shard (NumPy, no pickle)

A shard holds rows with their keys: `order` int64 [n, 3] (the row's place:
(photo position in the sorted listing, 0, face) for a tree, (label, image
in its record, 0) for TFRecord shards), `embeddings` float32 [n, D],
`paths`, `identities` and `faces` (JSON text of face, box and score; "" for
crops). The manifest lists the shards with their row counts, the sorted
identity names (labels are positions in it, as embedding_io numbers them),
the photos without a face, the skipped inputs and the model's metadata.

`embedding_io.read_embeddings` reads this layout as it reads the one-file
layout (rows sorted by `order`: the local runner's order), so the
recognition and clustering tools take either.
"""
import json
import os

import numpy as np

from facenet_tf import atomic_files
from facenet_tf import export_metadata
from facenet_tf.evaluation import embedding_io

MANIFEST_FILE = "shards.json"
FORMAT_VERSION = 1


def shard_name(index, count):
  return f"embeddings-{index:05d}-of-{count:05d}.npz"


def is_sharded(output_dir):
  return os.path.isfile(os.path.join(output_dir, MANIFEST_FILE))


def write_shard(output_dir, index, count, rows):
  """Writes `rows` ((order, path, identity, face JSON), embedding) as shard
  `index` of `count`, atomically; returns (file name, row count)."""
  rows = sorted(rows, key=lambda row: row[0][0])
  name = shard_name(index, count)
  keys = [key for key, _ in rows]
  arrays = {
      "order": np.array([key[0] for key in keys], np.int64).reshape(-1, 3),
      "embeddings": np.array([e for _, e in rows], np.float32),
      "paths": np.array([key[1] for key in keys], str),
      "identities": np.array([key[2] for key in keys], str),
      "faces": np.array([key[3] for key in keys], str)}
  os.makedirs(output_dir, exist_ok=True)
  with atomic_files.open_for_write(os.path.join(output_dir, name), "wb") as f:
    np.savez(f, **arrays)
  return name, len(rows)


def write_manifest(output_dir, shards, identities, no_face, skipped,
                   metadata, run):
  """The manifest, after every shard: `shards` [(name, rows)], `no_face`
  [(order, path)], `skipped` [(order, path, error)] (sorted here),
  `metadata` the model's ExportMetadata."""
  manifest = {
      "format_version": FORMAT_VERSION,
      "shards": [{"file": name, "rows": rows} for name, rows in sorted(shards)],
      "rows": sum(rows for _, rows in shards),
      "identities": sorted(identities),
      "no_face": [path for _, path in sorted(no_face)],
      "skipped": [[path, error] for _, path, error in sorted(skipped)],
      "model": metadata.to_dict(), "run": run}
  atomic_files.write_json(os.path.join(output_dir, MANIFEST_FILE), manifest,
                          indent=1)
  return manifest


def read_manifest(output_dir):
  with open(os.path.join(output_dir, MANIFEST_FILE), encoding="utf-8") as f:
    return json.load(f)


def read_sharded(output_dir):
  """EmbeddedImages of a sharded output, rows in `order`.

  Raises:
    FileNotFoundError: the manifest or a shard it lists is missing.
    ValueError: a shard does not hold the rows the manifest says.
  """
  manifest = read_manifest(output_dir)
  parts = []
  for shard in manifest["shards"]:
    path = os.path.join(output_dir, shard["file"])
    if not os.path.isfile(path):
      raise FileNotFoundError(f"{path}, listed in {MANIFEST_FILE}, is missing")
    with np.load(path, allow_pickle=False) as data:
      part = {key: data[key] for key in data.files}
    if len(part["order"]) != shard["rows"]:
      raise ValueError(f"{path} holds {len(part['order'])} rows, "
                       f"{MANIFEST_FILE} says {shard['rows']}")
    parts.append(part)
  merged = {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}
  rows = np.lexsort(merged["order"].T[::-1])
  faces = [json.loads(text) if text else None
           for text in merged["faces"][rows]]
  # Labels as embedding_io.identity_labels numbers them ("": -1).
  label_of = {name: i for i, name in enumerate(
      n for n in manifest["identities"] if n)}
  identities = merged["identities"][rows].tolist()
  return embedding_io.EmbeddedImages(
      merged["embeddings"][rows].reshape(len(rows), -1),
      merged["paths"][rows].tolist(), identities,
      np.array([label_of.get(name, -1) for name in identities], np.int64),
      [tuple(s) for s in manifest["skipped"]],
      export_metadata.ExportMetadata.from_dict(manifest["model"]),
      faces if faces and faces[0] is not None else None, manifest["no_face"])
