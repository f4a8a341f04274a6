"""Run as a script: a few global-mining train steps, one worker of a cluster.

Started by tests/test_multiworker.py once per worker (TF_CONFIG names the
cluster and this worker's index), or once with --mode=single: the one-
process reference (tf.distribute's default strategy) on the same global
batches, through the same code. Each run builds the `tiny` model
(synchronised BatchNorm, seeded init), takes --steps AdaGrad steps on
P x K + R batches from the production input function
(`synthetic_input.train_dataset_fn` under `distribute_datasets_from_function`,
so each worker reads its own slice of every global batch) and writes the
final weights (arr_0, arr_1, ...), the per-step losses and how far the
weights moved (max |final - initial|) to --output (.npz).

The pool holds identity-patterned images (a shared base, 30% of an own
pattern per identity, plus noise), not random pixels: through a random
network random images give near-equal distances, and a semi-hard choice that
flips on a rounding tie would make runs differ by far more than rounding
(WORKSPACE_NOTES.md). Fully distinct patterns would be separated after one
step (loss 0, no update): the shared base keeps every step's loss > 0.

For the tests that a dead or hung peer cannot hang the others:
  --pause_after_step N     print PAUSED after step N and sleep (hang), until
                           the test kills it;
  --exit_after_strategy    exit as soon as the strategy exists;
  --collective_timeout_s   `make_strategy`'s collective timeout.
A collective error is reported as one PEER_FAILURE line on stderr, then the
process exits with EXIT_PEER_FAILURE.
"""
import argparse
import os
import sys
import time
import types

import keras
import numpy as np
import tensorflow as tf

from facenet_tf import models
from facenet_tf.data import synthetic_input
from facenet_tf.training import strategy as strategy_lib
from facenet_tf.training import trainer as trainer_lib

P, K, R = 4, 4, 2
IDENTITIES, IMAGES_PER_IDENTITY, SIZE = 10, 6, 64
# What the test reads: stdout lines starting with READY and PAUSED, and a
# stderr line starting with PEER_FAILURE before exit code EXIT_PEER_FAILURE.
READY, PAUSED, PEER_FAILURE = "strategy ready", "paused", "PEER FAILURE:"
EXIT_PEER_FAILURE = 3
# The errors a collective raises when a peer is gone or too slow.
PEER_ERRORS = (tf.errors.UnavailableError, tf.errors.DeadlineExceededError,
               tf.errors.CancelledError, tf.errors.AbortedError,
               tf.errors.InternalError, tf.errors.FailedPreconditionError)


def _pool(seed=0):
  """uint8 [IDENTITIES, IMAGES_PER_IDENTITY, SIZE, SIZE, 3]."""
  rng = np.random.default_rng(seed)
  base = rng.uniform(0, 255, (1, 1, SIZE, SIZE, 3))
  own = rng.uniform(0, 255, (IDENTITIES, 1, SIZE, SIZE, 3))
  noise = rng.normal(0, 20, (IDENTITIES, IMAGES_PER_IDENTITY, SIZE, SIZE, 3))
  return np.clip(0.7 * base + 0.3 * own + noise, 0, 255).astype(np.uint8)


def _build(strategy):
  with strategy.scope():
    keras.utils.set_random_seed(0)
    embedder = models.build("tiny", sync_batchnorm=True)
    trainer = trainer_lib.FaceNetTrainer(embedder)
    trainer.compile(optimizer=keras.optimizers.Adagrad(0.05))
    trainer.optimizer.build(trainer.trainable_variables)
  return trainer


def _train(strategy, steps, pause_after_step):
  trainer = _build(strategy)
  initial = trainer.embedder.get_weights()
  data = types.SimpleNamespace(p=P, k=K, r=R, flip=False)
  fn = synthetic_input.train_dataset_fn(_pool(), data, seed=0, start_step=0,
                                        steps=steps)
  batches = iter(strategy.distribute_datasets_from_function(fn))

  @tf.function
  def train_step(batch):
    logs = strategy.run(trainer.train_step, args=(batch,))
    return strategy.experimental_local_results(logs["loss"])[0]

  losses = []
  for step in range(1, steps + 1):
    losses.append(float(train_step(next(batches))))
    print(f"step {step} loss {losses[-1]:.6f}", flush=True)
    if step == pause_after_step:
      print(PAUSED, flush=True)
      time.sleep(3600)
  final = trainer.embedder.get_weights()
  moved = max(float(np.max(np.abs(a - b))) for a, b in zip(final, initial))
  return final, losses, moved


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--mode", choices=("worker", "single"), required=True)
  parser.add_argument("--output", required=True)
  parser.add_argument("--steps", type=int, default=3)
  parser.add_argument("--collective_timeout_s", type=float, default=None)
  parser.add_argument("--pause_after_step", type=int, default=0)
  parser.add_argument("--exit_after_strategy", action="store_true")
  args = parser.parse_args()
  if args.mode == "single":
    strategy = strategy_lib.make_strategy("default")
  else:
    strategy = strategy_lib.make_strategy(
        "multiworker", collective_timeout_s=args.collective_timeout_s)
  print(f"{READY}: {strategy.num_replicas_in_sync} replicas", flush=True)
  if args.exit_after_strategy:
    os._exit(0)  # at once, as a crash would: no teardown
  try:
    weights, losses, moved = _train(strategy, args.steps,
                                    args.pause_after_step)
  except PEER_ERRORS as e:
    print(f"{PEER_FAILURE} {type(e).__name__}: {e}".splitlines()[0],
          file=sys.stderr, flush=True)
    # Skip interpreter teardown: it waits on the dead peer (see the end of main).
    os._exit(EXIT_PEER_FAILURE)
  np.savez(args.output, *weights, losses=np.array(losses), moved=moved)
  print("done", flush=True)
  if args.mode == "worker":
    # Skip interpreter teardown: there every worker but the coordination
    # leader (worker 0) waits at a shutdown barrier the leader never joins,
    # until it notices the leader has gone (5-25 s measured).
    os._exit(0)


if __name__ == "__main__":
  main()
