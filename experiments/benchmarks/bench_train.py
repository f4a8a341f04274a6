"""Train-step speed and memory: mining overhead, gradient caching, GPU figures.

  python experiments/benchmarks/bench_train.py [--rounds 11] [--skip_gpu]

CPU, every run (`FaceNetTrainer`, default strategy, AdaGrad 0.05, random
0..255 images, P x K labels; steps are `tf.function`s timed to completion):
  overhead    per model (--overhead_models, B = --p x --k), in one process:
              `train_step` (semi-hard mining over the all-gathered batch,
              TripletTerms all-reduce, statistics) vs the same model and
              optimizer with a mean-squared loss on the embeddings (target:
              one-hot per identity), interleaved (a b, b a, ...) so other
              load hits both alike; medians of wall and process CPU time
              (less disturbed by other processes). Target: overhead <= 3%
              of the step time. Also mining + loss alone (forward and
              backward on fixed embeddings): that overhead without noise.
  grad cache  per model (--cache_models, B = --cache_batch): the normal step
              vs `grad_cache_chunk=--cache_chunk`, each in its own process:
              peak RSS above a baseline taken after tracing (peak_memory;
              it includes kernels the first run creates and memory the
              allocator keeps), the peak of TF's CPU allocator (tensors),
              trace time; and the time ratio, interleaved (~1.33 expected:
              one extra forward on top of forward + backward ~ 3).
GPU, only when TensorFlow sees one: images/s at --gpu_batch for nn2 at 224
and inception_resnet_v1 at 160 in float32 and mixed_bfloat16, peak GPU
memory, MFU = multiply-adds x 2 (FLOPs) x 3 (forward + backward) x images/s
/ peak FLOP/s (--peak_tflops_*), and the largest global batch that fits,
doubling from --gpu_start_batch, plain and with --gpu_chunks chunks.
Every measurement also prints one JSON line. A missed target does not
change the exit status.
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

from facenet_tf import models
from peak_memory import reset_peak  # noqa: E402  (sibling modules)
from peak_memory import status_mb  # noqa: E402
import train_steps  # noqa: E402

OVERHEAD_TARGET = 0.03
GPU_MODELS = ("nn2", "inception_resnet_v1")  # at their own 224 and 160 px
POLICIES = ("float32", "mixed_bfloat16")


def child_overhead(spec, args):
  trainer = train_steps.make_trainer(spec["model"])
  batch = train_steps.make_batch(trainer.embedder, args.p * args.k, args.k)
  steps = [train_steps.mining_step(trainer), train_steps.plain_step(trainer)]
  (mining, mining_cpu), (plain, plain_cpu) = train_steps.interleaved(
      steps, batch, args.rounds)
  alone, alone_cpu = train_steps.interleaved(
      [train_steps.mining_only(trainer, batch)], batch, args.rounds)[0]
  return {"mining_s": mining, "plain_s": plain, "mining_only_s": alone,
          "overhead": (mining - plain) / mining,
          "mining_cpu_s": mining_cpu, "plain_cpu_s": plain_cpu,
          "mining_only_cpu_s": alone_cpu,
          "overhead_cpu": (mining_cpu - plain_cpu) / mining_cpu}


def child_cache_time(spec, args):
  normal = train_steps.make_trainer(spec["model"])
  cached = train_steps.make_trainer(spec["model"], args.cache_chunk,
                        embedder=normal.embedder)
  batch = train_steps.make_batch(normal.embedder, args.cache_batch, args.k)
  steps = [train_steps.mining_step(normal), train_steps.mining_step(cached)]
  (plain_s, _), (cached_s, _) = train_steps.interleaved(steps, batch,
                                                        args.rounds)
  return {"normal_s": plain_s, "cached_s": cached_s,
          "ratio": cached_s / plain_s}


def child_cache_memory(spec, args):
  trainer = train_steps.make_trainer(spec["model"], spec["chunk"])
  batch = train_steps.make_batch(trainer.embedder, args.cache_batch, args.k)
  step = tf.function(trainer.train_step)
  start = time.perf_counter()
  step.get_concrete_function(batch)  # Trace before the baseline.
  trace_s = time.perf_counter() - start
  base, method = reset_peak()
  tf.config.experimental.reset_memory_stats("CPU:0")
  seconds = [train_steps.timed(lambda b: step(b)["loss"], batch)[0]
             for _ in range(3)]
  return {"peak_mb": status_mb("VmHWM") - base, "method": method,
          "tensor_peak_mb": tf.config.experimental.get_memory_info(
              "CPU:0")["peak"] / 2**20,
          "trace_s": trace_s, "step_s": float(np.median(seconds))}


def child_gpu(spec, args):
  """Images/s, peak GPU MB and MFU; or whether one step fits at all."""
  trainer = train_steps.make_trainer(spec["model"], spec["chunk"],
                                     spec["policy"])
  batch = train_steps.make_batch(trainer.embedder, spec["batch"], args.k)
  step = train_steps.mining_step(trainer)
  tf.config.experimental.reset_memory_stats("GPU:0")
  try:
    seconds = [train_steps.timed(step, batch)[0]
               for _ in range(spec["repeats"])]
  except tf.errors.ResourceExhaustedError:
    return {"fits": False}
  rate = spec["batch"] / float(np.median(seconds[1:] or seconds))
  peak = (args.peak_tflops_bfloat16 if spec["policy"] == "mixed_bfloat16"
          else args.peak_tflops_float32)
  flops = models.count_multiply_adds(trainer.embedder) * 2 * 3
  return {"fits": True, "images_per_s": rate,
          "peak_gpu_mb": tf.config.experimental.get_memory_info(
              "GPU:0")["peak"] / 2**20,
          "mfu": flops * rate / (peak * 1e12)}


CHILDREN = {"overhead": child_overhead, "cache_time": child_cache_time,
            "cache_memory": child_cache_memory, "gpu": child_gpu}


def run_child(spec, args):
  """Runs CHILDREN[spec['kind']](spec) in a fresh process; prints its JSON."""
  cmd = [sys.executable, __file__, "--child", json.dumps(spec)] + [
      f"--{k}={v}" for k, v in vars(args).items()
      if k not in ("child", "skip_gpu")]
  done = subprocess.run(cmd, capture_output=True, text=True, check=False)
  if done.returncode:  # A GPU out-of-memory can also kill the process.
    if spec["kind"] == "gpu":
      return {**spec, "fits": False, "exit": done.returncode}
    sys.exit(f"{spec} failed:\n{done.stderr[-3000:]}")
  result = {**spec, **json.loads(done.stdout.strip().splitlines()[-1])}
  print(json.dumps(result), flush=True)
  return result


def cpu_overhead(args):
  size = args.p * args.k
  print(f"\nMining overhead, B = {size} ({args.p} x {args.k}), median of "
        f"{args.rounds} interleaved rounds; overhead = 1 - plain / mining "
        "step time, by wall clock and by process CPU time")
  print(f"{'model':<8}{'mining img/s':>14}{'plain img/s':>13}"
        f"{'wall':>9}{'CPU':>9}{'mining alone ms':>17}{'alone / step':>14}")
  rows = []
  for name in args.overhead_models.split(","):
    r = run_child({"kind": "overhead", "model": name}, args)
    print(f"{name:<8}{size / r['mining_s']:>14.1f}{size / r['plain_s']:>13.1f}"
          f"{100 * r['overhead']:>8.2f}%{100 * r['overhead_cpu']:>8.2f}%"
          f"{1e3 * r['mining_only_s']:>17.1f}"
          f"{100 * r['mining_only_s'] / r['mining_s']:>13.2f}%")
    rows.append(r)
  return rows


def cpu_grad_cache(args):
  print(f"\nGradient caching, B = {args.cache_batch}, chunk "
        f"{args.cache_chunk}, 3 steps in a process of its own: peak RSS above "
        "a baseline taken after tracing, peak of TF's CPU allocator (tensors)")
  print(f"{'model':<8}{'chunk':>6}{'RSS MB':>9}{'tensor MB':>11}{'trace s':>9}"
        f"{'step s':>8}{'time x normal (interleaved)':>29}")
  for name in args.cache_models.split(","):
    ratio = run_child({"kind": "cache_time", "model": name}, args)["ratio"]
    for chunk in (0, args.cache_chunk):
      r = run_child({"kind": "cache_memory", "model": name, "chunk": chunk},
                    args)
      print(f"{name:<8}{chunk or '-':>6}{r['peak_mb']:>9.1f}"
            f"{r['tensor_peak_mb']:>11.1f}{r['trace_s']:>9.1f}"
            f"{r['step_s']:>8.2f}"
            f"{(ratio if chunk else 1.0):>29.2f}")
  print(f"Memory: {r['method']}")


def largest_batch(name, policy, chunks, args):
  """Doubles the global batch until one step does not fit (or the cap)."""
  batch, fits = args.gpu_start_batch, 0
  while batch <= args.gpu_max_batch:
    spec = {"kind": "gpu", "model": name, "policy": policy, "batch": batch,
            "chunk": batch // chunks if chunks else 0, "repeats": 1}
    if not run_child(spec, args)["fits"]:
      break
    fits, batch = batch, 2 * batch
  return fits


def gpu_section(args):
  gpus = tf.config.list_physical_devices("GPU")
  if not gpus:
    print("\nGPU section skipped: tf.config.list_physical_devices('GPU') is "
          "empty (this TensorFlow build sees no GPU on this machine).")
    return
  details = tf.config.experimental.get_device_details(gpus[0])
  print(f"\nGPU: {details.get('device_name', '?')}, B = {args.gpu_batch}, "
        f"peak TFLOP/s float32 {args.peak_tflops_float32}, bfloat16 "
        f"{args.peak_tflops_bfloat16}")
  print(f"{'model':<20}{'policy':<16}{'img/s':>8}{'peak GB':>9}{'MFU':>7}"
        f"{'max B':>7}{f'max B, {args.gpu_chunks} chunks':>20}")
  for name in GPU_MODELS:
    for policy in POLICIES:
      r = run_child({"kind": "gpu", "model": name, "policy": policy,
                     "batch": args.gpu_batch, "chunk": 0,
                     "repeats": args.rounds + 1}, args)
      rate = (f"{r['images_per_s']:>8.1f}{r['peak_gpu_mb'] / 1024:>9.2f}"
              f"{100 * r['mfu']:>6.1f}%" if r["fits"] else f"{'OOM':>24}")
      plain = largest_batch(name, policy, 0, args)
      cached = largest_batch(name, policy, args.gpu_chunks, args)
      print(f"{name:<20}{policy:<16}{rate}{plain:>7}{cached:>20}")


def parse_args():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--rounds", type=int, default=11)
  parser.add_argument("--p", type=int, default=9)
  parser.add_argument("--k", type=int, default=40)
  parser.add_argument("--overhead_models", default="nns2,nn4")
  parser.add_argument("--cache_models", default="tiny,nns2")
  parser.add_argument("--cache_batch", type=int, default=360)
  parser.add_argument("--cache_chunk", type=int, default=40)
  parser.add_argument("--gpu_batch", type=int, default=360)
  parser.add_argument("--gpu_chunks", type=int, default=8)
  parser.add_argument("--gpu_start_batch", type=int, default=64)
  parser.add_argument("--gpu_max_batch", type=int, default=16384)
  parser.add_argument("--peak_tflops_float32", type=float, default=494.7,
                      help="H100 SXM TF32 dense (TF's float32 matmul default)")
  parser.add_argument("--peak_tflops_bfloat16", type=float, default=989.4,
                      help="H100 SXM bfloat16 dense")
  parser.add_argument("--skip_gpu", action="store_true")
  parser.add_argument("--child", help=argparse.SUPPRESS)
  return parser.parse_args()


def main():
  args = parse_args()
  if args.child:
    spec = json.loads(args.child)
    print(json.dumps(CHILDREN[spec["kind"]](spec, args)))
    return
  print(f"TF {tf.__version__}, {os.cpu_count()} CPUs, load average "
        f"{os.getloadavg()[0]:.2f}")
  rows = cpu_overhead(args)
  cpu_grad_cache(args)
  if not args.skip_gpu:
    gpu_section(args)
  print("\nTargets:")
  for r in rows:
    for clock, key in (("wall", "overhead"), ("CPU", "overhead_cpu")):
      ok = r[key] <= OVERHEAD_TARGET
      print(f"  {'PASS' if ok else 'FAIL'}  {r['model']} mining + loss + "
            f"all-gather overhead <= 3% of the step ({clock} time): "
            f"{100 * r[key]:.2f}%")
  print(f"Load average at the end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
  main()
