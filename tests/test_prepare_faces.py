"""experiments/prepare_faces.py's resume rule for training trees.

A tree built before one of its sources got teacher targets lacks them and
is built again; a tree built after is kept. The rule compares the times of
the tree's summary and each source's teacher summary, which
teacher_targets.compute rewrites only when it describes new faces.
"""
import os

import pytest

from data_pipelines import teacher_targets
from data_pipelines import training_tree
from experiments import prepare_faces

pytestmark = pytest.mark.unit


def _touch(path, when):
  path.parent.mkdir(parents=True, exist_ok=True)
  path.write_text("{}")
  os.utime(path, (when, when))


def test_a_tree_older_than_a_sources_targets_is_rebuilt(tmp_path):
  """view1-like tree (celeba + lfw) built at t = 100: celeba described at
  t = 50 (before: kept), lfw at t = 200 (after: rebuilt, even though the
  tree already carries celeba's targets)."""
  sources = {"celeba": str(tmp_path / "celeba"), "lfw": str(tmp_path / "lfw")}
  tree = tmp_path / "tree"
  _touch(tree / training_tree.SUMMARY_NAME, 100)
  _touch(tmp_path / "celeba" / teacher_targets.SUMMARY_NAME, 50)
  lacks = prepare_faces._lacks_targets  # pylint: disable=protected-access
  assert not lacks(str(tree), sources, ["celeba"])
  assert not lacks(str(tree), sources, ["celeba", "lfw"])  # lfw not described
  _touch(tmp_path / "lfw" / teacher_targets.SUMMARY_NAME, 200)
  assert lacks(str(tree), sources, ["celeba", "lfw"])
  assert not lacks(str(tree), sources, ["celeba"])  # lfw not asked for
  # A CelebA-only tree is not touched by LFW's new targets.
  assert not lacks(str(tree), {"celeba": sources["celeba"]},
                   ["celeba", "lfw"])
  # No tree yet: nothing to rebuild (it is built from scratch).
  assert not lacks(str(tmp_path / "none"), sources, ["celeba", "lfw"])


def test_the_first_geometrys_targets_are_shared_once(tmp_path, monkeypatch):
  """landmarks' CelebA targets are copied beside the dlib crops (the same
  faces: the dlib geometry reuses landmarks' detections); a second call
  copies nothing; a source without targets gets none."""
  from experiments import faces_base  # pylint: disable=import-outside-toplevel
  monkeypatch.setattr(faces_base, "ROOT", str(tmp_path))
  first = tmp_path / "aligned" / "celeba_landmarks"
  part = first / teacher_targets.PARTS_DIR / "part-00000.npz"
  part.parent.mkdir(parents=True)
  part.write_bytes(b"targets")
  _touch(first / teacher_targets.SUMMARY_NAME, 100)
  prepare_faces.share_targets(["landmarks", "dlib"], ["celeba", "lfw"])
  other = tmp_path / "aligned" / "celeba_dlib"
  copied = other / teacher_targets.PARTS_DIR / "part-00000.npz"
  assert copied.read_bytes() == b"targets"
  summary = other / teacher_targets.SUMMARY_NAME
  assert summary.read_text() == "{}"
  os.utime(summary, (200, 200))
  copied.write_bytes(b"kept")
  prepare_faces.share_targets(["landmarks", "dlib"], ["celeba"])
  assert copied.read_bytes() == b"kept"  # newer than landmarks': left
  assert not (tmp_path / "aligned" / "lfw_dlib").exists()
