"""Speed and memory of the triplet losses, against an O(B^3) semi-hard loss.

  python experiments/benchmarks/bench_losses.py [--sizes=120,600,1800] [--xla]

Per batch size B (128-d unit embeddings clustered by identity, 40 per identity,
shuffled labels, fixed seed) and per loss, in a fresh subprocess, one forward +
backward pass w.r.t. the embeddings in a tf.function is measured for
  * median time of --repeats calls after two warm-ups, also as a multiple of
    the floor: the sum of the squared-L2 distance matrix every loss builds;
  * peak RSS above a baseline read after running the floor once (so that TF's
    thread and allocator pools exist), by resetting VmHWM.
The O(B^3) loss is tensorflow-addons' algorithm, checked to equal ours, run
where it fits in --cubic_limit_gb. The issue's targets are reported as PASS /
FAIL; a missed target does not change the exit status.
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

from facenet_tf import losses
from peak_memory import reset_peak  # noqa: E402  (sibling module)
from peak_memory import status_mb  # noqa: E402

# Memory of the O(B^3) loss per (a, p, n): 17-19 bytes measured at B = 240-600.
CUBIC_BYTES_PER_ELEMENT = 20
CUBIC_REPEATS = 3  # Its calls take seconds at B = 600.
TARGETS = (  # The issue's: (text, B, value from that B's rows, pass test).
    ("B=1800 semihard fwd+bwd <= 8 x floor", 1800,
     lambda r: r["semihard"]["ms"] / r["floor"]["ms"], lambda x: x <= 8),
    ("B=1800 semihard peak MB above baseline <= 200", 1800,
     lambda r: r["semihard"]["peak_mb"], lambda x: x <= 200),
    ("B=600 semihard >= 30 x faster than O(B^3)", 600,
     lambda r: r["cubic_semihard"]["ms"] / r["semihard"]["ms"],
     lambda x: x >= 30),
)


def cubic_semihard_loss(labels, embeddings, margin=0.2):
  """tensorflow-addons' semi-hard loss, on B x B x B tensors: O(B^3) memory."""
  dist = losses.pairwise_distances(embeddings, "squared_l2")
  size = tf.shape(labels)[0]
  same = tf.equal(labels[:, tf.newaxis], labels[tf.newaxis, :])
  neg = ~same
  # Row p * B + a of the [B * B, B] tiles: anchor a against its positive p.
  dist_tile = tf.tile(dist, [size, 1])
  farther = tf.tile(neg, [size, 1]) & (
      dist_tile > tf.reshape(tf.transpose(dist), [-1, 1]))
  to_square = lambda x: tf.transpose(tf.reshape(x, [size, size]))
  has_farther = to_square(tf.reduce_any(farther, axis=1))
  # tensorflow-addons' masked minimum: shift by the row maximum, mask, unshift.
  top = tf.reduce_max(dist_tile, axis=1)
  nearest_farther = to_square(top + tf.reduce_min(
      (dist_tile - top[:, tf.newaxis]) * tf.cast(farther, tf.float32), axis=1))
  farthest = tf.reduce_max(tf.where(neg, dist, -np.inf), axis=1, keepdims=True)
  d_an = tf.where(has_farther, nearest_farther, farthest)
  pos = tf.cast(same, tf.float32) - tf.eye(size)
  hinge = tf.maximum((dist - d_an + margin) * pos, 0.0)
  return tf.reduce_sum(hinge) / tf.reduce_sum(pos)


LOSSES = {
    "floor": lambda labels, e: tf.reduce_sum(losses.pairwise_distances(e)),
    "semihard": losses.triplet_semihard_loss,
    "hard": losses.triplet_hard_loss,
    "hard_soft": lambda l, e: losses.triplet_hard_loss(l, e, soft=True),
    "batch_all": losses.triplet_batch_all_loss,
    "hardest_negative": losses.triplet_hardest_negative_loss,
    "cubic_semihard": cubic_semihard_loss,
}


def make_batch(size, dim, per_identity, noise=0.2, seed=0):
  """Labels [B] and unit embeddings [B, dim], `noise` around identity centres."""
  rng = np.random.default_rng(seed)
  labels = rng.permutation(np.arange(size) // per_identity)
  unit = lambda x: x / np.linalg.norm(x, axis=1, keepdims=True)
  centres = unit(rng.standard_normal((labels.max() + 1, dim)))
  emb = unit(centres[labels] + noise * rng.standard_normal((size, dim)))
  return tf.constant(labels, tf.int32), tf.constant(emb, tf.float32)


def train_step(name, xla):
  """tf.function (loss, d loss / d embeddings) of the loss `name`."""
  @tf.function(jit_compile=xla)
  def step(labels, embeddings):
    with tf.GradientTape() as tape:
      tape.watch(embeddings)
      loss = LOSSES[name](labels, embeddings)
    return loss, tape.gradient(loss, embeddings)
  return step


def median_ms(step, batch, repeats):
  """Median wall time of `repeats` calls, after two warm-up calls."""
  for _ in range(2):
    step(*batch)[1].numpy()
  times = []
  for _ in range(repeats):
    start = time.perf_counter()
    step(*batch)[1].numpy()
    times.append(time.perf_counter() - start)
  return 1e3 * float(np.median(times))


def child(args):
  """Measures one (loss, B) in this fresh process; prints one JSON line."""
  batch = make_batch(args.size, args.dim, args.per_identity)
  train_step("floor", args.xla)(*batch)[1].numpy()
  step = train_step(args.child, args.xla)
  step.get_concrete_function(*batch)  # Trace before the baseline.
  base, method = reset_peak()
  ms = median_ms(step, batch, args.repeats)
  print(json.dumps({"ms": ms, "peak_mb": status_mb("VmHWM") - base,
                    "method": method}))


def measure(name, size, args):
  """Runs `child` for (name, size) in a fresh process; returns its JSON."""
  repeats = (min(args.repeats, CUBIC_REPEATS) if name == "cubic_semihard"
             else args.repeats)
  cmd = [sys.executable, __file__, f"--child={name}", f"--size={size}",
         f"--dim={args.dim}", f"--per_identity={args.per_identity}",
         f"--repeats={repeats}"] + (["--xla"] if args.xla else [])
  done = subprocess.run(cmd, capture_output=True, text=True, check=False)
  if done.returncode:
    sys.exit(f"{name} at B={size} failed:\n{done.stderr}")
  return json.loads(done.stdout.strip().splitlines()[-1])


def check_cubic(args, size=120):
  """Asserts that the O(B^3) loss equals ours, so the comparison is honest."""
  batch = make_batch(size, args.dim, args.per_identity)
  ours = float(losses.triplet_semihard_loss(*batch))
  cubic = float(cubic_semihard_loss(*batch))
  assert abs(cubic - ours) <= 1e-5 * abs(ours), (cubic, ours)
  print(f"Check at B={size}: O(B^3) semi-hard loss {cubic:.6f} == ours "
        f"{ours:.6f}")


def bench_size(size, args):
  """Prints the table of one batch size; returns its rows by loss name."""
  print(f"\nB = {size} ({size // args.per_identity} identities x "
        f"{args.per_identity}, {args.dim}-d)")
  print(f"{'loss':<18}{'median ms':>12}{'x floor':>10}"
        f"{'peak MB above baseline':>25}")
  gb = CUBIC_BYTES_PER_ELEMENT * size**3 / 1e9
  rows = {}
  for name in LOSSES:
    if name == "cubic_semihard" and gb >= args.cubic_limit_gb:
      continue
    rows[name] = row = measure(name, size, args)
    ratio = row["ms"] / rows["floor"]["ms"]
    print(f"{name:<18}{row['ms']:>12.2f}{ratio:>10.2f}{row['peak_mb']:>25.1f}")
  if "cubic_semihard" in rows:
    ratio = rows["cubic_semihard"]["ms"] / rows["semihard"]["ms"]
    print(f"O(B^3) semi-hard vs ours: ours is {ratio:.1f} x faster")
  else:
    print(f"cubic_semihard skipped: estimated {gb:.1f} GB >= "
          f"--cubic_limit_gb={args.cubic_limit_gb:g}")
  print(f"Memory: {rows['floor']['method']}")
  return rows


def report_targets(results):
  print("\nTargets:")
  for text, size, value, ok in TARGETS:
    try:
      x = value(results[size])
    except KeyError:
      print(f"  n/a   {text}: not measured")
      continue
    print(f"  {'PASS' if ok(x) else 'FAIL'}  {text}: {x:.1f}")


def parse_args():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--sizes", default="120,600,1800")
  parser.add_argument("--repeats", type=int, default=10)
  parser.add_argument("--dim", type=int, default=128)
  parser.add_argument("--per_identity", type=int, default=40)
  parser.add_argument("--cubic_limit_gb", type=float, default=6)
  parser.add_argument("--xla", action="store_true", help="jit_compile=True")
  parser.add_argument("--child", help=argparse.SUPPRESS)
  parser.add_argument("--size", type=int, help=argparse.SUPPRESS)
  return parser.parse_args()


def main():
  args = parse_args()
  if args.child:
    child(args)
    return
  print(f"TF {tf.__version__}, {os.cpu_count()} CPUs, xla={args.xla}, "
        f"repeats={args.repeats} (O(B^3): {min(args.repeats, CUBIC_REPEATS)})")
  check_cubic(args)
  results = {size: bench_size(size, args)
             for size in map(int, args.sizes.split(","))}
  report_targets(results)


if __name__ == "__main__":
  main()
