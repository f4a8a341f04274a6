"""Paper Table 6 at small scale: accuracy against the amount of training data.

    python experiments/results/run_faces_sweep.py --experiment table6

trains on 25%, 50% and 100% of the CelebA identities (a seeded draw,
data_pipelines.training_tree --identity_fraction) for the same 400 steps as
faces_geometry (whose landmarks run is the 100% row), verified on LFW
pairsDevTest. The paper (FACTS.md, Table 6) varies 2.6M to 260M images at
a fixed model; here the images are 7k to 29k. Argument: `25`, `50` or
`100`, optionally `,smoke`.
"""
from experiments import faces_base
from experiments import faces_geometry

PERCENTS = ("25", "50", "100")


def shard_name(percent):
  return ("celeba_landmarks" if percent == "100"
          else f"celeba_landmarks_f{percent}")


def get_config(arg=None):
  percent, smoke = faces_base.config_lib.parse_arg(arg, PERCENTS, "100",
                                                  "PERCENT")
  c = faces_base.base(shard_name(percent), "landmarks", faces_geometry.STEPS,
                      smoke)
  return faces_base.config_lib.validate(c)
