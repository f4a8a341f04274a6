"""What the small-scale LFW View 1 ablations share (issue #9).

Every `experiments/ablate_*.py` starts from `base_config()`: the data,
evaluation and optimiser of `experiments/lfw_view1.py` (train on the
peopleDevTrain identities, verify on pairsDevTest), shrunk to the `tiny`
model at 64 px so that one variant trains in minutes on 2 CPU cores. The
sizes are the module constants below, kept here only, so that tuning them
retunes every ablation at once.

An ablation's argument is `VARIANT`, `VARIANT,smoke` or `smoke` (the
ablation's default variant; config.parse_arg), e.g.

    facenet-train --config=experiments/ablate_mining.py:batch_all,smoke \
        --workdir /tmp/ablate_smoke

`experiments/results/run_ablation.py` runs a whole sweep and writes its
table and plot.
"""
from facenet_tf import config as config_lib

from experiments import lfw_view1

MODEL = "tiny"
IMAGE_SIZE = 64          # tiny's own input size: 4,096 pixels
STEPS = 600
# Paper §3.2 takes ~40 faces of ~45 identities plus random negatives; DevTrain
# has only 430 people with >= 4 images, so K = 4 (lfw_view1's choice).
P, K, R = 32, 4, 32
EVAL_EVERY = STEPS // 4  # four points on each accuracy-vs-step curve
LOG_EVERY = 25           # training scalars (loss, active fraction, d_an...)
# lfw_view1 warms Adam up for 200 of 4,000-12,000 steps; 1/20 of this run.
WARMUP_STEPS = STEPS // 20

# `smoke`: a run of seconds that still logs, checkpoints and evaluates twice.
SMOKE_STEPS = 10
SMOKE_P, SMOKE_K, SMOKE_R = 8, 4, 8



def base_config(smoke=False):
  """lfw_view1's config at the ablations' scale (validated).

  Args:
    smoke: shrink the run to SMOKE_STEPS steps of a SMOKE_P x SMOKE_K +
      SMOKE_R batch.

  Returns:
    An ml_collections.ConfigDict that each ablation changes in one place.
  """
  c = lfw_view1.get_config()
  c.model.name = MODEL
  c.model.image_size = IMAGE_SIZE
  c.data.p, c.data.k, c.data.r = P, K, R
  c.optimizer.warmup_steps = WARMUP_STEPS
  c.train.steps = STEPS
  c.train.log_every = LOG_EVERY
  c.train.eval_every = EVAL_EVERY
  c.train.checkpoint_every = STEPS
  # The ablations compare workdirs' results.json and event files; the
  # SavedModel of each variant would only fill the disk.
  c.export.enabled = False
  if smoke:
    c.data.p, c.data.k, c.data.r = SMOKE_P, SMOKE_K, SMOKE_R
    c.optimizer.warmup_steps = 2
    c.train.steps = c.train.checkpoint_every = SMOKE_STEPS
    c.train.log_every = c.train.eval_every = SMOKE_STEPS // 2
    c.train.projector_samples = 40
  return config_lib.validate(c)
