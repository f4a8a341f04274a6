"""Streams of identity groups read from shards, for the P x K sampler.

One stream yields groups of distinct identities, a fixed number of encoded
images each (pk_sampler.py has the policies this implements).
"""
import tensorflow as tf

from facenet_tf.data import records

AUTOTUNE = tf.data.AUTOTUNE
# Shards read at once per pipeline: more mixes identities across shards
# before the shuffle buffer, at the cost of one read buffer each.
_MAX_CYCLE_LENGTH = 16
# Records parsed and sampled per map call: per-call overhead (~100 us here)
# dwarfs the work per record (~30 us), and LFW-like sets with many
# 1-image identities read several records per identity kept.
_RECORD_BATCH = 64
# The part of records.py's schema the sampler reads: the fewer features
# parsed, the cheaper the parse.
_PICK_FEATURES = {
    "label": tf.io.FixedLenFeature([], tf.int64),
    "images": tf.io.RaggedFeature(tf.string, row_splits_dtype=tf.int64),
    "heights": tf.io.RaggedFeature(tf.int64, row_splits_dtype=tf.int64),
    "widths": tf.io.RaggedFeature(tf.int64, row_splits_dtype=tf.int64),
}


def identity_groups(pattern, context, num_files, *, count, min_images,
                    group_size, shuffle_buffer, seeds, teacher=False):
  """Endless groups of `group_size` distinct identities, `count` images each.

  Groups never straddle an epoch (each is batched within one pass over the
  pipeline's shards), so an identity appears at most once per group.

  Args:
    pattern: glob of the shard set; its sorted files are split among the
      input pipelines by `Dataset.shard`.
    context: the tf.distribute.InputContext of this pipeline.
    num_files: how many shards this pipeline reads.
    count: images drawn per identity (see `pick`).
    min_images: identities with fewer images are left out.
    group_size: identities per group.
    shuffle_buffer: identities in the shuffle buffer.
    seeds: three ints: shard order, image draws, identity order.
    teacher: also read each drawn image's teacher targets (records.py).

  Returns:
    A dataset of dicts: images (encoded), heights, widths [group_size, count],
    label int32 [group_size] and, with `teacher`, teacher float32
    [group_size, count, 256].
  """
  files_seed, draws_seed, shuffle_seed = seeds
  files = tf.data.Dataset.list_files(pattern, shuffle=False).shard(
      context.num_input_pipelines, context.input_pipeline_id)
  files = files.shuffle(num_files, seed=files_seed,
                        reshuffle_each_iteration=True)
  serialized = files.interleave(
      tf.data.TFRecordDataset, cycle_length=min(num_files, _MAX_CYCLE_LENGTH),
      num_parallel_calls=AUTOTUNE, deterministic=True)
  keys = tf.data.Dataset.random(seed=draws_seed,
                                rerandomize_each_iteration=True)
  picked = tf.data.Dataset.zip(serialized.batch(_RECORD_BATCH), keys).map(
      lambda batch, key: pick(batch, key, count, min_images, teacher),
      num_parallel_calls=AUTOTUNE)
  identities = picked.unbatch().shuffle(
      shuffle_buffer, seed=shuffle_seed, reshuffle_each_iteration=True)
  return identities.batch(group_size, drop_remainder=True).repeat()


def pick(serialized, key, count, min_images, teacher=False):
  """`count` encoded images of each record with >= `min_images` images.

  Per identity, a random permutation of its n images, cycled: without
  replacement when n >= count, else each image floor(count/n) or
  ceil(count/n) times. One sort serves the whole batch of records.

  Args:
    serialized: string [b], identity records (records.py).
    key: int64 scalar, the stateless seed of this batch's draws.
    count: images per identity.
    min_images: records with fewer images are dropped.
    teacher: also gather the drawn images' teacher rows.

  Returns:
    For the m kept records: images (encoded), heights, widths [m, count];
    label int32 [m]; with `teacher`, teacher [m, count, 256].
  """
  features = dict(_PICK_FEATURES, **(records.TEACHER_FEATURE if teacher
                                     else {}))
  parsed = tf.io.parse_example(serialized, features)
  images = parsed["images"]
  num_images = images.row_lengths()
  noise = tf.random.stateless_uniform(
      tf.shape(images.flat_values, tf.int64), dtype=tf.float64,
      seed=tf.stack([key, tf.constant(0, tf.int64)]))
  # 2 * record + noise in [0, 1): sorted by record, randomly within one.
  order = tf.argsort(2 * tf.cast(images.value_rowids(), tf.float64) + noise)
  take = images.row_starts()[:, tf.newaxis] + (
      tf.range(count, dtype=tf.int64) % num_images[:, tf.newaxis])
  chosen = tf.gather(order, take)
  keep = num_images >= min_images
  picked = {feature: tf.gather(parsed[feature].flat_values, chosen)
            for feature in ("images", "heights", "widths")}
  if teacher:
    # One row of 256 per image, in the images' flat order: the same draw.
    rows = tf.reshape(parsed["teacher"].flat_values,
                      [-1, records.TEACHER_VALUES])
    picked["teacher"] = tf.gather(rows, chosen)
  picked["label"] = tf.cast(parsed["label"], tf.int32)
  return {feature: tf.boolean_mask(value, keep)
          for feature, value in picked.items()}


def fail_when_exhausted(dataset, message):
  """Appends an element that raises `message`: reached only if `dataset` ends.

  An endless `repeat()` ends only when one pass yields nothing, i.e. when the
  shards cannot fill one group.
  """
  def fail(_):
    check = tf.debugging.Assert(False, [message])
    with tf.control_dependencies([check]):
      return tf.nest.map_structure(
          lambda spec: tf.identity(tf.zeros(spec.shape, spec.dtype)),
          dataset.element_spec)
  return dataset.concatenate(tf.data.Dataset.range(1).map(fail))
