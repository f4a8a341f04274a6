"""Input pipeline speed on LFW: conversion, P x K sampler, raw decode floor.

  python experiments/benchmarks/bench_input.py [--p 45 --k 4 --r 20]

On ../shared/data/lfw/images (13,233 JPEGs of 5,749 people, 250x250):
  (a) conversion time of the tree into identity shards, with
      data_pipelines.build_tfrecords when it is importable, else with a
      minimal writer here (records.encode_identity; the output says which);
  (b) the P x K + R sampler (facenet_tf.data.pk_sampler) at --image_size
      with random crop + flip: images/s. LFW has 1,680 people with >= 2
      images but only 610 with >= 4, so the default is K = 4 with
      min_images_policy="replace" (identities of 2 or 3 images repeat some);
  (c) the floor: every JPEG file read, decoded and resized in a plain
      `tf.data` map with num_parallel_calls=AUTOTUNE, batched alike.
Each round times (b) and (c) back to back, each a fresh iterator over
--batches batches after --warmup batches, twice: with all threads, and on
one thread (`private_threadpool_size=1`), whose CPU time is the work per
image; the table also gives the share of the machine's CPUs that other
processes used meanwhile (from /proc/stat), since on a shared machine
throughput depends on how the scheduler splits the CPUs. Target: (b) >= 0.8 x
(c) in images/s, as the median of the per-round ratios, with all threads and
with one, and the same for the CPU work per image (the throughput ratio on
an unloaded machine), each reported as PASS / FAIL; a missed target does not
change the exit status.
"""
import argparse
import os
import pathlib
import resource
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import tensorflow as tf
from PIL import Image

from facenet_tf.alignment import model_crop
from facenet_tf.alignment import model_crop_tf
from facenet_tf.alignment import spec as spec_lib
from facenet_tf.data import pk_sampler
from facenet_tf.data import records

try:  # The converter, written alongside this benchmark.
  from data_pipelines import build_tfrecords
except ImportError:
  build_tfrecords = None

LFW = pathlib.Path(__file__).resolve().parents[2].parent / "shared/data/lfw"
TARGET_RATIO = 0.8


def convert(images_dir, out_dir, num_shards):
  """Writes the shards; returns (seconds, which converter)."""
  start = time.perf_counter()
  if build_tfrecords is None:
    write_minimal_shards(images_dir, out_dir, num_shards)
    return time.perf_counter() - start, "minimal writer in this benchmark"
  build_tfrecords.build(str(images_dir), str(out_dir), name="lfw",
                        num_shards=num_shards, overwrite=True)
  return time.perf_counter() - start, "data_pipelines.build_tfrecords.build"


def write_minimal_shards(images_dir, out_dir, num_shards):
  """One record per identity, JPEG bytes as they are, round-robin shards."""
  names = sorted(p.name for p in images_dir.iterdir() if p.is_dir())
  writers = [tf.io.TFRecordWriter(str(out_dir / records.shard_name(
      "lfw", i, num_shards))) for i in range(num_shards)]
  for label, name in enumerate(names):
    images = []
    for path in sorted((images_dir / name).glob("*.jpg")):
      width, height = Image.open(path).size
      images.append({"bytes": path.read_bytes(), "format": "jpeg",
                     "height": height, "width": width,
                     "path": f"{name}/{path.name}"})
    writers[label % num_shards].write(
        records.encode_identity(label, name, images))
  for writer in writers:
    writer.close()


def raw_dataset(images_dir, image_size, batch):
  """The floor: read + decode + resize every JPEG, nothing else."""
  def load(path):
    return model_crop_tf.resize(tf.io.decode_jpeg(tf.io.read_file(path),
                                                  channels=3), image_size)
  files = tf.data.Dataset.list_files(str(images_dir / "*" / "*.jpg"),
                                     shuffle=False)
  return files.repeat().map(load, num_parallel_calls=tf.data.AUTOTUNE).batch(
      batch, drop_remainder=True).prefetch(tf.data.AUTOTUNE)


def one_thread(dataset):
  """`dataset` run on a private pool of one thread."""
  options = tf.data.Options()
  options.threading.private_threadpool_size = 1
  options.threading.max_intra_op_parallelism = 1
  return dataset.with_options(options)


def cpu_seconds():
  usage = resource.getrusage(resource.RUSAGE_SELF)
  return usage.ru_utime + usage.ru_stime


def machine_busy_seconds():
  """CPU seconds all processes have used (Linux /proc/stat), or None."""
  try:
    with open("/proc/stat", encoding="ascii") as f:
      fields = [int(x) for x in f.readline().split()[1:]]
  except OSError:
    return None
  user, nice, system, _, _, irq, softirq = fields[:7]
  return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")


def measure(dataset, warmup, batches, batch_size):
  """(images/s, CPU ms of this process per image, others' CPU share).

  A fresh iterator, deleted afterwards: a live one would refill its buffers
  in the background and bill its work to the next measurement. Others' share
  is the fraction of the machine's CPUs that other processes used meanwhile:
  under contention, throughput measures the scheduler as much as the
  pipeline.
  """
  iterator = iter(dataset)
  for _ in range(warmup):
    next(iterator)
  start, cpu, busy = time.perf_counter(), cpu_seconds(), machine_busy_seconds()
  for _ in range(batches):
    next(iterator)  # Eager tensors: computed once returned; no copy out.
  images, seconds = batches * batch_size, time.perf_counter() - start
  ours = cpu_seconds() - cpu
  others = (None if busy is None else max(
      0.0, machine_busy_seconds() - busy - ours) / (seconds * os.cpu_count()))
  del iterator
  return images / seconds, 1e3 * ours / images, others


def parse_args():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--p", type=int, default=45)
  parser.add_argument("--k", type=int, default=4)
  parser.add_argument("--r", type=int, default=20)
  parser.add_argument("--policy", default="replace")
  parser.add_argument("--image_size", type=int, default=160)
  parser.add_argument("--num_shards", type=int, default=16)
  parser.add_argument("--batches", type=int, default=10)
  parser.add_argument("--warmup", type=int, default=4)
  parser.add_argument("--rounds", type=int, default=10)
  parser.add_argument("--work_dir", help="default: a temporary directory")
  parser.add_argument("--reuse", action="store_true",
                      help="skip (a) when --work_dir holds shards already")
  return parser.parse_args()


def main():
  args = parse_args()
  images_dir = LFW / "images"
  if not images_dir.is_dir():
    print(f"SKIPPED: {images_dir} is absent (../shared ships only with the "
          "project's workspace and CI)")
    return
  work = pathlib.Path(args.work_dir or tempfile.mkdtemp(prefix="bench_input_"))
  out_dir = work / "lfw_shards"
  out_dir.mkdir(parents=True, exist_ok=True)
  print(f"TF {tf.__version__}, {os.cpu_count()} CPUs; LFW at {images_dir}; "
        f"shards in {out_dir}")
  if args.reuse and any(out_dir.glob("*.tfrecord-*")):
    print(f"(a) conversion: skipped, --reuse of the shards in {out_dir}")
  else:
    seconds, converter = convert(images_dir, out_dir, args.num_shards)
    size_mb = sum(
        p.stat().st_size for p in out_dir.glob("*.tfrecord-*")) / 1e6
    print(f"(a) conversion: {seconds:.1f} s, 13,233 images -> "
          f"{args.num_shards} shards, {size_mb:.0f} MB, by {converter}")

  batch = args.p * args.k + args.r
  start = time.perf_counter()
  sampler = pk_sampler.pk_dataset(
      str(out_dir), args.p, args.k, args.r, image_size=args.image_size,
      min_images_policy=args.policy)
  print(f"(b) sampler: P={args.p} x K={args.k} + R={args.r} = {batch} "
        f"images/batch at {args.image_size} px, policy {args.policy!r}, "
        f"random crop (padding "
        f"{model_crop.padding(args.image_size, spec_lib.MODEL_CROP_FRACTION)}"
        f") + flip; built and "
        f"shards checked in {time.perf_counter() - start:.2f} s")
  raw = raw_dataset(images_dir, args.image_size, batch)
  datasets = {"(b) sampler": sampler, "(c) raw": raw,
              "(b) sampler, 1 thread": one_thread(sampler),
              "(c) raw, 1 thread": one_thread(raw)}
  results = {name: [] for name in datasets}
  for _ in range(args.rounds):
    for name, dataset in datasets.items():
      results[name].append(measure(dataset, args.warmup, args.batches, batch))
  print(f"\n{args.rounds} rounds of {args.batches} batches of {batch}, after "
        f"{args.warmup} warm-up batches")
  report(results, batch)


def report(results, batch):
  """The table, and the targets on the medians of the per-round ratios."""
  print(f"{'pipeline':<24}{'median img/s':>14}{'best img/s':>12}"
        f"{'ms/batch':>10}{'CPU ms/img':>12}{'others CPU':>12}")
  for name, values in results.items():
    rates, cpu_ms, others = zip(*values)
    load = ("n/a" if None in others else f"{100 * np.median(others):.0f}%")
    print(f"{name:<24}{np.median(rates):>14.0f}{max(rates):>12.0f}"
          f"{1e3 * batch / np.median(rates):>10.1f}{np.median(cpu_ms):>12.3f}"
          f"{load:>12}")
  sampler, raw, sampler_1, raw_1 = results.values()
  print("\nTarget (sampler vs raw, median of the per-round ratios):")
  # Paired by round: both ran back to back, under about the same load.
  targets = {
      "images/s, all threads": [s[0] / r[0] for s, r in zip(sampler, raw)],
      "images/s, one thread ": [s[0] / r[0] for s, r in zip(sampler_1, raw_1)],
      "CPU work, all threads": [r[1] / s[1] for s, r in zip(sampler, raw)],
  }
  for label, ratios in targets.items():
    ratio = float(np.median(ratios))
    verdict = "PASS" if ratio >= TARGET_RATIO else "FAIL"
    print(f"  {verdict}  {label} >= {TARGET_RATIO}: {ratio:.2f} (rounds: "
          f"{', '.join(f'{x:.2f}' for x in ratios)})")
  print("  (CPU work = raw's CPU ms per image / the sampler's: the images/s "
        "ratio on a machine with no other load)")
  sys.stdout.flush()


if __name__ == "__main__":
  main()
