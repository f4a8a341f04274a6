"""Paper §3.2 at small scale: batch composition, P identities x K faces + R.

The paper mines online in batches of ~1,800 faces, ~40 per identity, plus
random negatives, and notes that the batch size is bounded by the need to
find hard triplets in the batch; it reports no comparison. Five variants of
the base run of `lfw_ablation_base` (128-d, semi-hard), R = P x K / 4 random
negatives throughout (the base's ratio):

  | variant | P  | K | R  | batch | what changes |
  |---------|----|---|----|-------|--------------|
  | k2      | 64 | 2 | 32 | 160   | K at fixed P x K = 128 |
  | k4      | 32 | 4 | 32 | 160   | the base |
  | k8      | 16 | 8 | 32 | 160   | K at fixed P x K = 128 |
  | b64     | 16 | 4 | 16 | 80    | batch size at K = 4 |
  | b256    | 64 | 4 | 64 | 320   | batch size at K = 4 |

DevTrain has 1,184 people with >= 2 images but only 430 with >= 4 (and far
fewer with 8): under lfw_view1's `replace` policy a K = 8 group repeats a
person's few images (augmented differently), so k8 also tests how much
repeated positives are worth. Every variant trains the same number of
steps, so b256 sees 4 x the images of b64.

    facenet-train --config=experiments/ablate_batch.py:k8 \
        --workdir /tmp/facenet_ablations/batch/k8
    python experiments/results/run_ablation.py --experiment batch

`:smoke` (k4) or `:b256,smoke` shrinks the steps to seconds but keeps the
variant's P, K and R (the batch is what this ablation is about).

Expected: larger batches give more (semi-)hard triplets per step and the
better accuracy at a fixed step count; at a fixed P x K, more identities
(k2) gives more negatives and fewer positive pairs than k8. No paper number
to compare with. Measured: experiments/results/batch.md.
"""
import os
import sys

from facenet_tf import config as config_lib

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if _ROOT not in sys.path:  # config_flags loads this file by path
  sys.path.insert(0, _ROOT)
from experiments import lfw_ablation_base as base  # noqa: E402

# variant: (P, K); R = P * K // 4.
COMPOSITIONS = {"k2": (64, 2), "k4": (32, 4), "k8": (16, 8), "b64": (16, 4),
                "b256": (64, 4)}
VARIANTS = tuple(COMPOSITIONS)
DEFAULT = "k4"
PAPER = {}  # §3.2: ~1,800 per batch, ~40 per identity; no comparison


def get_config(arg=None):
  variant, smoke = config_lib.parse_arg(arg, VARIANTS, DEFAULT, "VARIANT")
  c = base.base_config(smoke)
  p, k = COMPOSITIONS[variant]
  c.data.p, c.data.k, c.data.r = p, k, p * k // 4
  return config_lib.validate(c)
