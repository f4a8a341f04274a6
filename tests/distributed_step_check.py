"""Run as a script: one train step under three set-ups from the same weights.

Splits the CPU into 2 logical devices (only possible before TensorFlow
initialises, hence a separate process), then on one fixed global batch of
P=4 identities x K=4 images (an identity's own random pattern plus noise, so
its embeddings cluster and no semi-hard choice hangs on a float rounding
tie between near-equal distances) takes one AdaGrad step with:
  default   tf.distribute's default strategy, the whole batch on one device;
  global    MirroredStrategy, 2 replicas of 8 images, mining_scope='global';
  replica   the same, mining_scope='replica'.
Prints one JSON line: the max |weight difference| of global and replica vs
default, and how far default moved the weights from their start.
"""
import json

import numpy as np
import tensorflow as tf

from facenet_tf.training import strategy as strategy_lib

DEVICES = strategy_lib.split_cpu(2)

import keras  # noqa: E402  (after the CPU split)

from facenet_tf import models  # noqa: E402
from facenet_tf.training import trainer as trainer_lib  # noqa: E402

P, K = 4, 4


def patterned_images(rng, labels):
  """Each identity's own random pattern plus noise, float32 [N, 64, 64, 3]."""
  patterns = rng.uniform(0, 255, (labels.max() + 1, 64, 64, 3))
  noise = rng.normal(0, 20, (len(labels), 64, 64, 3))
  return np.clip(patterns[labels] + noise, 0, 255).astype(np.float32)


def one_step(strategy, images, labels, initial, make_optimizer, targets=None,
             **trainer_kwargs):
  """Weights after one step from `initial`, the global batch split in order
  over the replicas; the optimizer is made in the strategy's scope and
  `trainer_kwargs` go to FaceNetTrainer; `targets`: teacher targets."""
  with strategy.scope():
    embedder = models.build("tiny", sync_batchnorm=True)
    trainer = trainer_lib.FaceNetTrainer(embedder, **trainer_kwargs)
    trainer.compile(optimizer=make_optimizer())
    trainer.optimizer.build(trainer.trainable_variables)
  embedder.set_weights(initial)
  run_train_step(strategy, trainer, images, labels,
                 *([] if targets is None else [targets]))
  return embedder.get_weights()


def run_train_step(strategy, trainer, *arrays):
  """One `trainer.train_step` on the global batch (images, labels[, targets]),
  split by replica."""
  rows = len(arrays[0]) // strategy.num_replicas_in_sync

  def replica_slice(ctx):
    i = ctx.replica_id_in_sync_group
    return tuple(a[i * rows:(i + 1) * rows] for a in arrays)

  batch = strategy.experimental_distribute_values_from_function(replica_slice)
  tf.function(lambda b: strategy.run(trainer.train_step, args=(b,)))(batch)


def max_difference(a, b):
  return max(float(np.max(np.abs(x - y))) for x, y in zip(a, b))


def main():
  rng = np.random.default_rng(0)
  labels = np.repeat(np.arange(P), K).astype(np.int32)
  images = patterned_images(rng, labels)
  keras.utils.set_random_seed(0)
  initial = models.build("tiny", sync_batchnorm=True).get_weights()

  def step(strategy, scope):
    return one_step(strategy, images, labels, initial,
                    lambda: keras.optimizers.Adagrad(0.05),
                    mining_scope=scope)

  default = step(tf.distribute.get_strategy(), "global")
  mirrored = tf.distribute.MirroredStrategy(DEVICES)
  results = {"moved": max_difference(default, initial)}
  for scope in ("global", "replica"):
    results[scope] = max_difference(default, step(mirrored, scope))
  print(json.dumps(results))


if __name__ == "__main__":
  main()
