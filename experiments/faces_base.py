"""What the real-face experiments share (CelebA + LFW, one alignment).

Data, once, by `python experiments/prepare_faces.py` (about 25 min on 2
cores, most of it MTCNN): CelebA and all of LFW aligned with both
geometries, then the training trees and their shards under ROOT:

  ROOT/aligned/{celeba,lfw}_{landmarks,box}     data_pipelines.align output
  ROOT/trees/<name>, ROOT/shards/<name>        training_tree, build_tfrecords

with <name> = view1_<geometry> (LFW peopleDevTrain + CelebA),
celeba_<geometry> (CelebA only: no LFW person, View 2's protocol for
outside data) and celeba_landmarks_f<pct> (a seeded fraction of the CelebA
identities, Table 6). Evaluation pairs read the aligned LFW tree as it is.

The recipe (CPU budget, 2 cores): resnet_small at 64 px (1.26M params), P =
32 identities x K = 8 images + R = 32 random negatives, semi-hard triplets
with margin 0.2 (§3.1-3.2), Adam 1e-3 with a cosine schedule, random crops
and flips,
brightness/contrast jitter and 20% greyscale crops (CelebA mixes grey and
colour photos; LFW is colour).
"""
import os

from facenet_tf import config as config_lib
from facenet_tf.alignment import spec as spec_lib

ROOT = os.environ.get("FACENET_FACES_ROOT", "/tmp/facenet_faces")
_LFW = os.path.normpath(os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "data",
    "lfw"))
GEOMETRIES = spec_lib.GEOMETRIES


def lfw_file(name):
  """A protocol file of ../shared/data/lfw."""
  return os.path.join(_LFW, name)


def shards(name):
  return os.path.join(ROOT, "shards", name)


def aligned(source, geometry):
  return os.path.join(ROOT, "aligned", f"{source}_{geometry}")


def base(shard_name, geometry, steps, smoke=False):
  """The shared recipe on ROOT/shards/<shard_name>, verified on DevTest."""
  c = config_lib.get_config()
  c.model.name = "resnet_small"
  c.model.image_size = 64
  c.model.weight_decay = 1e-4
  c.data.source = "tfrecords"
  c.data.p, c.data.k, c.data.r = 32, 8, 32
  t = c.data.tfrecords
  t.dir = shards(shard_name)
  t.min_images_policy = "replace"
  t.brightness_delta, t.contrast, t.greyscale = 20.0, 0.2, 0.2
  # A cosine-margin softmax beside the triplets (loss.softmax_weight = 1)
  # collapsed the triplet statistics in a first try (d(a,n) = d(a,p) = 0.26
  # at step 200, DevTest 0.615; softmax loss 18.5 -> 17.8): off.
  c.loss.softmax_weight = 0.0
  c.eval.pairs = lfw_file("pairsDevTest.txt")
  c.eval.images_dir = aligned("lfw", geometry)
  c.optimizer.name = "adam"
  c.optimizer.learning_rate = 1e-3
  c.optimizer.schedule = "cosine"
  c.train.steps = steps
  # Derived lazily (FieldReference): `--config.train.steps=N` carries them.
  steps_ref = c.train.get_ref("steps")
  c.optimizer.warmup_steps = steps_ref // 30
  c.train.log_every = 50
  # Two references: one shared object would tie an override of either.
  c.train.checkpoint_every = steps_ref // 8
  c.train.eval_every = steps_ref // 8
  if smoke:
    c.data.p, c.data.k, c.data.r = 8, 4, 8
    c.optimizer.warmup_steps = 2
    c.train.steps, c.train.log_every = 10, 5
    c.train.checkpoint_every = c.train.eval_every = 5
    c.train.projector_samples = 40
  return c
