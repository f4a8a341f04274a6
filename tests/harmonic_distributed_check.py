"""Run as a script: one harmonic step (arXiv v3 §7) on 1 device and on 2.

tests/distributed_step_check.py's set-up (2 logical CPUs, a P=4 x K=4
batch of patterned identities), with HarmonicTrainer training all of v2
against a frozen v1 (another seed): the default strategy, then
MirroredStrategy with 2 replicas of 8 images mining globally (each
replica's anchors of both versions against the gathered union) and per
replica. Prints one JSON line: the max |weight difference| of v2 after each
vs the default, how far the default moved v2, and how far v1 moved.
"""
import json

import numpy as np
import tensorflow as tf

from tests import distributed_step_check as check  # splits the CPU first

import keras  # noqa: E402  (after the CPU split)

from facenet_tf import models  # noqa: E402
from facenet_tf.training import harmonic_trainer  # noqa: E402


def one_step(strategy, images, labels, initial, mining_scope):
  """(v2's weights, v1's weights) after one step from `initial`."""
  with strategy.scope():
    v2 = models.build("tiny", sync_batchnorm=True)
    v1 = models.build("tiny", sync_batchnorm=True)
    trainer = harmonic_trainer.HarmonicTrainer(v2, v1, "all",
                                               mining_scope=mining_scope)
    trainer.compile(optimizer=keras.optimizers.Adagrad(0.05))
    trainer.optimizer.build(trainer.trainable_variables)
  v2.set_weights(initial[0])
  v1.set_weights(initial[1])
  check.run_train_step(strategy, trainer, images, labels)
  return v2.get_weights(), v1.get_weights()


def main():
  rng = np.random.default_rng(0)
  labels = np.repeat(np.arange(check.P), check.K).astype(np.int32)
  images = check.patterned_images(rng, labels)
  initial = []
  for seed in (0, 1):
    keras.utils.set_random_seed(seed)
    initial.append(models.build("tiny", sync_batchnorm=True).get_weights())
  default, v1_after = one_step(tf.distribute.get_strategy(), images, labels,
                               initial, "global")
  mirrored = tf.distribute.MirroredStrategy(check.DEVICES)
  results = {"moved": check.max_difference(default, initial[0]),
             "v1_moved": check.max_difference(v1_after, initial[1])}
  for scope in ("global", "replica"):
    results[scope] = check.max_difference(
        default, one_step(mirrored, images, labels, initial, scope)[0])
  print(json.dumps(results))


if __name__ == "__main__":
  main()
