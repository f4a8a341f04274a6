"""The reference model shipped inside the package: usable right after install.

    from facenet_tf import pretrained
    path = pretrained.reference_model_path()   # a facenet_tf SavedModel

It is the best model the project's 2-core CPU budget trained
(WORKSPACE_NOTES.md, issue #30): resnet_small_flat at 64 px, trained on
CelebA only (no LFW person; LFW View 2 0.931 +- 0.015 with flips) by
distillation from dlib's public-domain face-recognition ResNet, faces
aligned with the `dlib` spec; its export carries that spec and two
thresholds calibrated on LFW pairsDevTrain. MODEL_CARD.md describes it;
`REFERENCE_JSON` records how it scores on LFW, re-measured by
tests/test_reference_model.py.
"""
import json
import os

REFERENCE_NAME = "celeba_distilled_resnet_small_flat_dlib"
_HERE = os.path.dirname(os.path.abspath(__file__))
REFERENCE_JSON = os.path.join(_HERE, f"{REFERENCE_NAME}.json")


def reference_model_path():
  """The SavedModel directory of the reference model."""
  path = os.path.join(_HERE, REFERENCE_NAME)
  if not os.path.isdir(path):
    raise FileNotFoundError(f"The reference model is missing from {path}: "
                            "reinstall facenet_tf.")
  return path


def reference_figures():
  """What the reference model measured when it was committed (a dict)."""
  with open(REFERENCE_JSON, encoding="utf-8") as f:
    return json.load(f)
