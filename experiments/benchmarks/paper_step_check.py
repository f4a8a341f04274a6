"""One paper-size (P x K + R = 1,800) gradient-cache step, in one process.

Run by bench_paper_step.py (part `distributed`), once per set-up, on the
same seeded global batch and initial weights:

  --mode single    the default strategy, chunks of 2 x --chunk, on the batch
                   reordered so that its chunk i = chunk i of replica 0 then
                   of replica 1: the ghost batches 2 replicas see;
  --mode mirrored  MirroredStrategy over 2 logical CPUs, chunks of --chunk;
  --mode worker    one of 2 MultiWorkerMirrored workers (TF_CONFIG), chunks
                   of --chunk.

Each takes one AdaGrad(0.05) step of `tiny` (synchronised BatchNorm, seeded
init) with global semi-hard mining and writes to --output (.npz) the final
weights, the step's wall time (tracing included) and how far the weights
moved. The images are an identity's own pattern plus noise
(tests/distributed_step_check.py explains why not pure noise).
"""
import argparse
import os
import sys
import time

import numpy as np
import tensorflow as tf

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", ".."))
from facenet_tf.training import strategy as strategy_lib  # noqa: E402

SIZE = 64


def global_batch(p, k, r, size=SIZE, seed=0):
  """(images float32 [B, size, size, 3], labels): P x K faces, then R of
  R further identities, shuffled once so that every replica and chunk mixes
  identities."""
  rng = np.random.default_rng(seed)
  labels = np.concatenate([np.repeat(np.arange(p), k), p + np.arange(r)])
  labels = rng.permutation(labels).astype(np.int32)
  patterns = rng.uniform(0, 255, (p + r, size, size, 3)).astype(np.float32)
  noise = rng.normal(0, 20, (len(labels), size, size, 3)).astype(np.float32)
  return np.clip(patterns[labels] + noise, 0, 255), labels


def ghost_order(batch, replicas, chunk):
  """Rows such that one device's chunk i of replicas x chunk rows is chunk i
  of replica 0, then of replica 1, ...: the same BatchNorm ghost batches."""
  rows = batch // replicas
  return np.concatenate([
      np.concatenate([np.arange(j * rows + i, j * rows + i + chunk)
                      for j in range(replicas)])
      for i in range(0, rows, chunk)])


def one_step(strategy, images, labels, chunk):
  import keras  # after any CPU split  # pylint: disable=g-import-not-at-top
  from facenet_tf import models  # pylint: disable=g-import-not-at-top
  from facenet_tf.training import trainer as trainer_lib  # pylint: disable=g-import-not-at-top
  with strategy.scope():
    keras.utils.set_random_seed(0)
    embedder = models.build("tiny", sync_batchnorm=True)
    trainer = trainer_lib.FaceNetTrainer(embedder, grad_cache_chunk=chunk)
    trainer.compile(optimizer=keras.optimizers.Adagrad(0.05))
    trainer.optimizer.build(trainer.trainable_variables)
  rows = len(images) // strategy.num_replicas_in_sync

  def replica_slice(ctx):
    i = ctx.replica_id_in_sync_group
    return (tf.constant(images[i * rows:(i + 1) * rows]),
            tf.constant(labels[i * rows:(i + 1) * rows]))

  batch = strategy.experimental_distribute_values_from_function(replica_slice)
  step = tf.function(lambda b: strategy.run(trainer.train_step, args=(b,)))
  initial = embedder.get_weights()
  started = time.perf_counter()
  logs = step(batch)
  loss = float(strategy.experimental_local_results(logs["loss"])[0])
  seconds = time.perf_counter() - started
  final = embedder.get_weights()
  moved = max(float(np.max(np.abs(a - b))) for a, b in zip(final, initial))
  return final, loss, seconds, moved


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--mode", choices=("single", "mirrored", "worker"),
                      required=True)
  parser.add_argument("--output", required=True)
  parser.add_argument("--p", type=int, default=40)
  parser.add_argument("--k", type=int, default=40)
  parser.add_argument("--r", type=int, default=200)
  parser.add_argument("--chunk", type=int, default=150,
                      help="images per chunk and replica (2 replicas)")
  args = parser.parse_args()
  images, labels = global_batch(args.p, args.k, args.r)
  if args.mode == "single":
    order = ghost_order(len(images), 2, args.chunk)
    strategy, chunk = tf.distribute.get_strategy(), 2 * args.chunk
    images, labels = images[order], labels[order]
  elif args.mode == "mirrored":
    strategy = tf.distribute.MirroredStrategy(strategy_lib.split_cpu(2))
    chunk = args.chunk
  else:
    strategy, chunk = strategy_lib.make_strategy("multiworker"), args.chunk
  weights, loss, seconds, moved = one_step(strategy, images, labels, chunk)
  np.savez(args.output, *weights, loss=loss, seconds=seconds, moved=moved,
           replicas=strategy.num_replicas_in_sync)
  print(f"{args.mode}: loss {loss:.6f}, {seconds:.1f} s", flush=True)
  if args.mode == "worker":
    os._exit(0)  # skip TF's shutdown barrier (tests/multiworker_worker.py)


if __name__ == "__main__":
  main()
