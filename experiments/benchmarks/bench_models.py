"""Forward throughput of every registered model on this machine's CPU.

    python experiments/benchmarks/bench_models.py [--batch 32] [--names nn2,tiny]

For each model: a `tf.function` forward pass (inference mode) at batch 32 on
random 0..255 images, two warm-up calls, then the median of `--repeats`
calls; prints images/s beside params and multiply-adds, and the achieved
multiply-add rate (GMAC/s).
"""
import argparse
import statistics
import time

import numpy as np
import tensorflow as tf

from facenet_tf import models


def forward_seconds(model, batch, repeats):
  images = tf.constant(np.random.default_rng(0).uniform(
      0, 255, (batch, *model.inputs[0].shape[1:])).astype(np.float32))
  forward = tf.function(lambda x: model(x, training=False))
  for _ in range(2):
    forward(images).numpy()
  times = []
  for _ in range(repeats):
    start = time.perf_counter()
    forward(images).numpy()
    times.append(time.perf_counter() - start)
  return statistics.median(times)


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--batch", type=int, default=32)
  parser.add_argument("--repeats", type=int, default=5)
  parser.add_argument("--names", default=",".join(models.names()))
  args = parser.parse_args()
  print(f"TF {tf.__version__}, CPU threads: intra "
        f"{tf.config.threading.get_intra_op_parallelism_threads() or 'auto'}, "
        f"batch {args.batch}, median of {args.repeats}")
  print("| model | input | params | mult-adds | ms/batch | images/s | GMAC/s |")
  print("|---|---|---|---|---|---|---|")
  for name in args.names.split(","):
    model = models.build(name)
    madds = models.count_multiply_adds(model)
    seconds = forward_seconds(model, args.batch, args.repeats)
    size = "x".join(str(d) for d in model.inputs[0].shape[1:3])
    print(f"| {name} | {size} | {model.count_params() / 1e6:.2f}M | "
          f"{madds / 1e6:.0f}M | {1e3 * seconds:.1f} | "
          f"{args.batch / seconds:.1f} | "
          f"{madds * args.batch / seconds / 1e9:.1f} |", flush=True)
    del model


if __name__ == "__main__":
  main()
