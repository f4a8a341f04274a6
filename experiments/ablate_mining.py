"""Paper §3.2 at small scale: how the negatives of each triplet are chosen.

The base run of `lfw_ablation_base` (128-d, P x K + R = 32 x 4 + 32) with
`loss.mining` set to one of (every anchor-positive pair is used, §3.2):

  * `semihard`: the paper's choice, d(a,p) < d(a,n) < d(a,p) + alpha (Eq. 4);
  * `hardest_negative`: argmin d(a,n), the choice §3.2 says leads to bad
    local minima early in training, "a collapsed model (f(x) = 0)";
  * `batch_all`: every (a, p, n) with d(a,n) < d(a,p) + alpha, the mean
    hinge over those active triplets;
  * `random`: a random negative, the no-mining control.

    facenet-train --config=experiments/ablate_mining.py:hardest_negative \
        --workdir /tmp/facenet_ablations/mining/hardest_negative
    python experiments/results/run_ablation.py --experiment mining

`:smoke` (semihard) or `:random,smoke` shrinks a run to seconds.

Expected: the paper gives no numbers, only the collapse. Its signature in
the 2 x 2 plot of run_ablation (mining.png): mean d(a,n) and d(a,p) falling
together towards 0 (every face mapped close to one point of the unit
sphere, the L2-normalised form of f(x) = 0), the loss near alpha, the active
triplet fraction stuck near 1 and verification accuracy near chance (0.5),
while semihard's d(a,n) stays well above its d(a,p). Measured:
experiments/results/mining.md.
"""
import os
import sys

from facenet_tf import config as config_lib

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if _ROOT not in sys.path:  # config_flags loads this file by path
  sys.path.insert(0, _ROOT)
from experiments import lfw_ablation_base as base  # noqa: E402

VARIANTS = ("semihard", "hardest_negative", "batch_all", "random")
DEFAULT = "semihard"  # paper §3.2
PAPER = {}  # §3.2 reports no figure for any of them


def get_config(arg=None):
  variant, smoke = config_lib.parse_arg(arg, VARIANTS, DEFAULT, "VARIANT")
  c = base.base_config(smoke)
  c.loss.mining = variant
  return config_lib.validate(c)
