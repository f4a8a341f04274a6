"""Training and evaluation input from procedurally rendered faces (the demo).

The training pool is rendered once into memory. Batch `step` is a pure
function of (seed, step): P identities x K images, plus R images of R other
identities (paper §3.2's random negatives), so a resumed run sees exactly
the batches an uninterrupted one would. Held-out identities start at
`EVAL_IDENTITY_OFFSET` and never appear in training.
"""
import numpy as np
import tensorflow as tf

from facenet_tf.data import synthetic_faces

EVAL_IDENTITY_OFFSET = 1_000_000


def train_pool(cfg, image_size, seed):
  """uint8 [identities, images_per_identity, H, W, 3]."""
  images, _ = synthetic_faces.render(
      range(cfg.train_identities), cfg.images_per_identity, image_size, seed)
  return images.reshape(cfg.train_identities, cfg.images_per_identity,
                        *images.shape[1:])


def eval_set(cfg, image_size, seed):
  """(images uint8 [N, H, W, 3], labels int32 [N]) of held-out identities."""
  ids = EVAL_IDENTITY_OFFSET + np.arange(cfg.eval_identities)
  return synthetic_faces.render(ids, cfg.eval_images_per_identity, image_size,
                                seed)


def pk_batch(pool, step, p, k, r, seed, flip):
  """Batch `step`: (images float32 [P*K+R, H, W, 3], labels int32), P x K + R.

  Identities are a random permutation's first P (the K-image groups) and
  next R (one image each), so the R are distinct and never among the P.
  """
  num_ids, per_id = pool.shape[0], pool.shape[1]
  s = tf.stack([tf.constant(seed, tf.int64), tf.cast(step, tf.int64)])
  ids = tf.argsort(tf.random.stateless_uniform([num_ids], seed=s))[:p + r]
  # K distinct images of each of the first P; one random image of the others.
  order = tf.argsort(tf.random.stateless_uniform([p + r, per_id], seed=s + 1))
  group = tf.reshape(tf.repeat(ids[:p], k), [-1])
  index = tf.reshape(order[:p, :k], [-1])
  labels = tf.concat([group, ids[p:]], 0)
  index = tf.concat([index, order[p:, 0]], 0)
  images = tf.cast(tf.gather_nd(pool, tf.stack([labels, index], 1)),
                   tf.float32)
  if flip:
    mirrored = tf.random.stateless_uniform([p * k + r], seed=s + 2) < 0.5
    images = tf.where(mirrored[:, None, None, None],
                      tf.reverse(images, axis=[2]), images)
  return images, tf.cast(labels, tf.int32)


def split_for_replicas(images, labels, p, k, r, n):
  """The N per-replica slices of a P x K + R batch, each P/N x K + R/N.

  Each replica gets whole identities, so 'replica' mining still sees
  positives, and the slices in replica order are the global batch.
  """
  if p % n or r % n:
    raise ValueError(f"data.p ({p}) and data.r ({r}) must be divisible by the "
                     f"number of replicas ({n}).")
  groups = tf.split(tf.range(p * k), n)
  others = tf.split(tf.range(p * k, p * k + r), n)
  rows = tf.stack([tf.concat([g, o], 0) for g, o in zip(groups, others)])
  return tf.gather(images, rows), tf.gather(labels, rows)


def train_dataset_fn(pool, data, seed, start_step, steps):
  """A `distribute_datasets_from_function` function for steps [start, steps)."""
  pool = tf.constant(pool)

  def dataset_fn(ctx):
    per_pipeline = ctx.num_replicas_in_sync // ctx.num_input_pipelines

    def batch(step):
      images, labels = pk_batch(pool, step, data.p, data.k, data.r, seed,
                                data.flip)
      return split_for_replicas(images, labels, data.p, data.k, data.r,
                                ctx.num_replicas_in_sync)

    def this_pipeline(images, labels):
      # Consecutive elements go to this pipeline's replicas in turn.
      first = ctx.input_pipeline_id * per_pipeline
      return tf.data.Dataset.from_tensor_slices(
          (images[first:first + per_pipeline],
           labels[first:first + per_pipeline]))

    return (tf.data.Dataset.range(start_step, steps)
            .map(batch, num_parallel_calls=tf.data.AUTOTUNE)
            .flat_map(this_pipeline)
            .prefetch(tf.data.AUTOTUNE))

  return dataset_fn
