"""Run as a script: the gradient-cache step on 2 replicas vs one device.

Splits the CPU into 2 logical devices (only possible before TensorFlow
initialises, hence a separate process). On one global batch of P=4 x K=6
images (each identity its own pattern plus noise, so no semi-hard choice
hangs on a rounding tie) and the same initial weights, takes one SGD(1.0)
step with training-mode synchronised BatchNorm:
  mirrored    MirroredStrategy, 2 replicas of 12 images, chunks of 4;
  one device  chunks of 8, on the batch reordered so that its chunk i is
              chunk i of replica 0 then of replica 1: the same ghost batches.
Prints one JSON line: max |weight difference| between the two (`ghost_bn`)
and how far the one-device step moved the weights (`moved`). With frozen
BatchNorm, one device's cached step equals the plain one (test_grad_cache).
"""
import json

import numpy as np
import tensorflow as tf

from facenet_tf.training import strategy as strategy_lib

DEVICES = strategy_lib.split_cpu(2)

import keras  # noqa: E402  (after the CPU split)

from facenet_tf import models  # noqa: E402
from facenet_tf.training import trainer as trainer_lib  # noqa: E402

P, K, CHUNK = 4, 6, 4


def one_step(strategy, chunk, images, labels, initial):
  """Weights after one SGD(1.0) step from `initial` on the global batch."""
  with strategy.scope():
    embedder = models.build("tiny", sync_batchnorm=True)
    trainer = trainer_lib.FaceNetTrainer(embedder, grad_cache_chunk=chunk)
    trainer.compile(optimizer=keras.optimizers.SGD(1.0))
    trainer.optimizer.build(trainer.trainable_variables)
  embedder.set_weights(initial)
  rows = len(images) // strategy.num_replicas_in_sync

  def replica_slice(ctx):
    i = ctx.replica_id_in_sync_group
    return images[i * rows:(i + 1) * rows], labels[i * rows:(i + 1) * rows]

  batch = strategy.experimental_distribute_values_from_function(replica_slice)
  tf.function(lambda b: strategy.run(trainer.train_step, args=(b,)))(batch)
  return embedder.get_weights()


def max_difference(a, b):
  return max(float(np.max(np.abs(x - y))) for x, y in zip(a, b))


def main():
  rng = np.random.default_rng(0)
  labels = rng.permutation(np.repeat(np.arange(P), K)).astype(np.int32)
  patterns = rng.uniform(0, 255, (P, 64, 64, 3))
  noise = rng.normal(0, 20, (P * K, 64, 64, 3))
  images = np.clip(patterns[labels] + noise, 0, 255).astype(np.float32)
  keras.utils.set_random_seed(0)
  initial = models.build("tiny", sync_batchnorm=True).get_weights()
  # Row order of one device whose chunk i = chunk i of replica 0, then of 1.
  half = len(images) // 2
  order = np.concatenate([np.r_[i:i + CHUNK, half + i:half + i + CHUNK]
                          for i in range(0, half, CHUNK)])
  one_device = one_step(tf.distribute.get_strategy(), 2 * CHUNK,
                        images[order], labels[order], initial)
  mirrored = one_step(tf.distribute.MirroredStrategy(DEVICES), CHUNK, images,
                      labels, initial)
  print(json.dumps({"moved": max_difference(one_device, initial),
                    "ghost_bn": max_difference(one_device, mirrored)}))


if __name__ == "__main__":
  main()
