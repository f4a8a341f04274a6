"""The two alignment geometries under one budget (issue #14 item 1).

    python experiments/results/run_faces_sweep.py --experiment geometry

trains `experiments/faces_geometry.py:landmarks` and `:box`: CelebA only,
aligned with that geometry, 400 steps of 288 images (about 7 CPU minutes
alone), verified on LFW pairsDevTest aligned the same way. Everything but
the alignment is faces_base's recipe. The table: experiments/results/
geometry.md; the better geometry is data_pipelines.align's default.
"""
from experiments import faces_base

STEPS = 400


def get_config(arg=None):
  geometry, smoke = faces_base.config_lib.parse_arg(
      arg, faces_base.GEOMETRIES, "landmarks", "GEOMETRY")
  c = faces_base.base(f"celeba_{geometry}", geometry, STEPS, smoke)
  return faces_base.config_lib.validate(c)
