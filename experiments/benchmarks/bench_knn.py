"""Time and memory of the k-NN search: recognition.py's chunks, then indexes.

  python experiments/benchmarks/bench_knn.py [--probes=1000]
      [--gallery=1000000] [--dim=128] [--k=5] [--probe_chunk=1024]
      [--gallery_chunks=4096,16384,65536] [--repeats=3] [--checked=20]
      [--indexes=exact,ivf:1000,scann:2000] [--identities=100000]
      [--nprobes=16,32,64,128]

Part 2 (--indexes; "" skips it, as --gallery_chunks="" skips part 1) is
knn_indexes.py: build time, memory, queries/s and recall@1 against exact
search of each index on a clustered, face-like gallery.

Part 1:

A float32 unit-norm gallery (1M x 128 = 512 MB) and probes that are noisy
copies of known gallery rows. Per gallery chunk size, in a fresh process:
  * the first call (it compiles the XLA blocks), then the median wall time
    of --repeats calls of nearest_neighbours;
  * the floor: the same blocks' products with a row max only;
  * peak RSS above a baseline taken after the data and TF's start-up
    (VmHWM reset), against the 4 GB a full probes x gallery float32 matrix
    would take.
Correctness: the top k of --checked probes equal a brute-force search of the
whole gallery, and the rank-1 neighbour of each probe is its source row.
"""
import argparse
import json
import os
import subprocess
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import tensorflow as tf

from facenet_tf.evaluation import recognition
import knn_indexes  # noqa: E402  (sibling module)
from peak_memory import reset_peak  # noqa: E402  (sibling module)
from peak_memory import status_mb  # noqa: E402

NOISE = 0.05  # probe = source row + noise: its nearest row stays the source


def unit_rows(x):
  x /= np.linalg.norm(x, axis=1, keepdims=True)
  return x


def make_data(args):
  """(gallery, probes, source row of each probe), float32 unit norm."""
  rng = np.random.default_rng(0)
  gallery = np.empty((args.gallery, args.dim), np.float32)
  for start in range(0, args.gallery, 100_000):  # no float64 temporaries
    block = gallery[start:start + 100_000]
    block[:] = unit_rows(rng.standard_normal(block.shape, np.float32))
  source = rng.choice(args.gallery, args.probes, replace=False)
  probes = unit_rows(gallery[source] + NOISE * rng.standard_normal(
      (args.probes, args.dim), np.float32))
  return gallery, probes, source


@tf.function(jit_compile=True)
def _row_max(probes, chunk):
  return tf.reduce_max(tf.matmul(probes, chunk, transpose_b=True), axis=1)


def floor_seconds(probes, gallery, probe_chunk, gallery_chunk):
  """Seconds for the same blocks' products and a row max (a k = 1 search
  without the merge), compiled the same way."""
  start = time.perf_counter()
  for i in range(0, len(probes), probe_chunk):
    for j in range(0, len(gallery), gallery_chunk):
      _row_max(probes[i:i + probe_chunk], gallery[j:j + gallery_chunk]).numpy()
  return time.perf_counter() - start


def check(probes, gallery, source, args, found):
  """Asserts `found` (distances, indices) against brute force."""
  d, i = found
  assert np.mean(i[:, 0] == source) == 1.0, "a probe missed its source row"
  some = probes[:args.checked].astype(np.float64)
  full = 2 - 2 * some @ gallery.T  # unit norm; [checked, G] float64
  want = np.argsort(full, axis=1, kind="stable")[:, :args.k]
  assert np.array_equal(i[:args.checked], want), "top k differs"
  np.testing.assert_allclose(d[:args.checked],
                             np.take_along_axis(full, want, 1), atol=2e-5)


def child(args):
  """One gallery chunk size in this fresh process; prints one JSON line."""
  gallery, probes, source = make_data(args)
  chunk = args.child_chunk
  recognition.nearest_neighbours(probes[:8], gallery[:1000], args.k)
  _row_max(probes[:8], gallery[:1000])  # load TF and XLA before the baseline
  base, method = reset_peak()
  search = lambda: recognition.nearest_neighbours(
      probes, gallery, args.k, args.probe_chunk, chunk)
  start = time.perf_counter()
  found = search()
  first = time.perf_counter() - start
  times = []
  for _ in range(args.repeats):
    start = time.perf_counter()
    search()
    times.append(time.perf_counter() - start)
  peak = status_mb("VmHWM") - base
  floor_seconds(probes, gallery, args.probe_chunk, chunk)  # compile
  floor = min(floor_seconds(probes, gallery, args.probe_chunk, chunk)
              for _ in range(args.repeats))
  check(probes, gallery, source, args, found)
  print(json.dumps({"first": first, "median": float(np.median(times)),
                    "floor": floor, "peak_mb": peak, "method": method}))


def measure(args, chunk=0, index=""):
  """Runs one part-1 chunk or part-2 index in a fresh process."""
  cmd = [sys.executable, __file__, f"--child_chunk={chunk}",
         f"--child_index={index}"] + [
             f"--{key}={value}" for key, value in vars(args).items()
             if not key.startswith("child_")]
  done = subprocess.run(cmd, capture_output=True, text=True, check=False)
  if done.returncode:
    sys.exit(f"{index or f'gallery chunk {chunk}'} failed:\n{done.stderr}")
  return json.loads(done.stdout.strip().splitlines()[-1])


def index_table(args):
  """Part 2: one fresh process per index, one line per search setting."""
  print(f"\n{args.probes} probes vs a clustered {args.gallery:,} x "
        f"{args.dim} gallery ({args.identities:,} identities), k = 1:")
  print(f"{'index':>12}{'nprobe':>8}{'build s':>9}{'memory MB':>11}"
        f"{'queries/s':>11}{'x exact':>9}{'1-query ms':>12}{'recall@1':>10}")
  exact_qps = None
  for spec in filter(None, args.indexes.split(",")):
    for r in measure(args, index=spec):
      if "error" in r:
        print(f"{spec:>12}  not measured: {r['error']}")
        continue
      exact_qps = r["qps"] if spec == "exact" else exact_qps
      ratio = f"{r['qps'] / exact_qps:.1f}" if exact_qps else "-"
      print(f"{spec:>12}{r['setting'] or '-':>8}{r['build_s']:>9.1f}"
            f"{r['memory_mb']:>11.0f}{r['qps']:>11.0f}{ratio:>9}"
            f"{r['latency_ms']:>12.2f}{r['recall1']:>10.3f}")
  print("memory MB: RSS peak above the gallery and probes, over the build and "
        "searches. queries/s: one batched call of all probes; 1-query ms: "
        f"median of {knn_indexes.SINGLE} one-probe calls. recall@1: share "
        "of probes whose rank-1 row is exact search's.")


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--probes", type=int, default=1000)
  parser.add_argument("--gallery", type=int, default=1_000_000)
  parser.add_argument("--dim", type=int, default=128)
  parser.add_argument("--k", type=int, default=5)
  parser.add_argument("--probe_chunk", type=int, default=1024)
  parser.add_argument("--gallery_chunks", default="4096,16384,65536")
  parser.add_argument("--repeats", type=int, default=3)
  parser.add_argument("--checked", type=int, default=20)
  parser.add_argument("--indexes", default="exact,ivf:1000,scann:2000")
  parser.add_argument("--identities", type=int, default=100_000)
  parser.add_argument("--nprobes", default="16,32,64,128")
  parser.add_argument("--child_chunk", type=int, default=0)
  parser.add_argument("--child_index", default="")
  args = parser.parse_args()
  if args.child_chunk:
    child(args)
    return
  if args.child_index:
    print(json.dumps(knn_indexes.measure(
        args.child_index, [int(n) for n in args.nprobes.split(",")], args)))
    return
  print(f"{args.probes} probes vs {args.gallery:,} x {args.dim} float32 "
        f"gallery ({4 * args.gallery * args.dim / 2**20:.0f} MB), k = "
        f"{args.k}, probe chunk {args.probe_chunk}; {os.cpu_count()} CPUs, "
        f"load average {os.getloadavg()[0]:.1f}; TF {tf.__version__}")
  if args.gallery_chunks:
    chunk_table(args)
  if args.indexes:
    index_table(args)


def chunk_table(args):
  """Part 1: one fresh process per gallery chunk size."""
  full_mb = 4 * args.probes * args.gallery / 2**20
  print(f"A full probes x gallery float32 matrix would take {full_mb:,.0f} "
        "MB.")
  print(f"{'gallery chunk':>14}{'first s':>10}{'median s':>10}{'floor s':>10}"
        f"{'x floor':>9}{'GFLOP/s':>9}{'block MB':>10}{'peak MB':>10}")
  for chunk in map(int, args.gallery_chunks.split(",")):
    r = measure(args, chunk)
    gflops = 2 * args.dim * args.probes * args.gallery / r["median"] / 1e9
    block_mb = 4 * min(args.probe_chunk, args.probes) * chunk / 2**20
    print(f"{chunk:>14}{r['first']:>10.2f}{r['median']:>10.2f}"
          f"{r['floor']:>10.2f}{r['median'] / r['floor']:>9.2f}{gflops:>9.1f}"
          f"{block_mb:>10.0f}{r['peak_mb']:>10.0f}")
  print(f"Each row in a fresh process. first s: the first call, compiling the "
        f"XLA blocks; median of {args.repeats} after it. floor: the same "
        f"block products with a row max (k = 1, no merge), XLA too. peak MB: "
        f"RSS above the data and TF's start-up ({r['method']}). Every "
        f"probe's rank 1 is its source row, and the top {args.k} of "
        f"{args.checked} probes equal a brute-force search.")


if __name__ == "__main__":
  main()
