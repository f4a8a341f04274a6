"""Teacher targets from the aligner's log to the records (no dlib needed).

tests/teacher_fixtures.py's HalvesTeacher describes a face by the colours of
its two halves, so every stored target can be checked against its crop: the
target must describe the crop, the mirror target the flipped crop.
"""
import os

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from data_pipelines import build_tfrecords
from data_pipelines import teacher_targets
from data_pipelines import training_tree
from facenet_tf.data import augment
from facenet_tf.data import pk_sampler
from facenet_tf.data import records
from tests import teacher_fixtures

pytestmark = pytest.mark.integration


@pytest.fixture
def fake_teacher(monkeypatch):
  teacher = teacher_fixtures.HalvesTeacher(fail_on={33})
  monkeypatch.setattr(teacher_targets, "_teacher", teacher)
  return teacher


def _expected(aligned, crop):
  image = np.asarray(Image.open(aligned / crop))
  return (teacher_fixtures.descriptor(teacher_fixtures.halves(image)),
          teacher_fixtures.descriptor(teacher_fixtures.halves(image[:, ::-1])))


def test_each_crop_gets_its_face_and_mirror_target(tmp_path, fake_teacher):
  photos, aligned = teacher_fixtures.write_aligned_tree(tmp_path)
  summary = teacher_targets.compute(photos, aligned, chunk_size=6)
  assert (summary["faces"], summary["described"], summary["failed"]) == (
      20, 20, 0)
  targets, _ = teacher_targets.load(aligned)
  for crop, (target, mirror) in targets.items():
    want_target, want_mirror = _expected(aligned, crop)
    np.testing.assert_allclose(target, want_target, atol=1e-6)
    np.testing.assert_allclose(mirror, want_mirror, atol=1e-6)
    assert not np.allclose(target, mirror)  # two colours: the mirror differs


def test_failures_are_counted_and_a_rerun_keeps_them(tmp_path, fake_teacher):
  """2 of 20 faces cannot be described: counted, listed, and a rerun (after
  losing one part, as an interrupted run would) redoes only that part."""
  photos, aligned = teacher_fixtures.write_aligned_tree(tmp_path,
                                                        undescribable=2)
  first = teacher_targets.compute(photos, aligned, chunk_size=6)
  assert (first["described"], first["failed"]) == (18, 2)
  assert {f["path"] for f in first["failures"]} == {"p0/p0_0004.png",
                                                    "p0/p0_0005.png"}
  before, _ = teacher_targets.load(aligned)
  (aligned / teacher_targets.PARTS_DIR / "part-00003.npz").unlink()
  second = teacher_targets.compute(photos, aligned, chunk_size=6)
  assert (second["this_run"], second["described"], second["failed"]) == (
      2, 18, 2)
  after, _ = teacher_targets.load(aligned)
  assert after.keys() == before.keys()
  summary_path = aligned / teacher_targets.SUMMARY_NAME
  os.utime(summary_path, (1, 1))
  third = teacher_targets.compute(photos, aligned)
  assert (third["this_run"], third["described"], third["failed"]) == (0, 18, 2)
  # Nothing new described: the summary (whose time says when the targets
  # last changed) is left as it was.
  assert os.path.getmtime(summary_path) == 1


def test_the_tree_and_the_records_carry_each_image_its_targets(
    tmp_path, fake_teacher):
  photos, aligned = teacher_fixtures.write_aligned_tree(tmp_path,
                                                        undescribable=2)
  teacher_targets.compute(photos, aligned)
  tree = training_tree.build(tmp_path / "tree", {"toy": aligned})
  assert tree["teacher_targets"] == {"with": 18, "without": 2}
  manifest = build_tfrecords.build(str(tmp_path / "tree"),
                                   str(tmp_path / "shards"),
                                   name="toy", num_shards=2)
  stored = manifest["teacher_targets"]
  assert (stored["with"], stored["without"]) == (18, 2)
  checked, unit_rows = 0, []
  for path in sorted((tmp_path / "shards").glob("toy.tfrecord-*")):
    for serialized in tf.data.TFRecordDataset(str(path)):
      parsed = tf.io.parse_single_example(
          serialized, {**records._FEATURES, **records.TEACHER_FEATURE})
      rows = parsed["teacher"].numpy().reshape(-1, records.TEACHER_VALUES)
      for source, row in zip(parsed["paths"].numpy(), rows):
        crop = source.decode().split(".", 1)[1]  # toy.p0/p0_0001.png
        if crop in ("p0/p0_0004.png", "p0/p0_0005.png"):
          assert not row.any()  # no target: zeros
          continue
        want_target, want_mirror = _expected(aligned, crop)
        np.testing.assert_allclose(row[:128], want_target, atol=1e-6)
        np.testing.assert_allclose(row[128:], want_mirror, atol=1e-6)
        checked += 1
        unit_rows += [half / np.linalg.norm(half)
                      for half in (want_target, want_mirror)]
  assert checked == 18
  # The distillation centre: the mean of all 36 unit rows, faces + mirrors.
  np.testing.assert_allclose(stored["mean_unit"], np.mean(unit_rows, axis=0),
                             atol=1e-6)


def test_the_sampler_pairs_each_image_with_its_own_or_its_mirror_target(
    tmp_path, fake_teacher):
  """Batches of P=2 x K=3 + R=1 with random flips: every image's halves are
  the colours its target names (a flipped image: the mirror's target, whose
  left colour is the photo's right one), and faces without a target get
  zeros. 4 batches x 7 = 28 images: with p = 1/2 per flip, some of both."""
  photos, aligned = teacher_fixtures.write_aligned_tree(tmp_path,
                                                        undescribable=2)
  teacher_targets.compute(photos, aligned)
  training_tree.build(tmp_path / "tree", {"toy": aligned})
  build_tfrecords.build(str(tmp_path / "tree"), str(tmp_path / "shards"),
                        name="toy", num_shards=2)
  options = augment.AugmentOptions(random_crop=False, flip=True)
  dataset = pk_sampler.pk_dataset(str(tmp_path / "shards"), 2, 3, 1,
                                  image_size=16, augment=options,
                                  crop_fraction=1.0, teacher=True, seed=3)
  seen = {"own": 0, "mirror": 0, "none": 0}
  for images, labels, targets in dataset.take(4):
    assert images.shape == (7, 16, 16, 3) and targets.shape == (7, 128)
    assert labels.shape == (7,)
    for image, target in zip(images.numpy(), targets.numpy()):
      if not target.any():
        seen["none"] += 1
        continue
      # The halves away from the blended middle column, in 0..1.
      left, right = image[:, :6].mean((0, 1)), image[:, 10:].mean((0, 1))
      np.testing.assert_allclose(target[:6], np.r_[left, right] / 255,
                                 atol=2 / 255)
      photo_left = target[:3]  # what the sampler claims is on the left
      seen["own" if any(np.allclose(photo_left, _expected(
          aligned, crop)[0][:3], atol=1e-6) for crop in _crops(aligned))
           else "mirror"] += 1
  assert seen["own"] and seen["mirror"], seen


def _crops(aligned):
  return [p.relative_to(aligned).as_posix()
          for p in sorted(aligned.glob("p*/*.png"))]
