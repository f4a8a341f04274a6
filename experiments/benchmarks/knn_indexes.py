"""The index rows of bench_knn.py: exact, FAISS IVF and ScaNN on one gallery.

  exact         ann_index kind "exact" (recognition.nearest_neighbours);
  ivf:<lists>   ann_index kind "ivf": FAISS IVF-PQ fast scan, refine 200,
                exact re-ranking (what a photos.Gallery above 100k uses);
  scann:<leaves> ScaNN's tree + asymmetric hashing + reorder 100, through
                its pybind module (the package fails to import under TF 2.21).

A synthetic gallery with the spread of real face embeddings, measured by
embedding_statistics.py (face_embedding_stats.npz: the reference model on
1,200 LFW photos of 300 people; between-identity variance has an effective
dimension of 16 of 128, within-identity 28). --identities centres c ~
N(mean, between), --gallery / --identities rows each, row = unit(c + N(0,
within)); probes are new rows of random identities drawn the same way. (A
uniform random sphere, which no face embedder produces and on which no
partitioning index works, gave IVF recall@1 0.88 at 128 of 4,000 lists.)
The answer to match is exact search's rank-1 row (recall@1 counts probes
whose rank-1 row is that row).

Each index is measured in a fresh process: build seconds, memory (RSS peak
above the data, during the build and searches), queries/s of one batched call
of all probes, single-query latency (median of 200 one-probe calls), and
recall@1, for each search setting (nprobe, leaves searched).
"""
import importlib.util
import pathlib
import site
import sys
import time
import types

import numpy as np

from facenet_tf.evaluation import ann_index
from facenet_tf.evaluation import recognition
from peak_memory import reset_peak  # noqa: E402  (sibling module)
from peak_memory import status_mb  # noqa: E402

STATS = pathlib.Path(__file__).with_name("face_embedding_stats.npz")
SINGLE = 200  # one-probe calls timed for the latency


def _unit(x):
  x /= np.linalg.norm(x, axis=1, keepdims=True)
  return x


def _sampler(covariance):
  """x -> x @ L.T with L L^T = covariance (eigendecomposition: PSD-safe)."""
  values, vectors = np.linalg.eigh(covariance.astype(np.float64))
  root = (vectors * np.sqrt(np.clip(values, 0, None))).astype(np.float32)
  return lambda x: x @ root.T


def clustered(rows, identities, probes, dim, seed=0):
  """(gallery [rows, dim], probes [probes, dim]) float32, unit norm."""
  stats = np.load(STATS)
  if stats["mean"].shape != (dim,):
    raise SystemExit(f"{STATS.name} is of {stats['mean'].shape[0]}-d "
                     f"embeddings, not --dim {dim}")
  between, within = _sampler(stats["between"]), _sampler(stats["within"])
  rng = np.random.default_rng(seed)
  centres = stats["mean"] + between(
      rng.standard_normal((identities, dim), np.float32))
  gallery = np.empty((rows, dim), np.float32)
  per = rows // identities
  for start in range(0, rows, 100_000):  # no large float64 temporaries
    block = gallery[start:start + 100_000]
    owner = np.arange(start, start + len(block)) // per % identities
    block[:] = _unit(centres[owner] + within(rng.standard_normal(
        block.shape, np.float32)))
  owner = rng.choice(identities, probes)
  return gallery, _unit(centres[owner] + within(rng.standard_normal(
      (probes, dim), np.float32)))


def import_scann():
  """ScaNN's pybind module, skipping `scann/__init__`: that imports the TF op
  library, built for TF 2.20, which fails to load under TF 2.21."""
  if importlib.util.find_spec("scann") is None:
    raise ImportError("scann is not installed (pip install scann)")
  for name in ("scann", "scann.scann_ops", "scann.scann_ops.py"):
    if name not in sys.modules:
      module = types.ModuleType(name)
      module.__path__ = [f"{site.getsitepackages()[0]}/"
                         f"{name.replace('.', '/')}"]
      sys.modules[name] = module
  from scann.scann_ops.py import scann_ops_pybind  # noqa: E402
  return scann_ops_pybind


class _Scann:
  """ScaNN's recommended tree + asymmetric hashing + exact re-ordering."""

  def __init__(self, gallery, leaves):
    self.searcher = import_scann().builder(gallery, 10, "dot_product").tree(
        num_leaves=leaves, num_leaves_to_search=leaves // 40,
        training_sample_size=min(len(gallery), 250_000)).score_ah(
            2, anisotropic_quantization_threshold=0.2).reorder(100).build()
    self.nprobe = leaves // 40

  def search(self, probes, k):
    rows, _ = self.searcher.search_batched_parallel(
        probes, final_num_neighbors=k, leaves_to_search=self.nprobe)
    return None, rows.astype(np.int64)


def build(spec, gallery):
  """An index by name: exact, ivf:<lists>, scann:<leaves>."""
  kind, _, size = spec.partition(":")
  if kind == "exact":
    return ann_index.NeighbourIndex(gallery, kind="exact")
  if kind == "ivf":
    return ann_index.NeighbourIndex(gallery, kind="ivf", nlist=int(size))
  if kind == "scann":
    return _Scann(gallery, int(size))
  raise SystemExit(f"index {spec!r}: exact, ivf:<lists> or scann:<leaves>")


def measure(spec, settings, args):
  """One index in this process: a list of result dicts, one per setting."""
  gallery, probes = clustered(args.gallery, args.identities, args.probes,
                              args.dim)
  truth = recognition.nearest_neighbours(probes, gallery, 1)[1][:, 0]
  base, method = reset_peak()
  start = time.perf_counter()
  try:
    index = build(spec, gallery)
  except ImportError as error:
    return [{"index": spec, "error": str(error)}]
  built = time.perf_counter() - start
  results = []
  for setting in settings if spec != "exact" else [None]:
    if setting is not None:
      index.nprobe = setting
    for warm in (probes[:8], probes[:1]):  # exact: compiles XLA blocks
      index.search(warm, 1)
    start = time.perf_counter()
    rows = index.search(probes, 1)[1][:, 0]
    batched = time.perf_counter() - start
    single = []
    for probe in probes[:SINGLE]:
      start = time.perf_counter()
      index.search(probe[None], 1)
      single.append(time.perf_counter() - start)
    results.append({
        "index": spec, "setting": setting, "build_s": built,
        "memory_mb": status_mb("VmHWM") - base, "memory_method": method,
        "qps": len(probes) / batched, "latency_ms": 1e3 * np.median(single),
        "recall1": float(np.mean(rows == truth))})
  return results
