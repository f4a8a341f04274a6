"""Learning from a public-domain teacher: LFW View 2 with CelebA faces only.

    pip install -e ".[teacher]"     # dlib + its model files: data prep only
    python experiments/prepare_faces.py --geometries landmarks,dlib --teacher celeba
    facenet-train --config=experiments/faces_teacher.py:distill --workdir /tmp/faces_teacher
    facenet-eval --workdir /tmp/faces_teacher \\
        --pairs ../shared/data/lfw/pairs.txt \\
        --images_dir /tmp/facenet_faces/aligned/lfw_dlib --flip

The teacher is dlib's face-recognition ResNet (public domain; trained
without LFW's people): data_pipelines.teacher_targets stored its descriptor
of every aligned CelebA face and of its mirror image with the crop, and the
shards carry them. Faces are cut in the teacher's own framing (the `dlib`
alignment geometry). The student (resnet_small_flat, 64 px) learns the
cosine distillation loss to the teacher's descriptor of the same face,
centred on the training set's mean descriptor (loss.distill_center;
losses/distillation.py), and/or the paper's semi-hard triplet loss (§3.1-3.2,
global mining), with faces_view2.py's augmentation and schedule. Training
never needs dlib; serving never sees it. No LFW person is trained on: all
6,000 pairs of pairs.txt are a test.

Argument: the loss, `distill` (default; teacher only, on batches of 64
faces of nearly all different people, 10,800 steps: as many faces as the
others' 2,400 batches of 288), `both` (triplets + distillation on
faces_view2's P x K + R batches), `triplet` (labels only: faces_view2's
recipe on the flat head) or `compatible` (§7: the triplet loss plus the
harmonic loss with dlib as the frozen v1, so the student's embeddings can
be compared with face_recognition's encodings, normalised), optionally
`,smoke` (seconds; shards from a fixture in tests/test_teacher_recipe.py).

Measured (WORKSPACE_NOTES.md, "#30"): `distill`, the packaged reference
model (session 16: 10,800 steps, 123 min on 2 cores, resumed once): View 2
with flip 0.9308 +- 0.0145, AUC 0.9818, VAL 0.320 (no flip 0.9265, AUC
0.9791), against 0.9087 / 0.9671 / 0.305 for the triplet-only model it
replaces and 0.9875 / 0.998 / 0.940 for the teacher's own path. Earlier, at
400 batches of 288 on the `landmarks` framing (session 13): triplet 0.837,
compatible 0.837 (against face_recognition's encodings 0.769), both 0.826,
distill 0.785; `both` at 1,800 steps (session 14) 0.902. `both`, `triplet`
and `compatible` have not yet run their full 2,400 steps on this framing.
"""
from experiments import faces_base

STEPS = 2400
# loss -> (triplet_weight, distill_weight, distill_loss)
LOSSES = {"both": (1.0, 1.0, "cosine"), "distill": (0.0, 1.0, "cosine"),
          "triplet": (1.0, 0.0, "cosine"),
          "compatible": (1.0, 1.0, "harmonic")}
# The teacher's own framing (spec `dlib`): dlib's network scores 0.99 on
# LFW faces cut this way and 0.88 on our `landmarks` view, and students fit
# it better on these crops (WORKSPACE_NOTES.md, "#30 -> Session 14").
GEOMETRY = "dlib"
SHARDS = f"celeba_{GEOMETRY}"
# Distillation needs no identities in a batch, and it fits the teacher
# faster per face in more, smaller steps (WORKSPACE_NOTES.md, "#30 ->
# Session 15"): 2 x 2 + 60 = 64 faces, nearly all of distinct people, and
# the steps that see as many faces as STEPS batches of 288.
DISTILL_BATCH = (2, 2, 60)


def get_config(arg=None):
  loss, smoke = faces_base.config_lib.parse_arg(
      arg, tuple(LOSSES), "distill", "LOSS")
  c = faces_base.base(SHARDS, GEOMETRY, STEPS, smoke)
  c.model.name = "resnet_small_flat"
  if loss == "distill" and not smoke:
    faces = STEPS * faces_base.config_lib.global_batch(c)
    c.data.p, c.data.k, c.data.r = DISTILL_BATCH
    c.train.steps = faces // faces_base.config_lib.global_batch(c)
  (c.loss.triplet_weight, c.loss.distill_weight,
   c.loss.distill_loss) = LOSSES[loss]
  c.eval.calibration_pairs = faces_base.lfw_file("pairsDevTrain.txt")
  c.eval.calibration_images_dir = c.eval.images_dir
  return faces_base.config_lib.validate(c)
