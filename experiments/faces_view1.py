"""LFW View 1 with outside data: LFW peopleDevTrain + CelebA, test pairsDevTest.

    python experiments/prepare_faces.py            # data, once (faces_base)
    facenet-train --config=experiments/faces_view1.py --workdir /tmp/faces_view1
    facenet-eval --workdir /tmp/faces_view1 \
        --pairs ../shared/data/lfw/pairsDevTest.txt \
        --images_dir /tmp/facenet_faces/aligned/lfw_landmarks --flip

The argument picks the geometry (`landmarks`, the default, or `box`) and
`smoke` shrinks the run to seconds. DevTrain and DevTest share no person
(LFW README); CelebA's identities are not LFW's (its authors). The budget,
1,800 steps of 288 images, is what 60 minutes of the 2-core machine train
when two such runs share it. Result and curve: WORKSPACE_NOTES.md (#14).
"""
from experiments import faces_base

STEPS = 1800


def get_config(arg=None):
  geometry, smoke = faces_base.parse(arg, faces_base.GEOMETRIES, "landmarks")
  c = faces_base.base(f"view1_{geometry}", geometry, STEPS, smoke)
  return faces_base.config_lib.validate(c)
