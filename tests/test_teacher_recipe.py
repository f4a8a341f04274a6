"""experiments/faces_teacher.py's smoke run, without dlib: stored targets.

16 toy identities x 4 images (tests/teacher_fixtures.py: each face's two
halves are its colours), targets from the stand-in teacher, carried through
training_tree and build_tfrecords as the real ones are. The recipe trains a
few steps with triplet + distillation, logs the distillation loss, and
exports. A pairs file over the toy crops: 10 same pairs (p0..p9, images 1
and 2) and 10 different (p_i vs p_i+5, image 3), one of each per fold.
"""
import pytest
import tensorflow as tf

from data_pipelines import build_tfrecords
from data_pipelines import teacher_targets
from data_pipelines import training_tree
from experiments import faces_base
from experiments import faces_teacher
from facenet_tf.training import train_lib
from tests import teacher_fixtures

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def teacher_root(tmp_path_factory):
  root = tmp_path_factory.mktemp("teacher")
  photos, aligned = teacher_fixtures.write_aligned_tree(root, identities=16,
                                                        per_identity=4)
  saved, teacher_targets._teacher = (teacher_targets._teacher,
                                     teacher_fixtures.HalvesTeacher())
  try:
    teacher_targets.compute(photos, aligned)
  finally:
    teacher_targets._teacher = saved
  tree = root / "trees" / faces_teacher.SHARDS
  training_tree.build(tree, {"toy": aligned})
  build_tfrecords.build(str(tree), str(root / "shards" / faces_teacher.SHARDS),
                        num_shards=2, num_workers=1)
  return root, aligned, _write_pairs(root)


def _write_pairs(root):
  pairs = root / "pairs.txt"
  same = [f"p{i} 1 2" for i in range(10)]
  different = [f"p{i} 3 p{i + 5} 3" for i in range(10)]
  pairs.write_text("\n".join(["10", *same, *different]) + "\n")
  return pairs


def _smoke_config(arg, root, aligned, pairs, monkeypatch):
  """The recipe on the fixture's shards and pairs: LFW's protocol files in
  ../shared are not needed (a user's clone has no ../shared)."""
  monkeypatch.setattr(faces_base, "ROOT", str(root))
  monkeypatch.setattr(faces_base, "lfw_file", lambda name: str(pairs))
  config = faces_teacher.get_config(arg)
  config.eval.pairs = config.eval.calibration_pairs = str(pairs)
  config.eval.images_dir = config.eval.calibration_images_dir = str(aligned)
  return config


def test_smoke_trains_on_labels_and_stored_targets_and_exports(
    teacher_root, tmp_path, monkeypatch):
  root, aligned, pairs = teacher_root
  config = _smoke_config("both,smoke", root, aligned, pairs, monkeypatch)
  assert (config.loss.triplet_weight, config.loss.distill_weight) == (1, 1)
  result = train_lib.train(config, str(tmp_path / "run"))
  distill = _scalars(tmp_path / "run" / "tensorboard" / "train",
                     "distill_loss")
  assert sorted(distill) == [5, 10]  # logged every 5 of 10 steps
  # Random init vs 6-colour targets: 1 - cos is far from 0 and at most 2.
  assert all(0.05 < value <= 2.0 for value in distill.values()), distill
  assert result["saved_model"] and result["thresholds"]


def _scalars(logdir, tag):
  """{step: value} of one scalar tag in TensorBoard event files."""
  values = {}
  for path in logdir.glob("events.out.tfevents.*"):
    for event in tf.compat.v1.train.summary_iterator(str(path)):
      for value in event.summary.value:
        if value.tag == tag:
          values[event.step] = float(tf.make_ndarray(value.tensor))
  return values


@pytest.mark.parametrize("arg,loss", [
    ("distill,smoke", (0, 1, "cosine")), ("triplet,smoke", (1, 0, "cosine")),
    ("compatible,smoke", (1, 1, "harmonic"))])
def test_each_loss_choice_sets_its_weights(arg, loss, teacher_root,
                                           monkeypatch):
  config = _smoke_config(arg, *teacher_root, monkeypatch)
  assert (config.loss.triplet_weight, config.loss.distill_weight,
          config.loss.distill_loss) == loss


def test_shards_without_targets_are_refused_by_name(tmp_path, monkeypatch):
  """faces_teacher on shards built before the teacher pass: a clear error
  naming the step to run, before any training."""
  photos, aligned = teacher_fixtures.write_aligned_tree(tmp_path, 16, 4)
  del photos
  tree = tmp_path / "trees" / faces_teacher.SHARDS
  training_tree.build(tree, {"toy": aligned})
  build_tfrecords.build(str(tree), str(tmp_path / "shards" /
                                       faces_teacher.SHARDS),
                        num_shards=2, num_workers=1)
  config = _smoke_config("both,smoke", tmp_path, aligned,
                         _write_pairs(tmp_path), monkeypatch)
  with pytest.raises(ValueError, match="teacher_targets"):
    train_lib.train(config, str(tmp_path / "run"))
