"""Harmonic embeddings (arXiv v3 §7) on LFW View 1: a v2 comparable with v1.

§7 takes v1 = NN1 and v2 = NN2. Here v1 is the `tiny` model of the
embedding-size ablation and v2 starts from the main LFW View 1 run, a
`resnet_small` (another architecture, both 64 px, both 128-d). The recipe
(training/harmonic_lib.py): re-initialise v2's embedding layer, train it
alone with the harmonic triplet loss (phase 1), then the whole network
(phase 2), on peopleDevTrain (the data of experiments/lfw_view1.py), and
verify on pairsDevTest in the three modes of §7 Fig. 8.

    # v1 (the 128-d variant of the embedding-size ablation):
    facenet-train --config=experiments/ablate_embedding_dim.py:128 \
        --workdir /tmp/facenet_ablations/embedding_dim/128
    # v2's start: the main LFW run, in /tmp/lfw_view1_best (INIT_WORKDIR).
    # The recipe; results.json holds v1_v1, v2_v2, v1_v2 and
    # baseline_v1_init (the start model against v1, the incompatible
    # baseline):
    facenet-train --config=experiments/harmonic_lfw.py \
        --workdir /tmp/facenet_harmonic/lfw
    # Fig. 8's three ROC curves, and the baseline's:
    facenet-eval --workdir /tmp/facenet_harmonic/lfw \
        --v1_workdir /tmp/facenet_ablations/embedding_dim/128 \
        --pairs ../shared/data/lfw/pairsDevTest.txt --crop_fraction 0.55 \
        --output_dir /tmp/facenet_harmonic/lfw/eval --json
    facenet-eval --workdir /tmp/lfw_view1_best \
        --v1_workdir /tmp/facenet_ablations/embedding_dim/128 \
        --pairs ../shared/data/lfw/pairsDevTest.txt --crop_fraction 0.55 \
        --output_dir /tmp/facenet_harmonic/baseline --json

Other models: `--config.harmonic.v1_workdir=DIR --config.harmonic.
init_workdir=DIR` (equal embedding sizes). The `model` section is the init
workdir's, and train.steps is phase1_steps + phase2_steps.

`:smoke` is a run of seconds on the built-in synthetic faces, for two
workdirs trained with `facenet_tf/config.py:smoke` (different seeds):

    facenet-train --config=facenet_tf/config.py:smoke --workdir /tmp/h_v1
    facenet-train --config=facenet_tf/config.py:smoke --config.seed=1 \
        --workdir /tmp/h_init
    facenet-train --config=experiments/harmonic_lfw.py:smoke \
        --config.harmonic.v1_workdir=/tmp/h_v1 \
        --config.harmonic.init_workdir=/tmp/h_init --workdir /tmp/h_v2
"""
import os
import sys

from facenet_tf import config as config_lib
from facenet_tf.training import harmonic_lib

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if _ROOT not in sys.path:  # config_flags loads this file by path
  sys.path.insert(0, _ROOT)
from experiments import lfw_view1  # noqa: E402

V1_WORKDIR = "/tmp/facenet_ablations/embedding_dim/128"
INIT_WORKDIR = "/tmp/lfw_view1_best"
PHASE1_STEPS = 300
PHASE2_STEPS = 600
# A fresh layer learns at Adam's usual rate; the trained backbone moves ten
# times slower, so that phase 2 adapts it to v1 without forgetting LFW.
PHASE1_LEARNING_RATE = 1e-3
PHASE2_LEARNING_RATE = 1e-4


def get_config(arg=None):
  _, smoke = config_lib.parse_arg(arg)
  if smoke:
    c = config_lib.get_config("smoke")
    c.harmonic = harmonic_lib.default_section()
    c.harmonic.phase1_steps = c.harmonic.phase2_steps = 3
    c.train.log_every = 1
  else:
    c = lfw_view1.get_config()
    c.harmonic = harmonic_lib.default_section()
    c.harmonic.v1_workdir = V1_WORKDIR
    c.harmonic.init_workdir = INIT_WORKDIR
    c.harmonic.phase1_steps = PHASE1_STEPS
    c.harmonic.phase2_steps = PHASE2_STEPS
    c.harmonic.phase1_learning_rate = PHASE1_LEARNING_RATE
    c.optimizer.learning_rate = PHASE2_LEARNING_RATE
    # Each phase is short: no warm-up, a cosine decay over the phase.
    c.optimizer.warmup_steps = 0
    c.train.log_every = 25
    c.train.checkpoint_every = 150
    c.train.eval_every = 300
  c.train.steps = c.harmonic.phase1_steps + c.harmonic.phase2_steps
  return config_lib.validate(c)
