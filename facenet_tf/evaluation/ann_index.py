"""Nearest-neighbour index of a gallery: exact below a size, FAISS above.

    index = ann_index.NeighbourIndex(gallery_embeddings)      # kind="auto"
    distances, rows = index.search(probes, k=5)               # squared L2
    index.save("people.npz.faiss"); ann_index.NeighbourIndex.load(path, gallery)

The search contract is recognition.nearest_neighbours': squared L2
distances, nearest first, float32 [P, k] and int64 [P, k]. Kinds:

  exact   recognition.nearest_neighbours (chunked brute force).
  ivf     FAISS IndexIVFFlat over inner products of the unit-norm rows
          (d = 2 - 2 cos, so the same order), `nprobe` lists searched; the
          candidates' squared L2 distances are recomputed exactly.
  auto    exact up to EXACT_MAX_ROWS rows, ivf above (exact, with a
          warning, when FAISS is not installed: slower, never wrong).

Why these (experiments/benchmarks/bench_knn.py, WORKSPACE_NOTES.md #16):
exact search of 1,000 probes against 1M x 128 takes 4.3 s on 2 cores, so it
answers a single query in a few ms up to ~100k rows: below that an index
buys nothing and costs a build. ScaNN 1.4.2 (Google's) is built against TF
2.20 and fails to load its op library under TF 2.21, so FAISS it is
(`pip install -e ".[index]"`). A saved index records the gallery's row count
and a fingerprint of its embeddings: one that does not match the gallery it
is loaded with is refused, never used.
"""
import hashlib
import importlib.util
import json
import os

from absl import logging
import numpy as np

from facenet_tf.evaluation import recognition

KINDS = ("auto", "exact", "ivf")
# Exact search is a few ms per query up to here (1M rows: 4.3 ms a query).
EXACT_MAX_ROWS = 100_000
_INSTALL = 'FAISS is not installed: pip install -e ".[index]" (faiss-cpu)'


class AnnIndexError(ValueError):
  """An index that cannot be built or does not belong to its gallery."""


def fingerprint(embeddings):
  """A short hash of the gallery rows (shape, dtype and bytes)."""
  rows = np.ascontiguousarray(embeddings, np.float32)
  digest = hashlib.sha256(str(rows.shape).encode())
  digest.update(rows.tobytes())
  return digest.hexdigest()[:16]


def default_lists(rows):
  """IVF lists: ~4 sqrt(N) (FAISS's guideline), at least 1, at most N/39
  (k-means wants >= 39 training points per centroid)."""
  return int(max(1, min(4 * np.sqrt(rows), rows // 39)))


class NeighbourIndex:
  """k-NN search over fixed gallery rows (see the module docstring)."""

  def __init__(self, gallery, kind="auto", nlist=None, nprobe=32, seed=0):
    if kind not in KINDS:
      raise AnnIndexError(f"index kind must be one of {KINDS}, got {kind!r}")
    self.gallery = np.ascontiguousarray(gallery, np.float32)
    if self.gallery.ndim != 2 or not len(self.gallery):
      raise AnnIndexError(f"a gallery is [N >= 1, D], got {self.gallery.shape}")
    if kind == "auto":
      kind = "exact" if len(self.gallery) <= EXACT_MAX_ROWS else "ivf"
      if kind == "ivf" and importlib.util.find_spec("faiss") is None:
        logging.warning("%d gallery rows: exact search (%s)",
                        len(self.gallery), _INSTALL)
        kind = "exact"
    self.kind, self.nprobe, self._faiss = kind, nprobe, None
    if kind == "ivf":
      self._faiss = _build_ivf(self.gallery, nlist or default_lists(
          len(self.gallery)), seed)

  def search(self, probes, k):
    """(squared L2 distances [P, k], gallery rows [P, k]), nearest first."""
    if self.kind == "exact":
      return recognition.nearest_neighbours(probes, self.gallery, k)
    probes = np.ascontiguousarray(probes, np.float32)
    if probes.ndim != 2 or probes.shape[1] != self.gallery.shape[1]:
      raise ValueError(f"probes must be [N, {self.gallery.shape[1]}], got "
                       f"{probes.shape}")
    if not 1 <= k <= len(self.gallery):
      raise ValueError(f"k = {k} outside [1, {len(self.gallery)}]")
    self._faiss.nprobe = self.nprobe  # an attribute: settable per search
    _, rows = self._faiss.search(probes, k)
    # Lists too short to fill k leave -1: those slots get an infinite
    # distance and stay last. Found rows get their exact squared L2.
    found = rows >= 0
    safe = np.where(found, rows, 0)
    distances = np.sum((self.gallery[safe] - probes[:, None]) ** 2, axis=2)
    distances = np.where(found, distances, np.inf).astype(np.float32)
    order = np.argsort(distances, axis=1, kind="stable")
    return (np.take_along_axis(distances, order, 1),
            np.take_along_axis(rows, order, 1).astype(np.int64))

  def save(self, path):
    """Writes the FAISS index (exact: only the record) and `path`.json."""
    record = {"kind": self.kind, "rows": len(self.gallery),
              "fingerprint": fingerprint(self.gallery), "nprobe": self.nprobe}
    if self._faiss is not None:
      faiss = _import_faiss()
      faiss.write_index(self._faiss, os.fspath(path))
    with open(f"{os.fspath(path)}.json", "w", encoding="utf-8") as f:
      json.dump(record, f)

  @classmethod
  def load(cls, path, gallery):
    """The index saved at `path`, checked against `gallery`'s rows."""
    path = os.fspath(path)
    try:
      with open(f"{path}.json", encoding="utf-8") as f:
        record = json.load(f)
    except (OSError, ValueError) as error:
      raise AnnIndexError(f"{path}.json: no index record ({error})") from None
    gallery = np.ascontiguousarray(gallery, np.float32)
    if (record["rows"] != len(gallery)
        or record["fingerprint"] != fingerprint(gallery)):
      raise AnnIndexError(
          f"{path} indexes another gallery ({record['rows']} rows, "
          f"fingerprint {record['fingerprint']}; this one: {len(gallery)} "
          f"rows, {fingerprint(gallery)}): rebuild it")
    index = cls.__new__(cls)
    index.gallery, index.kind = gallery, record["kind"]
    index.nprobe, index._faiss = record["nprobe"], None
    if index.kind == "ivf":
      index._faiss = _import_faiss().read_index(path)
    return index


def _import_faiss():
  if importlib.util.find_spec("faiss") is None:
    raise AnnIndexError(_INSTALL)
  import faiss  # pylint: disable=import-outside-toplevel
  return faiss


def _build_ivf(gallery, nlist, seed):
  """IndexIVFFlat on inner products, k-means seeded for a repeatable build."""
  faiss = _import_faiss()
  quantizer = faiss.IndexFlatIP(gallery.shape[1])
  index = faiss.IndexIVFFlat(quantizer, gallery.shape[1], nlist,
                             faiss.METRIC_INNER_PRODUCT)
  index.cp.seed = seed
  index.train(gallery)
  index.add(gallery)
  return index
