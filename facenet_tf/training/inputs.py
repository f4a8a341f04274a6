"""What a run trains on, chosen by `config.data.source`.

  synthetic  procedurally rendered faces (the built-in demo): batches are a
             pure function of (seed, step), so a resumed run sees exactly
             the batches an uninterrupted one would; verification on
             held-out synthetic identities (training/evaluators.py).
  tfrecords  identity shards written by `data_pipelines.build_tfrecords`,
             read by the P x K + R sampler (`facenet_tf.data.pk_sampler`);
             verification on an LFW-format pairs file (`config.eval`). A
             resumed run reseeds the sampler with (seed, start step): it
             continues with fresh batches rather than replaying them.

Both sides of tfrecords training see faces through the alignment spec
(alignment/model_crop.py): the sampler crops the shards' spec's view (at
random within its margin), the verifier the pairs images' spec's view
unless `config.eval.crop_fraction` says otherwise.
"""
import json
import os

import numpy as np

from facenet_tf.alignment import spec as spec_lib
from facenet_tf.data import augment as augment_lib
from facenet_tf.data import pk_sampler
from facenet_tf.data import shards
from facenet_tf.data import synthetic_input


def square_size(image_size):
  """The side of a square `image_size`; synthetic faces are square."""
  height, width = image_size
  if height != width:
    raise ValueError(f"Synthetic faces are square; this model takes "
                     f"{height}x{width}. Set model.image_size.")
  return height


def num_train_classes(config):
  """How many identities the training data labels (0..n-1)."""
  if config.data.source == "synthetic":
    return config.data.synthetic.train_identities
  return shards.num_labels(config.data.tfrecords.dir,
                           config.data.tfrecords.name or None)


def alignment(config):
  """The AlignmentSpec of the training faces (the shards' manifest), or None.

  Synthetic faces are drawn, not aligned: None.
  """
  if config.data.source == "synthetic":
    return None
  spec = _manifest(config).get("alignment")
  return spec_lib.AlignmentSpec.from_dict(spec) if spec else None


def _manifest(config):
  """The shards' manifest.json as a dict ({} if there is none)."""
  path = os.path.join(config.data.tfrecords.dir, "manifest.json")
  if not os.path.exists(path):
    return {}
  with open(path, encoding="utf-8") as f:
    return json.load(f)


def _teacher_counts(config):
  """The manifest's teacher_targets when the loss distils (then the shards
  must carry targets), else None."""
  if not config.loss.distill_weight:
    return None
  counts = _manifest(config).get("teacher_targets")
  if not counts or not counts["with"]:
    raise ValueError(
        f"loss.distill_weight > 0, but the shards in "
        f"{config.data.tfrecords.dir} carry no teacher targets: run "
        "data_pipelines.teacher_targets on the aligned trees, then rebuild "
        "the training tree and its shards.")
  return counts


def teacher_center(config):
  """The manifest's mean unit teacher target when the loss centres on it
  (loss.distill_center, a cosine or relational distillation), else None."""
  loss = config.loss
  counts = _teacher_counts(config)
  if not (counts and loss.distill_center and loss.distill_loss != "harmonic"):
    return None
  center = counts.get("mean_unit")
  if center is None:
    raise ValueError(
        f"loss.distill_center is true, but the manifest of "
        f"{config.data.tfrecords.dir} has no teacher_targets.mean_unit (an "
        "older build_tfrecords): rebuild the shards, or set "
        "loss.distill_center = False.")
  return center


def train_iterator(config, strategy, image_size, start_step):
  """A distributed iterator of global P x K + R batches from `start_step`."""
  d = config.data
  if d.source == "synthetic":
    pool = synthetic_input.train_pool(d.synthetic, square_size(image_size),
                                      config.seed)
    fn = synthetic_input.train_dataset_fn(pool, d, config.seed, start_step,
                                          config.train.steps)
  else:
    t = d.tfrecords
    spec = alignment(config) or spec_lib.AlignmentSpec()
    augment = augment_lib.AugmentOptions(
        random_crop=t.random_crop, flip=d.flip,
        brightness_delta=t.brightness_delta, contrast=t.contrast,
        jpeg_quality=tuple(t.jpeg_quality) if t.jpeg_quality else None,
        greyscale=t.greyscale)
    fn = pk_sampler.distributed_dataset_fn(
        t.dir, d.p, d.k, d.r, image_size=image_size,
        seed=int(np.random.SeedSequence([config.seed, start_step])
                 .generate_state(1)[0]),
        shuffle_buffer=t.shuffle_buffer,
        min_images_policy=t.min_images_policy,
        min_images=t.min_images or None, augment=augment,
        crop_fraction=spec.model_crop_fraction, name=t.name or None,
        teacher=_teacher_counts(config) is not None)
  return iter(strategy.distribute_datasets_from_function(fn))
