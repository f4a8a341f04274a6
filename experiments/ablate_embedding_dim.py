"""Paper Table 5 at small scale: embedding dimensionality on LFW View 1.

The `tiny` model of `lfw_ablation_base` with a 64-, 128-, 256- or 512-d
embedding (`model.embedding_dim`), everything else fixed (semi-hard mining,
P x K + R = 32 x 4 + 32). The argument picks the variant:

    facenet-train --config=experiments/ablate_embedding_dim.py:64 \
        --workdir /tmp/facenet_ablations/embedding_dim/64
    python experiments/results/run_ablation.py --experiment embedding_dim

`:smoke` (128-d) or `:256,smoke` shrinks a run to seconds.

Expected: the paper (NN1, VAL at FAR 1e-3 on its hold-out set) finds the
four sizes within its standard errors (85.6-87.9%) and keeps 128. Here the
differences should be as small: 1,000 pairsDevTest pairs give a 10-fold
accuracy std of ~3 points, so only a gap of several points would mean
anything. Measured: experiments/results/embedding_dim.md.
"""
import os
import sys

from facenet_tf import config as config_lib

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if _ROOT not in sys.path:  # config_flags loads this file by path
  sys.path.insert(0, _ROOT)
from experiments import lfw_ablation_base as base  # noqa: E402

VARIANTS = ("64", "128", "256", "512")
DEFAULT = "128"  # paper §5.3: 128 is used everywhere else
# Paper Table 5 (NN1, hold-out set, VAL at 1e-3, ± SE over 5 splits).
PAPER = {"64": "86.8% ± 1.7", "128": "87.9% ± 1.9", "256": "87.7% ± 1.9",
         "512": "85.6% ± 2.0"}


def get_config(arg=None):
  variant, smoke = config_lib.parse_arg(arg, VARIANTS, DEFAULT, "VARIANT")
  c = base.base_config(smoke)
  c.model.embedding_dim = int(variant)
  return config_lib.validate(c)
