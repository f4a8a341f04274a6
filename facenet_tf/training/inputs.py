"""What a run trains on and verifies against, chosen by `config.data.source`.

  synthetic  procedurally rendered faces (the built-in demo): batches are a
             pure function of (seed, step), so a resumed run sees exactly
             the batches an uninterrupted one would; verification on
             held-out synthetic identities.
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
import tensorflow as tf

from facenet_tf.alignment import spec as spec_lib
from facenet_tf.data import augment as augment_lib
from facenet_tf.data import pk_sampler
from facenet_tf.data import shards
from facenet_tf.data import synthetic_faces
from facenet_tf.data import synthetic_input
from facenet_tf.evaluation import eval_lib
from facenet_tf.evaluation import lfw_protocol
from facenet_tf.evaluation import verification


def embed(embedder, images, batch_size=256):
  """Embeddings [N, D] of uint8/float images, in inference mode."""
  forward = tf.function(lambda x: embedder(x, training=False))
  return np.concatenate([
      forward(tf.cast(images[i:i + batch_size], tf.float32)).numpy()
      for i in range(0, len(images), batch_size)])


def _square(image_size):
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
  manifest_path = os.path.join(config.data.tfrecords.dir, "manifest.json")
  if not os.path.exists(manifest_path):
    return None
  with open(manifest_path, encoding="utf-8") as f:
    spec = json.load(f).get("alignment")
  return spec_lib.AlignmentSpec.from_dict(spec) if spec else None


def _needs_teacher_targets(config):
  """True when the loss distils; then the shards must carry targets."""
  if not config.loss.distill_weight:
    return False
  manifest_path = os.path.join(config.data.tfrecords.dir, "manifest.json")
  with open(manifest_path, encoding="utf-8") as f:
    counts = json.load(f).get("teacher_targets")
  if not counts or not counts["with"]:
    raise ValueError(
        f"loss.distill_weight > 0, but the shards in "
        f"{config.data.tfrecords.dir} carry no teacher targets: run "
        "data_pipelines.teacher_targets on the aligned trees, then rebuild "
        "the training tree and its shards.")
  return True


def train_iterator(config, strategy, image_size, start_step):
  """A distributed iterator of global P x K + R batches from `start_step`."""
  d = config.data
  if d.source == "synthetic":
    pool = synthetic_input.train_pool(d.synthetic, _square(image_size),
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
        teacher=_needs_teacher_targets(config))
  return iter(strategy.distribute_datasets_from_function(fn))


class SyntheticVerifier:
  """10-fold verification on held-out synthetic identities (LFW-style).

  The images and pairs are made once; each call embeds them with the
  current weights, so the same check runs during and after training.
  """

  def __init__(self, config, image_size):
    s = config.data.synthetic
    self.images, self.labels = synthetic_input.eval_set(
        s, _square(image_size), config.seed)
    self.pairs = verification.make_pairs(self.labels, 10,
                                         s.eval_pairs_per_fold,
                                         seed=config.seed)
    self.target_far = config.eval.target_far

  def __call__(self, embedder):
    """(verification.evaluate dict, embeddings, identity names)."""
    emb = embed(embedder, self.images)
    first, second, issame, folds = self.pairs
    dist = np.sum((emb[first] - emb[second]) ** 2, axis=1)  # squared L2, §3.1
    names = [synthetic_faces.identity_name(i) for i in self.labels]
    return (verification.evaluate(dist, issame, folds, self.target_far), emb,
            names)


class PairsVerifier:
  """Verification on an LFW-format pairs file (View 1 or View 2), §5.1.

  The images are seen as facenet-eval sees them: `config.eval.crop_fraction`
  if set, else (0) their alignment spec's (eval_lib.default_crop_fraction),
  rounded to the uint8 pixels the export takes, so the run's figures are
  facenet-eval's on its export.
  """

  def __init__(self, config, image_size):
    e = config.eval
    pairs = lfw_protocol.read_pairs(e.pairs, e.images_dir or None)
    self.paths, self.first, self.second, self.issame, fold = (
        lfw_protocol.pair_image_index(pairs))
    self.folds, _ = eval_lib.pair_folds(fold)
    self.image_size = image_size
    # The root read_pairs used: <root>/<name>/<file>.
    self.crop_fraction = e.crop_fraction or eval_lib.default_crop_fraction(
        os.path.dirname(os.path.dirname(self.paths[0])))
    self.eval = e

  def __call__(self, embedder):
    forward = tf.function(lambda x: embedder(tf.cast(x, tf.float32),
                                             training=False))
    emb = eval_lib.embed_files(
        lambda x: forward(eval_lib.to_uint8(x, embedder.channels)).numpy(),
        self.paths, self.image_size, self.crop_fraction, flip=self.eval.flip,
        progress=False)
    dist = np.sum((emb[self.first] - emb[self.second]) ** 2, axis=1)
    names = [os.path.basename(os.path.dirname(p)) for p in self.paths]
    return (verification.evaluate(dist, self.issame, self.folds,
                                  self.eval.target_far), emb, names)


def verifier(config, image_size):
  """The run's verification: held-out synthetic identities or a pairs file."""
  if config.data.source == "synthetic":
    return SyntheticVerifier(config, image_size)
  return PairsVerifier(config, image_size)
