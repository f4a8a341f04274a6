"""Train steps for the benchmarks: the trainer, a batch, timing (bench_train).

Benchmarks run as scripts, so they import this sibling module by name.
"""
import time

import keras
import numpy as np
import tensorflow as tf

from facenet_tf import models
from facenet_tf.training import trainer as trainer_lib


def make_trainer(name, chunk=0, policy="float32", embedder=None):
  """A FaceNetTrainer with AdaGrad 0.05 (paper §4), its slots built."""
  keras.utils.set_random_seed(0)
  embedder = embedder or models.build(name, dtype_policy=policy)
  trainer = trainer_lib.FaceNetTrainer(embedder, grad_cache_chunk=chunk)
  trainer.compile(optimizer=keras.optimizers.Adagrad(0.05))
  trainer.optimizer.build(trainer.trainable_variables)
  return trainer


def make_batch(embedder, size, per_identity):
  rng = np.random.default_rng(0)
  shape = (size, *embedder.inputs[0].shape[1:])
  images = tf.constant(rng.uniform(0, 255, shape).astype(np.float32))
  labels = tf.constant(np.arange(size) // per_identity, tf.int32)
  return images, labels


def mining_step(trainer):
  step = tf.function(trainer.train_step)
  return lambda batch: step(batch)["loss"]


def plain_step(trainer):
  """The same model and optimizer, a mean-squared loss: no mining at all."""
  variables = trainer.trainable_variables

  @tf.function
  def step(batch):
    images, labels = batch
    with tf.GradientTape() as tape:
      embeddings = trainer.embedder(images, training=True)
      target = tf.one_hot(labels % embeddings.shape[-1], embeddings.shape[-1])
      loss = tf.reduce_mean(tf.square(embeddings - target))
    grads = tape.gradient(trainer.optimizer.scale_loss(loss), variables)
    trainer.optimizer.apply(grads, variables)
    return loss

  return step


def timed(step, batch):
  """(wall, process CPU) seconds of one call, run to completion."""
  wall, cpu = time.perf_counter(), time.process_time()
  step(batch).numpy()
  return time.perf_counter() - wall, time.process_time() - cpu


def interleaved(steps, batch, rounds, warmup=2):
  """Median (wall, CPU) seconds of each step over `rounds` rounds.

  Odd rounds run the steps in reverse order (a b, b a, ...): measured on a
  quiet machine, whichever step ran second in a pair was ~1-3% slower.
  The process CPU time (all TF threads) is what other processes on a shared
  machine disturb least; the wall time is what a user waits.
  """
  for _ in range(warmup):
    for step in steps:
      timed(step, batch)
  times = []
  for i in range(rounds):
    order = range(len(steps)) if i % 2 == 0 else reversed(range(len(steps)))
    row = {j: timed(steps[j], batch) for j in order}
    times.append([row[j] for j in range(len(steps))])
  return [tuple(np.median(column, axis=0)) for column in zip(*times)]


def mining_only(trainer, batch):
  """Semi-hard mining + loss forward and backward on fixed embeddings."""
  images, labels = batch
  embeddings = tf.math.l2_normalize(tf.random.stateless_normal(
      [images.shape[0], trainer.embedder.embedding_dim], seed=(0, 0)), axis=1)

  @tf.function
  def step(_):
    with tf.GradientTape() as tape:
      tape.watch(embeddings)
      terms, _ = trainer.mine(labels, embeddings)
      loss = tf.math.divide_no_nan(terms.loss_sum, terms.loss_count)
    return tf.reduce_sum(tape.gradient(loss, embeddings))

  return step
