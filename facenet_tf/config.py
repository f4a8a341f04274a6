"""The built-in default experiment and config validation.

`get_config()` is the README's main job: the `tiny` model trained on
procedurally generated faces (no file, no download) with the paper's
semi-hard triplet loss and AdaGrad at 0.05, then verified on synthetic
identities it never saw. `get_config("smoke")` shrinks it to seconds.
Experiment files (`experiments/<name>.py`) start from this config and
override what their experiment changes; every `get_config(arg)` reads its
argument with `parse_arg` (`[CHOICE][,smoke]`).

    facenet-train --workdir /tmp/facenet_default
    # ~2 min on 2 CPU cores; held-out verification accuracy >= 0.95.
"""
import os

import ml_collections

from facenet_tf import losses
from facenet_tf import models

SOURCES = ("synthetic", "tfrecords")
MINING_SCOPES = ("global", "replica")
OPTIMIZERS = ("adagrad", "adam", "sgd")
SCHEDULES = ("constant", "cosine", "exponential", "piecewise")
# config.evals: each evaluator type and the arguments it takes (with their
# defaults), training/evaluators.py. `synthetic`: held-out synthetic
# identities (data.synthetic); `pairs`: an LFW-format pairs file, as
# config.eval's keys of the same names.
EVALUATORS = {
    "synthetic": {"target_far": 1e-3},
    "pairs": {"pairs": "", "images_dir": "", "crop_fraction": 0.0,
              "flip": False, "target_far": 1e-3},
}
VERIFICATION = "verification"  # config.eval's name among the evaluators


class ConfigError(ValueError):
  """A config that cannot describe a valid run."""


SMOKE = "smoke"


def parse_arg(arg, choices=(), default=None, what="CHOICE"):
  """(choice, smoke) of a config argument: the one grammar of every
  `get_config(arg)`, i.e. of the text after the colon of
  `--config=FILE:ARG`:

      ARG = "" | CHOICE | "smoke" | CHOICE ",smoke"

  CHOICE is one of `choices` (absent: `default`); `smoke` shrinks the same
  recipe to a run of seconds. Letter case and spaces count.

  Args:
    arg: the argument; None is "".
    choices: the accepted CHOICE strings; () accepts only "" and "smoke".
    default: the choice when none is given.
    what: what a CHOICE names, for the error message.

  Raises:
    ConfigError: any other argument, naming the grammar and the choices.
  """
  tokens = arg.split(",") if arg else []
  smoke = bool(tokens) and tokens[-1] == SMOKE
  if smoke:
    tokens.pop()
  if len(tokens) > 1 or (tokens and tokens[0] not in choices):
    expected = (f"{what}, {what},{SMOKE} or {SMOKE}, with {what} one of: "
                f"{', '.join(choices)} (default {default})" if choices else
                f"'' or '{SMOKE}'")
    raise ConfigError(f"Unknown config argument {arg!r}; expected {expected}.")
  return (tokens[0] if tokens else default), smoke


def global_batch(c):
  """Images per step over all replicas: data.p x data.k + data.r."""
  return c.data.p * c.data.k + c.data.r


def get_config(arg=None):
  _, smoke = parse_arg(arg)
  c = ml_collections.ConfigDict()
  c.seed = 0

  c.model = ml_collections.ConfigDict()
  c.model.name = "tiny"
  c.model.embedding_dim = 128            # paper §5.3 (Table 5)
  c.model.image_size = 0                 # 0: the architecture's own size
  c.model.weight_decay = 0.0
  c.model.dtype_policy = "float32"
  # Whole-global-batch BatchNorm statistics, so N replicas train exactly
  # like one device on the same global batch (and cost nothing on one).
  c.model.sync_batchnorm = True

  c.data = ml_collections.ConfigDict()
  c.data.source = "synthetic"
  # Paper §3.2: ~40 faces per identity and ~45 identities (~1,800) plus
  # random negatives; the demo uses a smaller P x K + R of the same shape.
  c.data.p = 32                          # identities per global batch
  c.data.k = 8                           # images per identity
  c.data.r = 16                          # random images of other identities
  c.data.synthetic = ml_collections.ConfigDict()
  c.data.synthetic.train_identities = 500
  c.data.synthetic.images_per_identity = 20
  c.data.synthetic.eval_identities = 100
  c.data.synthetic.eval_images_per_identity = 10
  c.data.synthetic.eval_pairs_per_fold = 150  # x 2 (same, different) x 10
  c.data.flip = True
  # data.source = "tfrecords": shards from data_pipelines.build_tfrecords.
  c.data.tfrecords = ml_collections.ConfigDict()
  c.data.tfrecords.dir = ""
  c.data.tfrecords.name = ""             # shard prefix, if dir holds several
  c.data.tfrecords.shuffle_buffer = 256  # identities
  c.data.tfrecords.min_images_policy = "exclude"  # or "replace" (pk_sampler)
  c.data.tfrecords.min_images = 0        # 0: the policy's default
  c.data.tfrecords.random_crop = True
  c.data.tfrecords.brightness_delta = 0.0
  c.data.tfrecords.contrast = 0.0
  c.data.tfrecords.jpeg_quality = ()     # (min, max): Table 4 jitter; (): off
  c.data.tfrecords.greyscale = 0.0       # probability of a grey crop

  # Verification during and after training. Synthetic data: held-out
  # synthetic identities. TFRecords: this LFW-format pairs file.
  c.eval = ml_collections.ConfigDict()
  c.eval.pairs = ""
  c.eval.images_dir = ""                 # "": images/ beside the pairs file
  # The central fraction of each side of an evaluation image the model sees;
  # 0: the alignment spec's (alignment_spec.json beside the pairs' images),
  # else 0.56 (eval_lib: the face of a raw 250 px LFW image).
  c.eval.crop_fraction = 0.0
  c.eval.flip = False
  c.eval.target_far = 1e-3               # paper §5.1: VAL at FAR = 1e-3
  # Validation pairs (people not trained on, never the test pairs) on which
  # the export's two thresholds are calibrated (evaluation/calibration.py);
  # "": the export carries no thresholds.
  c.eval.calibration_pairs = ""
  c.eval.calibration_images_dir = ""     # "": images/ beside the pairs file
  # More evaluators, run beside config.eval's verification every
  # train.eval_every steps and at the end (big_vision's config.evals;
  # training/evaluators.py): c.evals.<name> = dict(type=TYPE, **arguments),
  # TYPE and its arguments in EVALUATORS, e.g.
  #   c.evals.lfw_devtest = dict(type="pairs", pairs=".../pairsDevTest.txt")
  # Each reports <name>_accuracy, _val, _auc, ... (TensorBoard's eval/,
  # results.json). config.eval is the entry "verification".
  c.evals = ml_collections.ConfigDict()

  c.loss = ml_collections.ConfigDict()
  c.loss.mining = "semihard"             # paper §3.2
  c.loss.margin = 0.2                    # paper §3.1, alpha
  c.loss.metric = "squared_l2"
  c.loss.mining_scope = "global"
  # > 0: add this weight x a cosine-margin softmax over the training
  # identities (losses/cosine_softmax.py; not in the paper, for small data).
  c.loss.softmax_weight = 0.0
  c.loss.softmax_scale = 30.0
  c.loss.softmax_margin = 0.35
  # > 0 (with softmax_weight > 0): the first N steps train the softmax alone
  # (pre-training on the identities' labels), the rest the triplet loss
  # alone (fine-tuning, §3); 0: both losses on every step. It needs many
  # classes per batch (data.p = 144, data.k = 2 learns; p = 32 does not:
  # WORKSPACE_NOTES.md, #14 sessions 8-9).
  c.loss.softmax_pretrain_steps = 0
  # Learning from a teacher (losses/distillation.py): > 0 adds this weight x
  # a distillation loss to the teacher targets the shards carry
  # (data_pipelines/teacher_targets.py): 'cosine' (regress onto the
  # teacher's direction), 'relational' (match its distance matrix) or
  # 'harmonic' (§7: triplets mined across student and teacher embeddings).
  # triplet_weight scales the paper's triplet loss (0: distillation alone).
  c.loss.triplet_weight = 1.0
  c.loss.distill_weight = 0.0
  c.loss.distill_loss = "cosine"
  # True: the cosine and relational losses regress onto the teacher's
  # targets minus their training-set mean (the shards' manifest holds it):
  # dlib's descriptors share one direction, and raw targets let a student
  # collapse onto it (WORKSPACE_NOTES.md, #30). The harmonic loss keeps them
  # raw, as face_recognition stores them.
  c.loss.distill_center = True

  c.optimizer = ml_collections.ConfigDict()
  c.optimizer.name = "adagrad"           # paper §4: AdaGrad, lr 0.05
  c.optimizer.learning_rate = 0.05
  c.optimizer.momentum = 0.9             # sgd only
  c.optimizer.schedule = "constant"
  c.optimizer.warmup_steps = 0
  c.optimizer.decay_rate = 0.1           # exponential: factor per decay_steps
  c.optimizer.decay_steps = 0            # exponential; 0 = train.steps
  c.optimizer.boundaries = ()            # piecewise: steps where lr drops
  c.optimizer.learning_rates = ()                # piecewise: len(boundaries) + 1 lrs

  c.train = ml_collections.ConfigDict()
  c.train.steps = 600
  c.train.log_every = 25
  c.train.checkpoint_every = 200
  c.train.keep_checkpoints = 3
  c.train.eval_every = 200               # held-out verification; 0: end only
  c.train.jit_compile = False            # XLA's sort is slow on CPU (notes)
  # > 0: back-propagate the per-replica batch this many images at a time
  # through a gradient cache (training/grad_cache.py), for paper-size batches
  # on bounded memory; BatchNorm then uses per-chunk statistics. 0: off.
  c.train.grad_cache_chunk = 0
  # > 0: the per-device memory (GiB) a replica may use; the chunk above is
  # then derived from it (training/memory_budget.py), 0 if the batch fits.
  c.train.memory_budget_gb = 0.0
  c.train.projector_samples = 500

  c.export = ml_collections.ConfigDict()
  c.export.enabled = True

  if smoke:
    c.data.p, c.data.k, c.data.r = 8, 4, 4
    c.data.synthetic.train_identities = 40
    c.data.synthetic.images_per_identity = 6
    c.data.synthetic.eval_identities = 20
    c.data.synthetic.eval_images_per_identity = 4
    c.data.synthetic.eval_pairs_per_fold = 10
    c.train.steps = 20
    c.train.log_every = 5
    c.train.checkpoint_every = 10
    c.train.eval_every = 10
    c.train.projector_samples = 40
  validate(c)
  return c


def _check(ok, message):
  if not ok:
    raise ConfigError(message)


def _one_of(value, allowed, what):
  _check(value in allowed, f"Unknown {what} {value!r}; expected one of: "
         f"{', '.join(allowed)}.")


def validate(c, check_paths=True):
  """Raises ConfigError on a config that cannot run; returns it otherwise.

  `check_paths=False` leaves out whether the training data exist: a
  finished run's config rebuilds its model (evaluate, export) on a
  machine without them.
  """
  _one_of(c.model.name, models.names(), "model")
  _one_of(c.data.source, SOURCES, "data.source")
  _one_of(c.loss.mining, sorted(losses.MINERS), "loss.mining")
  _one_of(c.loss.metric, losses.METRICS, "loss.metric")
  _one_of(c.loss.mining_scope, MINING_SCOPES, "loss.mining_scope")
  _one_of(c.optimizer.name, OPTIMIZERS, "optimizer.name")
  _one_of(c.optimizer.schedule, SCHEDULES, "optimizer.schedule")
  # A triplet needs an anchor, a positive (K >= 2) and a negative (P >= 2).
  _check(c.data.p >= 2 and c.data.k >= 2,
         f"A batch needs at least 2 identities x 2 images to form a triplet; "
         f"got data.p={c.data.p}, data.k={c.data.k}.")
  _check(c.data.r >= 0, f"data.r must be >= 0, got {c.data.r}.")
  _check(c.model.embedding_dim >= 1, "model.embedding_dim must be >= 1.")
  _check(c.loss.margin >= 0, f"loss.margin must be >= 0, got {c.loss.margin}.")
  _check(c.loss.softmax_weight >= 0 and c.loss.softmax_scale > 0
         and c.loss.softmax_margin >= 0,
         "loss.softmax_weight and loss.softmax_margin must be >= 0 and "
         "loss.softmax_scale > 0.")
  _one_of(c.loss.distill_loss, losses.DISTILL_LOSSES, "loss.distill_loss")
  _check(c.loss.triplet_weight >= 0 and c.loss.distill_weight >= 0 and (
      c.loss.triplet_weight or c.loss.distill_weight or c.loss.softmax_weight),
         "loss.triplet_weight and loss.distill_weight must be >= 0, and some "
         "loss must have a weight > 0.")
  _check(c.loss.distill_weight == 0 or c.data.source == "tfrecords",
         "loss.distill_weight > 0 needs data.source = 'tfrecords' (shards "
         "that carry teacher targets).")
  _check(c.loss.softmax_weight == 0 or c.train.grad_cache_chunk == 0,
         "loss.softmax_weight > 0 does not work with train.grad_cache_chunk.")
  _check(c.loss.softmax_pretrain_steps == 0 or (
      c.loss.softmax_weight > 0
      and 0 < c.loss.softmax_pretrain_steps < c.train.steps),
         f"loss.softmax_pretrain_steps ({c.loss.softmax_pretrain_steps}) "
         f"needs loss.softmax_weight > 0 and must lie in 0..train.steps "
         f"({c.train.steps}), exclusive; 0 = off.")
  _check(c.train.memory_budget_gb >= 0 and not (
      c.train.memory_budget_gb and c.train.grad_cache_chunk),
         "train.memory_budget_gb must be >= 0, and set instead of "
         "train.grad_cache_chunk (the budget derives the chunk), not beside it.")
  _check(c.optimizer.learning_rate > 0, "optimizer.learning_rate must be > 0.")
  _check(c.optimizer.warmup_steps == 0 or c.optimizer.schedule == "cosine",
         "optimizer.warmup_steps works with the 'cosine' schedule only.")
  if c.optimizer.schedule == "piecewise":
    _check(len(c.optimizer.boundaries) >= 1 and len(c.optimizer.learning_rates) ==
           len(c.optimizer.boundaries) + 1,
           "A piecewise schedule needs optimizer.boundaries and "
           "len(boundaries) + 1 optimizer.learning_rates.")
  _check(c.train.steps >= 1, f"train.steps must be >= 1, got {c.train.steps}.")
  _check(c.train.log_every >= 1 and c.train.checkpoint_every >= 1,
         "train.log_every and train.checkpoint_every must be >= 1.")
  _check(c.train.eval_every >= 0, "train.eval_every must be >= 0.")
  _check(0 <= c.eval.crop_fraction <= 1,
         f"eval.crop_fraction must be in (0, 1], or 0 for the alignment "
         f"spec's; got {c.eval.crop_fraction}.")
  for name, spec in (c.get("evals") or {}).items():
    _validate_evaluator(name, spec)
  batch = global_batch(c)
  chunk = c.train.grad_cache_chunk
  # Each replica's share must split too: validate_for_replicas, once the
  # strategy is known.
  _check(chunk == 0 or (chunk > 0 and batch % chunk == 0),
         f"train.grad_cache_chunk ({chunk}) must be 0 (off) or divide the "
         f"batch data.p * data.k + data.r ({batch}).")
  if c.data.source == "synthetic":
    s = c.data.synthetic
    _check(s.train_identities >= c.data.p + c.data.r,
           f"data.synthetic.train_identities ({s.train_identities}) must be "
           f">= data.p + data.r ({c.data.p + c.data.r}): every batch draws "
           "distinct identities.")
    _check(s.images_per_identity >= c.data.k,
           f"data.synthetic.images_per_identity ({s.images_per_identity}) "
           f"must be >= data.k ({c.data.k}).")
    _check(s.eval_identities >= 2 and s.eval_images_per_identity >= 2,
           "Verification needs >= 2 eval identities with >= 2 images each.")
    # A synthetic run ignores these: say so rather than train on the wrong
    # data (a :smoke recipe trains on synthetic faces unless told).
    for key, value in (("data.tfrecords.dir", c.data.tfrecords.dir),
                       ("eval.pairs", c.eval.pairs)):
      _check(not value, f"{key} is set ({value!r}) but data.source is "
             "'synthetic', which ignores it: add "
             "--config.data.source=tfrecords to train and verify on files.")
  elif check_paths:
    _check(bool(c.data.tfrecords.dir) and os.path.isdir(c.data.tfrecords.dir),
           f"data.tfrecords.dir {c.data.tfrecords.dir!r} is not a directory "
           "of shards (write them with python -m data_pipelines.build_tfrecords).")
    _check(bool(c.eval.pairs) and os.path.isfile(c.eval.pairs),
           f"eval.pairs {c.eval.pairs!r} is not a file: training on TFRecords "
           "verifies on an LFW-format pairs file.")
  return c


def _validate_evaluator(name, spec):
  """Raises ConfigError on a config.evals entry that cannot run."""
  where = f"evals.{name}"
  _check(name != VERIFICATION, f"{where}: the name {VERIFICATION!r} is "
         "config.eval's; choose another.")
  _check("type" in spec, f"{where} needs a type: one of "
         f"{', '.join(EVALUATORS)}.")
  _one_of(spec["type"], tuple(EVALUATORS), f"{where}.type")
  unknown = sorted(set(spec) - {"type"} - set(EVALUATORS[spec["type"]]))
  _check(not unknown, f"{where}: unknown arguments {', '.join(unknown)} of a "
         f"{spec['type']!r} evaluator; it takes "
         f"{', '.join(EVALUATORS[spec['type']])}.")
  _check(0 < spec.get("target_far", 1e-3) < 1,
         f"{where}.target_far must be in (0, 1).")
  if spec["type"] == "pairs":
    _check(os.path.isfile(spec.get("pairs", "")),
           f"{where}.pairs {spec.get('pairs', '')!r} is not a file: a "
           "'pairs' evaluator scores an LFW-format pairs file.")
    _check(0 <= spec.get("crop_fraction", 0.0) <= 1,
           f"{where}.crop_fraction must be in (0, 1], or 0 for the "
           "alignment spec's.")


def validate_for_replicas(c, replicas):
  """Raises ConfigError if the batch does not split over `replicas`.

  Called once the strategy exists, before any dataset or step is built, so
  that a bad split is a message, not a traceback at trace time. Each
  replica takes whole identities (data.p / N of the P x K images and
  data.r / N random negatives: pk_sampler), and the gradient cache cuts
  each replica's share into train.grad_cache_chunk pieces."""
  _check(c.data.p % replicas == 0 and c.data.r % replicas == 0,
         f"data.p ({c.data.p}) and data.r ({c.data.r}) must be divisible by "
         f"the {replicas} replicas, so that each takes whole identities.")
  per_replica = global_batch(c) // replicas
  chunk = c.train.grad_cache_chunk
  if chunk and per_replica % chunk:
    suggestion = max(d for d in range(1, min(per_replica, chunk) + 1)
                     if per_replica % d == 0)
    raise ConfigError(
        f"train.grad_cache_chunk ({chunk}) must divide the per-replica batch "
        f"(data.p * data.k + data.r) / {replicas} replicas = {per_replica}: "
        f"e.g. {suggestion}.")
  return c
