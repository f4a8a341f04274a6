"""LFW View 1 with outside data: LFW peopleDevTrain + CelebA, test pairsDevTest.

    python experiments/prepare_faces.py            # data, once (faces_base)
    facenet-train --config=experiments/faces_view1.py --workdir /tmp/faces_view1
    facenet-eval --workdir /tmp/faces_view1 \
        --pairs ../shared/data/lfw/pairsDevTest.txt \
        --images_dir /tmp/facenet_faces/aligned/lfw_landmarks --flip

The argument picks the geometry (`landmarks`, the default, or `box`) and
`smoke` shrinks the run to seconds. DevTrain and DevTest share no person
(LFW README); CelebA's identities are not LFW's (its authors).

The shared recipe with `resnet_small_flat`: the embedding layer sees the
whole 4x4 map of the aligned face instead of its average (ArcFace's output
"E"). 2,100 steps of 288 images: 32-33 minutes alone on the 2-core machine
at 250-330 img/s (a host half as fast needs ~60). Expected (session 10,
two runs): pairsDevTest 0.923-0.943 with --flip, AUC 0.982-0.984
(resnet_small, the same schedule: 0.917, AUC 0.981). Result and curves:
WORKSPACE_NOTES.md (#14).
"""
from experiments import faces_base

STEPS = 2100


def get_config(arg=None):
  geometry, smoke = faces_base.config_lib.parse_arg(
      arg, faces_base.GEOMETRIES, "landmarks", "GEOMETRY")
  c = faces_base.base(f"view1_{geometry}", geometry, STEPS, smoke)
  c.model.name = "resnet_small_flat"
  return faces_base.config_lib.validate(c)
