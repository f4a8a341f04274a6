"""Paper Table 4 at small scale: verification of degraded images.

Evaluation only. `get_config` returns the training config of the model
that is evaluated, the base run of `lfw_ablation_base` (`tiny` at 64 x 64,
128-d, semi-hard); run_ablation trains it once and then verifies
pairsDevTest with every evaluation crop (the 64 x 64 image the model sees)
re-encoded as a JPEG of quality Q (JPEG_QUALITIES), or reduced to N pixels
(PIXELS) and resized back (eval_input.degrade):

    facenet-train --config=experiments/ablate_image_quality.py \
        --workdir /tmp/facenet_ablations/image_quality/base
    python experiments/results/run_ablation.py --experiment image_quality

`:smoke` (or `:base,smoke`) shrinks the training to seconds.

The grid is the paper's (NN1, trained at 220 x 220, VAL at FAR 1e-3 on the
first hold-out split): PIXELS are 40², 80², 120², 160² and 256². This model
takes 64 x 64 = 4,096 pixels, so only 1,600 loses information: a pixel
count above the input size would mean upsampling, and the crop is left
as it is, i.e. those rows repeat the undegraded reference; the grid is kept
to sit beside the paper's, and the paper's sides scaled to 64 px (144,
529, 1,225, 2,209 pixels) are added. With 1,000 pairs (100 different pairs per fold)
VAL at 1e-3 means zero false accepts on a test fold, a coarse figure, so
the tables give accuracy beside it.

Expected: as in the paper, robust down to JPEG quality ~20 and a drop at
1,600 pixels (40 x 40). Measured: experiments/results/image_quality.md.
"""
import os
import sys

from facenet_tf import config as config_lib
from facenet_tf import workdir as workdir_lib
from facenet_tf.evaluation import eval_lib
from facenet_tf.evaluation import pairs_evaluator

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if _ROOT not in sys.path:  # config_flags loads this file by path
  sys.path.insert(0, _ROOT)
from experiments import lfw_ablation_base as base  # noqa: E402

VARIANTS = ("base",)  # one trained model; the evaluations are below
DEFAULT = "base"
PAPER = {}  # the trained model's own row; Table 4's figures are below
JPEG_QUALITIES = (10, 20, 30, 50, 70, 90)
# The paper's grid, plus the same sides relative to the training size (40,
# 80, 120, 160 of NN1's 220 px -> 12, 23, 35, 47 of our 64 px), which are
# the ones that degrade this model.
PIXELS = (144, 529, 1225, 1600, 2209, 6400, 14400, 25600, 65536)
# Paper Table 4 (NN1, first hold-out split, VAL at 1e-3).
PAPER_JPEG = {10: "67.3%", 20: "81.4%", 30: "83.9%", 50: "85.5%",
              70: "86.1%", 90: "86.5%"}
PAPER_PIXELS = {1600: "37.8%", 6400: "79.5%", 14400: "84.5%",
                25600: "85.7%", 65536: "86.4%"}
# Evaluation name prefix -> pairs_evaluator.PairsEvaluator keyword.
DEGRADATIONS = {"jpeg": "jpeg_quality", "pixels": "degrade_pixels"}


def eval_variants():
  """Names of the evaluations: jpegQ and pixelsN (run_ablation --variants)."""
  return (tuple(f"jpeg{q}" for q in JPEG_QUALITIES)
          + tuple(f"pixels{n}" for n in PIXELS))


def get_config(arg=None):
  variant, smoke = config_lib.parse_arg(arg, VARIANTS, DEFAULT, "VARIANT")
  del variant  # the only one
  return base.base_config(smoke)


def evaluate(workdir, names):
  """Metrics of the model in `workdir` on degraded copies of its pairs.

  Args:
    workdir: a finished training workdir (config.json, checkpoints).
    names: evaluations from eval_variants(): jpegQ re-encodes every
      evaluation crop as a JPEG of quality Q, pixelsN reduces it to N pixels
      and resizes it back (eval_input.degrade).

  Returns:
    {"reference": metrics of the undegraded images, "jpeg": {Q: metrics},
    "pixels": {N: metrics}}; metrics: accuracy, accuracy_std, val, far, auc.
  """
  config = workdir_lib.load_config(workdir)
  embedder = eval_lib.load_embedder(workdir=workdir)
  out = {"jpeg": {}, "pixels": {}}
  for name in ["reference", *names]:
    prefix = name.rstrip("0123456789")
    value = int(name[len(prefix):] or 0)
    result = pairs_evaluator.PairsEvaluator(
        config.eval.pairs, config.eval.images_dir or None,
        target_far=config.eval.target_far,
        crop_fraction=config.eval.crop_fraction or None, progress=False,
        **({DEGRADATIONS[prefix]: value} if value else {})).evaluate(embedder)
    metrics = {k: result[k] for k in ("accuracy", "accuracy_std", "val",
                                      "far", "auc")}
    if value:
      out[prefix][value] = metrics
    else:
      out[name] = metrics
    print(f"{name}: accuracy {metrics['accuracy']:.3f}", flush=True)
  return out
