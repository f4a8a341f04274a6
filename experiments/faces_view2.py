"""LFW View 2 by the paper's protocol for outside data: train on CelebA only.

    python experiments/prepare_faces.py            # data, once (faces_base)
    facenet-train --config=experiments/faces_view2.py --workdir /tmp/faces_view2
    facenet-eval --workdir /tmp/faces_view2 \
        --pairs ../shared/data/lfw/pairs.txt \
        --images_dir /tmp/facenet_faces/aligned/lfw_landmarks --flip

No LFW person is trained on, so all 6,000 pairs of pairs.txt are a test:
10-fold accuracy (thresholds from the other 9 folds), VAL@FAR=1e-3 and AUC.
Verification during training uses pairsDevTest; the export's thresholds are
calibrated on pairsDevTrain (validation pairs; LFW people this model never
saw). This is the reference model's recipe. Argument: the geometry
(`landmarks` default, `box`), optionally `,smoke`.
Result and curve: WORKSPACE_NOTES.md (#14).
"""
from experiments import faces_base

STEPS = 1800


def get_config(arg=None):
  geometry, smoke = faces_base.config_lib.parse_arg(
      arg, faces_base.GEOMETRIES, "landmarks", "GEOMETRY")
  c = faces_base.base(f"celeba_{geometry}", geometry, STEPS, smoke)
  c.eval.calibration_pairs = faces_base.lfw_file("pairsDevTrain.txt")
  c.eval.calibration_images_dir = c.eval.images_dir
  return faces_base.config_lib.validate(c)
