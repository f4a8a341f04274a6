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

# Splits the CPU into 2 devices on import, before anything else runs.
from tests.distributed_step_check import DEVICES
from tests.distributed_step_check import max_difference
from tests.distributed_step_check import one_step
from tests.distributed_step_check import patterned_images

import keras  # noqa: E402  (after the CPU split)

from facenet_tf import models  # noqa: E402

P, K, CHUNK = 4, 6, 4


def main():
  rng = np.random.default_rng(0)
  labels = rng.permutation(np.repeat(np.arange(P), K)).astype(np.int32)
  images = patterned_images(rng, labels)
  keras.utils.set_random_seed(0)
  initial = models.build("tiny", sync_batchnorm=True).get_weights()
  # Row order of one device whose chunk i = chunk i of replica 0, then of 1.
  half = len(images) // 2
  order = np.concatenate([np.r_[i:i + CHUNK, half + i:half + i + CHUNK]
                          for i in range(0, half, CHUNK)])
  # One SGD(1.0) step each, with training-mode synchronised BatchNorm.
  sgd = lambda: keras.optimizers.SGD(1.0)  # noqa: E731
  one_device = one_step(tf.distribute.get_strategy(), images[order],
                        labels[order], initial, sgd,
                        grad_cache_chunk=2 * CHUNK)
  mirrored = one_step(tf.distribute.MirroredStrategy(DEVICES), images, labels,
                      initial, sgd, grad_cache_chunk=CHUNK)
  print(json.dumps({"moved": max_difference(one_device, initial),
                    "ghost_bn": max_difference(one_device, mirrored)}))


if __name__ == "__main__":
  main()
