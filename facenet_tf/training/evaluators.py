"""A run's evaluators, chosen by the config (big_vision's `config.evals`).

    evaluators.specs(config)              {name: spec}, "verification" first
    evaluators.build(config, image_size)  {name: evaluator}

  synthetic  held-out synthetic identities (data.synthetic), LFW-style pairs
  pairs      an LFW-format pairs file, through the pairs evaluator
             (evaluation/pairs_evaluator.py)

config.eval is translated here, and only here, into the entry
"verification" (held-out synthetic identities when data.source is
synthetic, else its pairs file); config.evals adds more (config.EVALUATORS
lists their types and arguments). An evaluator, called with a Keras
embedder, returns (verification.evaluate dict, embeddings, identity names);
its `embed` and `pairs` serve the harmonic evaluation (harmonic_eval.py).
"""
import numpy as np
import tensorflow as tf

from facenet_tf import config as config_lib
from facenet_tf.data import synthetic_faces
from facenet_tf.data import synthetic_input
from facenet_tf.evaluation import eval_lib
from facenet_tf.evaluation import pairs_evaluator
from facenet_tf.evaluation import verification
from facenet_tf.training import inputs

# What results.json and TensorBoard's eval/ keep of each evaluator's result,
# as <name>_<key>.
RESULT_KEYS = ("accuracy", "accuracy_std", "val", "far", "auc")
SCALAR_KEYS = ("accuracy", "accuracy_std", "val", "auc", "eer")


class SyntheticVerifier:
  """10-fold verification on held-out synthetic identities (LFW-style).

  The images and pairs are made once; each call embeds them with the
  current weights, so the same check runs during and after training.
  """

  def __init__(self, config, spec, image_size):
    s = config.data.synthetic
    self.images, labels = synthetic_input.eval_set(
        s, inputs.square_size(image_size), config.seed)
    self.pairs = verification.make_pairs(labels, 10, s.eval_pairs_per_fold,
                                         seed=config.seed)
    self.names = [synthetic_faces.identity_name(i) for i in labels]
    self.target_far = spec["target_far"]

  def embed(self, embedder, batch_size=256):
    """Embeddings [N, D] of the images, in inference mode."""
    forward = tf.function(lambda x: embedder(x, training=False))
    return np.concatenate([
        forward(tf.cast(self.images[i:i + batch_size], tf.float32)).numpy()
        for i in range(0, len(self.images), batch_size)])

  def __call__(self, embedder):
    emb = self.embed(embedder)
    first, second, issame, folds = self.pairs
    dist = np.sum((emb[first] - emb[second]) ** 2, axis=1)  # squared L2, §3.1
    return (verification.evaluate(dist, issame, folds, self.target_far), emb,
            self.names)


class PairsVerifier:
  """An LFW-format pairs file (View 1 or View 2), §5.1, scored by the pairs
  evaluator as facenet-eval scores it.

  The images are seen through the spec's `crop_fraction` if set, else (0)
  their alignment spec's (eval_lib.default_crop_fraction), and the model is
  fed the uint8 pixels its export takes (eval_lib.of_keras), so the run's
  figures are facenet-eval's on its export. Each model is embedded at its
  own input size.
  """

  def __init__(self, config, spec, image_size):
    del config, image_size  # the pairs file is all it reads
    self.evaluator = pairs_evaluator.PairsEvaluator(
        spec["pairs"], spec["images_dir"] or None,
        target_far=spec["target_far"],
        crop_fraction=spec["crop_fraction"] or None, flip=spec["flip"],
        progress=False)
    e = self.evaluator
    e.check_folds()
    self.pairs = (e.first, e.second, e.issame, e.folds)
    self.names = e.names

  def embed(self, embedder):
    return self.evaluator.embed(eval_lib.of_keras(embedder, "training"))

  def __call__(self, embedder):
    emb = self.embed(embedder)
    return self.evaluator.score(emb), emb, self.names


TYPES = {"synthetic": SyntheticVerifier, "pairs": PairsVerifier}


def specs(config):
  """{name: spec dict}: config.eval as "verification", then config.evals
  with each type's default arguments filled in."""
  e = config.eval
  if config.data.source == "synthetic":
    verification_spec = {"type": "synthetic", "target_far": e.target_far}
  else:
    verification_spec = {"type": "pairs", "pairs": e.pairs,
                         "images_dir": e.images_dir,
                         "crop_fraction": e.crop_fraction, "flip": e.flip,
                         "target_far": e.target_far}
  out = {config_lib.VERIFICATION: verification_spec}
  for name, spec in (config.get("evals") or {}).items():
    spec = dict(spec.items())
    out[name] = {**config_lib.EVALUATORS[spec["type"]], **spec}
  return out


def build(config, image_size, names=None):
  """{name: evaluator} of `specs(config)`: all, or those in `names`."""
  return {name: TYPES[spec["type"]](config, spec, image_size)
          for name, spec in specs(config).items()
          if names is None or name in names}


def check(config):
  """Raises ConfigError, naming the config key, if a pairs file of the run's
  evaluators cannot be scored: malformed, images missing, or too small for
  10-fold verification. Called before anything is built or trained, so a
  bad file is a one-line refusal at start-up, not a traceback after
  training. (Synthetic evaluators have nothing to check.)"""
  for name, spec in specs(config).items():
    if spec["type"] != "pairs":
      continue
    key = "eval.pairs" if name == config_lib.VERIFICATION else (
        f"evals.{name}.pairs")
    try:
      PairsVerifier(config, spec, None)
    except (eval_lib.InputError, FileNotFoundError) as error:
      raise config_lib.ConfigError(f"{key}: {error}") from None


def verifier(config, image_size):
  """The run's own verification: config.eval's evaluator."""
  name = config_lib.VERIFICATION
  return build(config, image_size, [name])[name]


def summary(results):
  """results.json's <name>_<key> of {name: verification.evaluate dict}."""
  return {f"{name}_{key}": result[key]
          for name, result in results.items() for key in RESULT_KEYS}
