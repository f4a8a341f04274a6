"""The paper-size step on this CPU: memory rule, B = 1,800 step, gradients.

  python experiments/benchmarks/bench_paper_step.py [--parts memory,step,gradient,distributed]

  memory       per architecture at the paper recipe's size: TF's peak CPU
               allocator bytes of a plain training step at two batch sizes;
               the slope per image against training/memory_budget.py's
               prediction, and the factor it implies (ACTIVATION_FACTOR);
  step         one nn2 step at 224 px with B = 1,800 (P 40 x K 40 + R 200)
               through the gradient cache, the chunk chosen by the memory
               rule for --budget_gib: step time, allocator peak, peak RSS;
  gradient     the cached gradient against a plain step's on a model and
               batch where both fit (nn2, --gradient_batch images, chunks
               of a quarter): cosine, with BatchNorm frozen (the two are the
               same function) and, for information, in training mode
               (ghost-batch statistics: a different function by design);
  distributed  paper_step_check.py: the B = 1,800 step of `tiny` on one
               device, MirroredStrategy over 2 logical CPUs and 2 local
               MultiWorkerMirrored workers; max |weight difference|.
Every measurement runs in a process of its own (--child), so that one
part's peak does not hide the next.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
PAPER_SIZES = (("nn2", 224), ("nn4", 96), ("nns2", 160),
               ("inception_resnet_v1", 160), ("resnet_small", 64))
P, K, R = 40, 40, 200


def _child(args, *extra):
  out = subprocess.run(
      [sys.executable, __file__, "--child", json.dumps(args), *extra],
      check=False, capture_output=True, text=True)
  if out.returncode:
    raise RuntimeError(f"child {args} failed ({out.returncode}):\n"
                       f"{out.stderr[-3000:]}")
  return json.loads(out.stdout.strip().splitlines()[-1])


def child(spec):
  """Runs one measurement in this process; prints one JSON line."""
  import keras  # pylint: disable=g-import-not-at-top
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  import train_steps  # pylint: disable=g-import-not-at-top
  from peak_memory import reset_peak, status_mb  # pylint: disable=g-import-not-at-top
  from facenet_tf import models  # pylint: disable=g-import-not-at-top
  from facenet_tf.training import memory_budget  # pylint: disable=g-import-not-at-top
  # The same initial weights in every child (the gradient part compares two).
  keras.utils.set_random_seed(0)
  embedder = models.build(spec["model"], image_size=(spec["size"],) * 2)
  if spec.get("frozen_bn"):
    for layer in embedder._flatten_layers():  # pylint: disable=protected-access
      if isinstance(layer, keras.layers.BatchNormalization):
        layer.trainable = False
  if spec["kind"] == "gradient":
    _save_gradient(spec, embedder)
    return
  trainer = train_steps.make_trainer(spec["model"], spec.get("chunk", 0),
                                     embedder=embedder)
  images, labels = train_steps.make_batch(embedder, spec["batch"],
                                          spec.get("k", 4))
  step = tf.function(trainer.train_step)
  step((images, labels))  # trace and warm up
  base, method = reset_peak()
  tf.config.experimental.reset_memory_stats("CPU:0")
  started = time.perf_counter()
  step((images, labels))["loss"].numpy()
  seconds = time.perf_counter() - started
  fixed, per_image = memory_budget.training_bytes(embedder)
  print(json.dumps({
      "seconds": seconds, "rss_peak_mb": status_mb("VmHWM") - base,
      "rss_method": method,
      "tensor_peak_mb": tf.config.experimental.get_memory_info(
          "CPU:0")["peak"] / 2**20,
      "predicted_fixed_mb": fixed / 2**20,
      "predicted_per_image_mb": per_image / 2**20,
      "activation_elements": memory_budget.activation_elements(embedder)}))


def _save_gradient(spec, embedder):
  """One SGD(1.0) step: the weights move by minus the gradient."""
  import keras  # pylint: disable=g-import-not-at-top
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  import train_steps  # pylint: disable=g-import-not-at-top
  from facenet_tf.training import trainer as trainer_lib  # pylint: disable=g-import-not-at-top
  trainer = trainer_lib.FaceNetTrainer(embedder,
                                       grad_cache_chunk=spec["chunk"])
  trainer.compile(optimizer=keras.optimizers.SGD(1.0))
  import paper_step_check  # pylint: disable=g-import-not-at-top
  images, labels = paper_step_check.global_batch(
      spec["p"], spec["k"], spec["r"], size=spec["size"])
  before = [v.numpy().astype(np.float64) for v in trainer.trainable_variables]
  tf.function(trainer.train_step)((tf.constant(images), tf.constant(labels)))
  gradient = np.concatenate([(b - v.numpy()).ravel() for b, v in
                             zip(before, trainer.trainable_variables)])
  np.save(spec["output"], gradient)
  print(json.dumps({"saved": spec["output"]}))


def part_memory(args):
  print("memory: plain training step (AdaGrad), float32, TF's peak CPU "
        f"allocator at batches {args.memory_batches}")
  print(f"{'model':<20}{'px':>4}{'act. M':>8}{'pred. MB/img':>13}"
        f"{'meas. MB/img':>13}{'factor':>8}{'fixed MB':>9}{'meas. fixed':>12}")
  small, large = args.memory_batches
  for model, size in PAPER_SIZES:
    runs = [_child({"kind": "memory", "model": model, "size": size,
                    "batch": b}) for b in (small, large)]
    slope = (runs[1]["tensor_peak_mb"] - runs[0]["tensor_peak_mb"]) / (
        large - small)
    intercept = runs[0]["tensor_peak_mb"] - slope * small
    factor = slope * 2**20 / (4 * runs[0]["activation_elements"])
    print(f"{model:<20}{size:>4}{runs[0]['activation_elements'] / 1e6:>8.1f}"
          f"{runs[0]['predicted_per_image_mb']:>13.1f}{slope:>13.1f}"
          f"{factor:>8.2f}{runs[0]['predicted_fixed_mb']:>9.0f}"
          f"{intercept:>12.0f}")


def part_step(args):
  from facenet_tf import models  # pylint: disable=g-import-not-at-top
  from facenet_tf.training import memory_budget  # pylint: disable=g-import-not-at-top
  batch = P * K + R
  fixed, per_image = memory_budget.training_bytes(
      models.build("nn2", image_size=(224, 224)))
  chunk = memory_budget.chunk_for_budget(batch, fixed, per_image,
                                         args.budget_gib * 2**30)
  print(f"step: nn2 224 px, B = {batch} (P {P} x K {K} + R {R}), budget "
        f"{args.budget_gib} GiB -> chunk {chunk} "
        f"({batch // max(chunk, 1)} chunks); predicted peak "
        f"{(fixed + chunk * per_image) / 2**30:.2f} GiB")
  run = _child({"kind": "step", "model": "nn2", "size": 224, "batch": batch,
                "k": K, "chunk": chunk})
  print(f"  step {run['seconds']:.1f} s ({batch / run['seconds']:.1f} img/s), "
        f"allocator peak {run['tensor_peak_mb'] / 1024:.2f} GiB, RSS peak "
        f"{run['rss_peak_mb'] / 1024:.2f} GiB above the traced process "
        f"({run['rss_method']}); within the budget: "
        f"{run['tensor_peak_mb'] / 1024 <= args.budget_gib}")


def _cosine(a, b):
  return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))


def part_gradient(args):
  batch = args.gradient_batch
  p, k = batch // 10, 8
  r = batch - p * k
  with tempfile.TemporaryDirectory() as tmp:
    for frozen in (True, False):
      grads = []
      for chunk in (0, batch // 4):
        path = os.path.join(tmp, f"g{chunk}.npy")
        _child({"kind": "gradient", "model": "nn2", "size": 224, "p": p,
                "k": k, "r": r, "batch": batch, "chunk": chunk,
                "frozen_bn": frozen, "output": path})
        grads.append(np.load(path))
      print(f"gradient: nn2 224 px, B = {batch} (P {p} x K {k} + R {r}), "
            f"chunks of {batch // 4} vs plain, BatchNorm "
            f"{'frozen' if frozen else 'training (ghost batches)'}: cosine "
            f"{_cosine(*grads):.7f}, |g| {np.linalg.norm(grads[0]):.4g}")


def part_distributed(args):
  from facenet_tf.training import strategy as strategy_lib  # pylint: disable=g-import-not-at-top
  script = os.path.join(HERE, "paper_step_check.py")
  flags = [f"--chunk={args.chunk}"]
  with tempfile.TemporaryDirectory() as tmp:
    out = {m: os.path.join(tmp, f"{m}.npz") for m in
           ("single", "mirrored", "worker0", "worker1")}
    for mode in ("single", "mirrored"):
      subprocess.run([sys.executable, script, f"--mode={mode}",
                      f"--output={out[mode]}", *flags], check=True)
    workers = strategy_lib.local_worker_addresses(2)
    procs = [subprocess.Popen(
        [sys.executable, script, "--mode=worker",
         f"--output={out[f'worker{i}']}", *flags],
        env={**os.environ, "TF_CONFIG": json.dumps({
            "cluster": {"worker": workers},
            "task": {"type": "worker", "index": i}})}) for i in range(2)]
    if any(p.wait() for p in procs):
      raise SystemExit("a multi-worker worker failed")
    runs = {m: np.load(path) for m, path in out.items()}
  weights = {m: [v for key, v in r.items() if key.startswith("arr_")]
             for m, r in runs.items()}
  print(f"distributed: tiny 64 px, B = {P * K + R}, one AdaGrad step, chunks "
        f"of {args.chunk} per replica (one device: {2 * args.chunk} on the "
        "ghost-batch order)")
  for m in ("single", "mirrored", "worker0", "worker1"):
    diff = max(float(np.max(np.abs(a - b)))
               for a, b in zip(weights[m], weights["single"]))
    print(f"  {m:<9} loss {float(runs[m]['loss']):.6f}  step "
          f"{float(runs[m]['seconds']):6.1f} s  max |w - w_single| {diff:.2e}"
          f"  moved {float(runs[m]['moved']):.2e}")


PARTS = {"memory": part_memory, "step": part_step, "gradient": part_gradient,
         "distributed": part_distributed}


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--parts", default=",".join(PARTS))
  parser.add_argument("--memory_batches", type=int, nargs=2, default=(4, 12))
  parser.add_argument("--budget_gib", type=float, default=16.0)
  parser.add_argument("--gradient_batch", type=int, default=40)
  parser.add_argument("--chunk", type=int, default=150)
  parser.add_argument("--child", help=argparse.SUPPRESS)
  args = parser.parse_args()
  if args.child:
    child(json.loads(args.child))
    return
  for part in args.parts.split(","):
    PARTS[part](args)


if __name__ == "__main__":
  main()
