"""The stratified training batch: P identities x K images + R negatives.

FaceNet §3.2 mines triplets online in batches of ~1,800 faces holding ~40
faces per identity plus randomly sampled negative faces. `pk_dataset` yields
exactly that, with static shapes:
  images  float32 [P*K + R, H, W, 3], 0..255 (the model scales its input)
  labels  int32 [P*K + R]
The first P*K rows are P distinct identities, K consecutive rows each; the
last R rows are one image each of R distinct identities outside those P.

How it reads (one `tf.train.Example` per identity, records.py):
  * shards: listed by `list_files`, split among input pipelines, reshuffled
    every epoch, read `interleave`d; records are never listed in Python;
  * per identity record, K images are drawn with stateless random ops and
    only those K are kept, so the shuffle buffer holds K encoded images per
    identity, not the whole record, and only they are decoded; records are
    parsed and sampled 64 at a time (one map call per 64);
  * identities are grouped P at a time within one epoch (`drop_remainder`), so
    a group never holds the same identity twice; the R negatives come from a
    second, independently shuffled stream grouped R + P at a time: at most P
    of those distinct candidates can be in the batch's P, so the first R
    others always exist (no shortfall case);
  * the batch's augmentation uniforms and crop windows are computed for the
    whole batch at once; then each image is decoded, cut, resized and
    augmented in a parallel map.

Policies:
  * `min_images_policy="exclude"` (default): identities with fewer than
    `min_images` (default and minimum K) images never enter the P groups, so
    every group holds K distinct images.
  * `"replace"`: an identity with n < K images gives all n images, each
    floor(K/n) or ceil(K/n) times in random order, i.e. sampling with
    replacement balanced so that no image is left out; identities below
    `min_images` (default and minimum 2) are left out.
  * An identity with 1 image can never be a P identity (it has no positive
    pair) but it is a valid R negative: the R stream takes every identity.

Determinism: the same arguments give the same batches (seeded shuffles,
stateless random ops, `Options.deterministic`), given TF's global seed
(`tf.random.set_seed`), which tf.data combines with op seeds.
"""
import functools

import numpy as np
import tensorflow as tf

from facenet_tf.alignment import spec as spec_lib
from facenet_tf.data import augment as augment_lib
from facenet_tf.data import identity_groups
from facenet_tf.data import records
from facenet_tf.data import shards

AUTOTUNE = tf.data.AUTOTUNE
POLICIES = ("exclude", "replace")


def pk_dataset(data_dir, p, k, r=0, *, image_size=160, seed=0,
               shuffle_buffer=256, min_images_policy="exclude",
               min_images=None, augment=augment_lib.AugmentOptions(),
               crop_fraction=spec_lib.MODEL_CROP_FRACTION, name=None,
               input_context=None, teacher=False):
  """An endless tf.data.Dataset of (images, labels) P x K + R batches.

  With `teacher`, of (images, labels, targets): targets float32 [B, 128],
  each image's teacher descriptor (records.py), the mirror image's when
  augmentation flipped it, zeros where the teacher has none.

  Args:
    data_dir: directory of `<name>.tfrecord-NNNNN-of-NNNNN` identity shards.
    p: identities per global batch (FaceNet §3.2: ~45).
    k: images per identity (§3.2: ~40); >= 2 to form positive pairs.
    r: extra images of other identities, one each (§3.2's random negatives).
    image_size: output size, int or (height, width).
    seed: fixes the shard order, the sampling and the augmentation.
    shuffle_buffer: identities in the shuffle buffer, each holding K encoded
      images (256 x 40 x ~10 kB aligned JPEGs ~ 100 MB).
    min_images_policy: "exclude" or "replace", see the module docstring.
    min_images: fewest images of a P identity; None = K ("exclude") or 2.
    augment: AugmentOptions, or None for evaluation geometry (the model's
      view, the centre crop).
    crop_fraction: the central fraction of each side of an aligned image
      that the model sees: the shards' alignment spec's
      `model_crop_fraction` (alignment/model_crop.py).
    name: the shards' name prefix, when `data_dir` holds several sets.
    teacher: also yield teacher targets (shards that carry them).
    input_context: tf.distribute.InputContext; None = one pipeline, one
      replica. With N replicas the dataset yields per-replica batches of
      P/N identities x K + R/N, N consecutive elements per global batch.

  Raises:
    ValueError: bad sizes or policy, P or R not divisible by the replicas.
    ShardError: missing, truncated or too few shards for the pipelines.
  """
  context = input_context or tf.distribute.InputContext()
  pipelines, replicas = (context.num_input_pipelines,
                         context.num_replicas_in_sync)
  min_images = _check_sizes(p, k, r, replicas, pipelines, min_images_policy,
                            min_images)
  pattern, paths = shards.find_shards(data_dir, name)
  if len(paths) < pipelines:
    raise shards.ShardError(
        f"{len(paths)} shards in {data_dir} cannot feed {pipelines} input "
        f"pipelines: write >= {pipelines}")
  own = paths[context.input_pipeline_id::pipelines]  # Dataset.shard's split.
  for path in own:
    shards.check_shard(path)
  # Independent seeds per pipeline and per random stream.
  state = np.random.SeedSequence([seed, context.input_pipeline_id])
  *stream_seeds, augment_seed = map(int, state.generate_state(7))
  group_p, group_r = p // pipelines, r // pipelines
  where = f"Input pipeline {context.input_pipeline_id} of {pipelines}"
  read = functools.partial(identity_groups.identity_groups, pattern, context,
                           len(own), shuffle_buffer=shuffle_buffer,
                           teacher=teacher)
  groups = identity_groups.fail_when_exhausted(
      read(count=k, min_images=min_images, group_size=group_p,
           seeds=stream_seeds[:3]),
      f"{where}: one pass over its shards gives fewer than {group_p} "
      f"identities with >= {min_images} images. Lower p, relax min_images "
      "or use fewer input pipelines.")
  streams = (groups,)
  if r:
    # Every identity, 1-image ones included, can be a negative.
    streams += (identity_groups.fail_when_exhausted(
        read(count=1, min_images=1, group_size=group_r + group_p,
             seeds=stream_seeds[3:]),
        f"{where}: one pass over its shards gives fewer than "
        f"{group_r + group_p} identities, the R + P distinct candidates for "
        f"its R = {group_r} negatives. Lower r or p."),)
  per_replica = (group_p * k + group_r) // (replicas // pipelines)

  def with_windows(rows):
    """Crop windows of a whole batch at once, from the records' sizes."""
    rows = dict(rows)
    heights, widths = rows.pop("heights"), rows.pop("widths")
    rows["window"] = augment_lib.training_windows(
        heights, widths, rows["randoms"], image_size, crop_fraction, augment)
    return rows

  def image_and_label(row):
    image = augment_lib.train_image(row["images"], row["window"],
                                    row["randoms"], image_size, augment)
    if not teacher:
      return image, row["label"]
    # A flipped face is paired with its mirror's descriptor, not its own.
    flipped = augment_lib.flipped(row["randoms"], augment)
    half = records.TEACHER_VALUES // 2
    target = tf.where(flipped, row["teacher"][half:], row["teacher"][:half])
    return image, row["label"], target

  batches = tf.data.Dataset.zip(streams).enumerate().map(
      lambda step, elements: _assemble(step, *elements, k=k, r=group_r,
                                       replicas=replicas // pipelines,
                                       augment_seed=augment_seed))
  images = batches.map(with_windows).unbatch().map(
      image_and_label, num_parallel_calls=AUTOTUNE)
  dataset = images.batch(per_replica, drop_remainder=True).prefetch(AUTOTUNE)
  options = tf.data.Options()
  options.deterministic = True
  return dataset.with_options(options)


def distributed_dataset_fn(data_dir, p, k, r=0, **kwargs):
  """`fn(input_context)` for `strategy.distribute_datasets_from_function`.

  Each input pipeline reads every `num_input_pipelines`-th shard and builds
  its share of the global batch, P/pipelines identities x K + R/pipelines,
  split into consecutive per-replica batches of whole identities, which
  tf.distribute deals to the pipeline's replicas in order. The replicas of
  one step together hold the global batch; with one pipeline it is the
  batch `pk_dataset` yields without a context, for the same seed. `kwargs`
  are `pk_dataset`'s.
  """
  return lambda input_context: pk_dataset(
      data_dir, p, k, r, input_context=input_context, **kwargs)


def _check_sizes(p, k, r, replicas, pipelines, policy, min_images):
  """Validates the sizes; returns the resolved `min_images`."""
  if p < 1 or k < 2 or r < 0:
    raise ValueError(f"Need p >= 1, k >= 2 (positive pairs), r >= 0; got "
                     f"p={p}, k={k}, r={r}")
  if p % replicas or r % replicas:
    raise ValueError(f"p={p} and r={r} must be divisible by the "
                     f"{replicas} replicas, so each gets whole identities")
  if replicas % pipelines:
    raise ValueError(f"{replicas} replicas over {pipelines} input pipelines")
  if policy not in POLICIES:
    raise ValueError(f"min_images_policy must be one of {POLICIES}: {policy!r}")
  least = k if policy == "exclude" else 2
  min_images = least if min_images is None else min_images
  if min_images < least:
    raise ValueError(f"min_images={min_images} < {least} under policy "
                     f"{policy!r} (module docstring)")
  return min_images


def _assemble(step, groups, negatives=None, *, k, r, replicas, augment_seed):
  """One pipeline's batch as per-image rows, ordered replica by replica.

  Each image's augmentation uniforms are drawn for the pipeline's whole batch
  (one stateless op, seeded by the step) and travel with the image, so
  splitting among replicas changes no image.
  """
  labels = groups["label"]
  flat = lambda value: tf.reshape(value, [-1, *value.shape[2:]])
  rows = {key: flat(value) for key, value in groups.items()
          if key != "label"}
  rows["label"] = tf.repeat(labels, k)
  if r:
    # Candidates are distinct and at most P of them are in `labels`.
    outside = tf.reduce_all(
        negatives["label"][:, tf.newaxis] != labels[tf.newaxis, :], axis=1)
    chosen = tf.where(outside)[:r, 0]
    rows = {key: tf.concat([value, tf.ensure_shape(tf.gather(
        flat(negatives[key]), chosen), [r, *value.shape[1:]])], axis=0)
            for key, value in rows.items()}
  size = rows["label"].shape[0]
  rows["randoms"] = tf.random.stateless_uniform(
      [size, augment_lib.RANDOM_VALUES],
      seed=tf.stack([tf.constant(augment_seed, tf.int64), step]))
  pk_size = size - r

  def by_replica(value):
    split = lambda part: tf.reshape(part, [replicas, -1, *part.shape[1:]])
    both = tf.concat([split(value[:pk_size]), split(value[pk_size:])], axis=1)
    return tf.reshape(both, [size, *value.shape[1:]])

  return {key: by_replica(value) for key, value in rows.items()}
