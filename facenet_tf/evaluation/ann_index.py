"""Nearest-neighbour index of a gallery: exact below a size, FAISS above.

    index = ann_index.NeighbourIndex(gallery_embeddings)      # kind="auto"
    distances, rows = index.search(probes, k=5)               # squared L2
    index.save("people.npz.faiss"); ann_index.NeighbourIndex.load(path, gallery)

The search contract is recognition.nearest_neighbours': squared L2
distances, nearest first, float32 [P, k] and int64 [P, k]. Kinds:

  exact   recognition.nearest_neighbours (chunked brute force).
  ivf     FAISS IVF-PQ fast scan ("IVF<nlist>,PQ<D/2>x4fs") over inner
          products of the unit-norm rows (d = 2 - 2 cos: the same order):
          `nprobe` lists searched, `refine` x k candidates per probe taken
          from the 4-bit codes, then re-ranked by their exact squared L2
          against the gallery rows (no second copy of them in the index).
  auto    exact up to EXACT_MAX_ROWS rows, ivf above (exact, with a
          warning, when FAISS is not installed: slower, never wrong).

Why these (experiments/benchmarks/bench_knn.py, WORKSPACE_NOTES.md #16): on
a 1M x 128 gallery with the spread of real face embeddings, exact search
answers ~160-230 queries/s on 2 cores, a few ms a query up to ~100k rows,
where an index buys little and costs a build. IVF-PQ fast scan with exact
re-ranking gave recall@1 0.993 at 5,300 queries/s (1,000 lists, nprobe 64,
refine 200; built in 17 s); FAISS IndexIVFFlat needed nprobe 64 for 0.996
at 243 queries/s, HNSW32 efSearch 128 0.998 at 1,437 (built in 221 s), and
ScaNN (tree + AH + reorder) 0.997 at 3,577. ScaNN 1.4.2 also fails to
import under TF 2.21 (its TF op library is built for TF 2.20), so FAISS
it is (`pip install -e ".[index]"`). A saved index records the gallery's
row count and a fingerprint of its embeddings: one that does not match the
gallery it is loaded with is refused, never used.
"""
import hashlib
import importlib.util
import json
import os

from absl import logging
import numpy as np

from facenet_tf import atomic_files

from facenet_tf.evaluation import recognition

KINDS = ("auto", "exact", "ivf")
# Exact search is a few ms per query up to here (1M rows: 4.3 ms a query).
EXACT_MAX_ROWS = 100_000
_PROBE_CHUNK = 256  # probes re-ranked at once: 256 x 200 x D floats
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
  """IVF lists: sqrt(N) (1,000 at 1M: 17 s to build; 4,000 lists took 144
  s and lost recall), at least 1, at most N/39 (k-means wants >= 39
  training points per centroid)."""
  return int(max(1, min(np.sqrt(rows), rows // 39)))


class NeighbourIndex:
  """k-NN search over fixed gallery rows (see the module docstring)."""

  def __init__(self, gallery, kind="auto", nlist=None, nprobe=64,
               refine=200, seed=0):
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
    self.kind, self.nprobe, self.refine = kind, nprobe, refine
    self._faiss = None
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
    self._faiss.nprobe = self.nprobe  # attributes: settable per search
    candidates = min(len(self.gallery), k * self.refine)
    out = [self._refined(probes[i:i + _PROBE_CHUNK], k, candidates)
           for i in range(0, len(probes), _PROBE_CHUNK)]
    return (np.concatenate([d for d, _ in out]),
            np.concatenate([r for _, r in out]))

  def _refined(self, probes, k, candidates):
    """The k nearest of each probe's candidates by exact squared L2."""
    _, rows = self._faiss.search(probes, candidates)
    # Lists too short to fill the candidates leave -1: those slots get an
    # infinite distance and stay last.
    found = rows >= 0
    safe = np.where(found, rows, 0)
    distances = np.sum((self.gallery[safe] - probes[:, None]) ** 2, axis=2)
    distances = np.where(found, distances, np.inf).astype(np.float32)
    order = np.argsort(distances, axis=1, kind="stable")[:, :k]
    return (np.take_along_axis(distances, order, 1),
            np.take_along_axis(rows, order, 1).astype(np.int64))

  def save(self, path):
    """Writes the FAISS index (exact: only the record) and `path`.json."""
    record = {"kind": self.kind, "rows": len(self.gallery),
              "fingerprint": fingerprint(self.gallery), "nprobe": self.nprobe,
              "refine": self.refine}
    if self._faiss is not None:
      faiss = _import_faiss()
      atomic_files.write_bytes(
          path, faiss.serialize_index(self._faiss).tobytes())
    atomic_files.write_json(f"{os.fspath(path)}.json", record)

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
    index.nprobe, index.refine = record["nprobe"], record["refine"]
    index._faiss = None
    if index.kind == "ivf":
      index._faiss = _import_faiss().read_index(path)
    return index


def _import_faiss():
  if importlib.util.find_spec("faiss") is None:
    raise AnnIndexError(_INSTALL)
  import faiss  # pylint: disable=import-outside-toplevel
  return faiss


def _build_ivf(gallery, nlist, seed):
  """IVF-PQ fast scan on inner products, k-means seeded for a repeatable
  build; D/2 sub-quantizers of 4 bits (2 dimensions per 4-bit code)."""
  faiss = _import_faiss()
  dim = gallery.shape[1]
  if dim % 2:
    raise AnnIndexError(f"the ivf index needs an even embedding size, got "
                        f"{dim}: use kind='exact'")
  index = faiss.index_factory(dim, f"IVF{nlist},PQ{dim // 2}x4fs",
                              faiss.METRIC_INNER_PRODUCT)
  faiss.extract_index_ivf(index).cp.seed = seed
  index.train(gallery)
  index.add(gallery)
  return index
