"""Run as a script: one distillation step on 2 replicas equals one device.

As tests/distributed_step_check.py (2 logical CPUs, P=4 x K=4 patterned
images, one AdaGrad step from the same weights), with teacher targets: a
random 128-d descriptor per image, one row of zeros (no target), centred on
their mean unit row as trained (the harmonic loss ignores it). For each
distillation loss (cosine alone; relational and §7 harmonic beside the
triplet loss):
  default   the whole batch on one device;
  global    MirroredStrategy, 2 replicas of 8 images.
Prints one JSON line: per set-up, the max |weight difference| of global vs
default and how far default moved the weights.
"""
import json

import numpy as np
import tensorflow as tf

from tests import distributed_step_check as check

import keras  # noqa: E402  (after the CPU split, done by the import above)

from facenet_tf import models  # noqa: E402


def main():
  rng = np.random.default_rng(0)
  labels = np.repeat(np.arange(check.P), check.K).astype(np.int32)
  images = check.patterned_images(rng, labels)
  targets = rng.normal(size=(len(labels), 128)).astype(np.float32)
  targets[5] = 0.0
  # The training set's mean unit target (the manifest's), as trained.
  unit = targets / np.maximum(np.linalg.norm(targets, axis=1, keepdims=True),
                              1e-12)
  center = (unit.sum(axis=0) / 15).tolist()  # 15 rows have a target
  keras.utils.set_random_seed(0)
  initial = models.build("tiny", sync_batchnorm=True).get_weights()
  mirrored = tf.distribute.MirroredStrategy(check.DEVICES)
  results = {}
  # Distillation alone once, beside the triplet loss for the other two.
  for kind, triplet_weight in (("cosine", 0.0), ("relational", 1.0),
                               ("harmonic", 1.0)):
    kwargs = dict(targets=targets, distill_weight=1.0, distill_loss=kind,
                  triplet_weight=triplet_weight, distill_center=center)
    step = lambda strategy, kwargs=kwargs: check.one_step(
        strategy, images, labels, initial,
        lambda: keras.optimizers.Adagrad(0.05), **kwargs)
    default = step(tf.distribute.get_strategy())
    results[f"{kind}_triplet{triplet_weight:g}"] = {
        "moved": check.max_difference(default, initial),
        "global": check.max_difference(default, step(mirrored))}
  print(json.dumps(results))


if __name__ == "__main__":
  main()
