"""The real-face recipe end to end at toy size: photos -> align ->
training tree -> shards -> train -> export, the alignment spec and the
calibrated thresholds travelling with the model (issue #14).

Eight LFW people (three photos each) stand in for CelebA; the View 2
recipe (experiments/faces_view2.py, `smoke`) trains on them for a few steps
and calibrates on a pairs file of the same photos: 10 same and 10
different pairs, so that each of the 10 interleaved folds holds both.
"""
import json
import shutil

import pytest

from data_pipelines import align
from data_pipelines import build_tfrecords
from data_pipelines import training_tree
from data_pipelines.align_worker import AlignOptions
from experiments import faces_base
from experiments import faces_view1
from experiments import faces_view2
from facenet_tf import export_metadata
from facenet_tf.evaluation import eval_lib
from facenet_tf.evaluation import pairs_evaluator
from facenet_tf.training import train_lib
from tests.conftest import shared_path

PEOPLE = ("Abdullah_Gul", "Adrien_Brody", "Al_Gore", "Amelie_Mauresmo",
          "Andre_Agassi", "Abid_Hamid_Mahmud_Al-Tikriti", "Adel_Al-Jubeir",
          "Angelina_Jolie")


@pytest.fixture(scope="module")
def faces_root(tmp_path_factory):
  """ROOT with aligned/lfw_landmarks and shards/celeba_landmarks."""
  lfw = shared_path("data", "lfw", "images")
  root = tmp_path_factory.mktemp("faces")
  photos = root / "photos"
  for name in PEOPLE:
    (photos / name).mkdir(parents=True)
    for i in (1, 2, 3):
      shutil.copy(lfw / name / f"{name}_{i:04d}.jpg", photos / name)
  aligned = root / "aligned" / "lfw_landmarks"
  align.align_dataset(photos, aligned, AlignOptions(no_face="center_crop"))
  tree = root / "trees" / "celeba_landmarks"
  training_tree.build(tree, {"lfw": aligned})
  build_tfrecords.build(str(tree), str(root / "shards" / "celeba_landmarks"),
                        num_shards=2, num_workers=1)
  pairs = root / "pairs.txt"
  same = [f"{n} {i} {i + 1}" for n in PEOPLE[:5] for i in (1, 2)]
  different = [f"{a} {1 + k % 3} {b} {1 + (k + 1) % 3}" for k, (a, b) in
               enumerate(zip(PEOPLE + PEOPLE[:2], PEOPLE[3:] + PEOPLE[:5]))]
  pairs.write_text("\n".join(["10", *same, *different[:10]]) + "\n")
  return root, pairs


def _evaluate_export(result, pairs, images_dir):
  """facenet-eval's path: the run's SavedModel on the aligned pairs."""
  embedder = eval_lib.load_embedder(saved_model=result["saved_model"])
  return pairs_evaluator.PairsEvaluator(str(pairs), images_dir,
                                        progress=False).evaluate(embedder)


@pytest.mark.integration
def test_spec_and_thresholds_travel_from_photos_to_the_export(
    faces_root, tmp_path, monkeypatch):
  root, pairs = faces_root
  monkeypatch.setattr(faces_base, "ROOT", str(root))
  manifest = json.loads(
      (root / "shards" / "celeba_landmarks" / "manifest.json").read_text())
  assert manifest["alignment"]["name"] == "landmarks-arcface-128px-v1"
  assert manifest["num_identities"] == len(PEOPLE)
  assert all(name.startswith("lfw.") for name in manifest["identities"])
  config = faces_view2.get_config("smoke")
  config.data.p, config.data.k, config.data.r = 4, 2, 2
  config.eval.pairs = config.eval.calibration_pairs = str(pairs)
  config.eval.images_dir = config.eval.calibration_images_dir = str(
      root / "aligned" / "lfw_landmarks")
  result = train_lib.train(config, str(tmp_path / "run"))
  assert result["alignment"] == manifest["alignment"]
  thresholds = result["thresholds"]
  assert thresholds["num_pairs"] == 20 and thresholds["target_far"] == 1e-3
  # By construction on its own pairs: FAR within target, and the accuracy
  # threshold no worse than calling every pair "different" (0.5 here).
  assert thresholds["calibration_far"] <= 1e-3
  assert thresholds["calibration_accuracy"] >= 0.5
  metadata = export_metadata.read(result["saved_model"])
  assert metadata.alignment.to_dict() == manifest["alignment"]
  assert metadata.thresholds.to_dict() == thresholds
  evaluated = _evaluate_export(result, pairs, config.eval.images_dir)
  assert evaluated["alignment_warning"] is None
  assert evaluated["fallback_pairs"] == 0


@pytest.mark.integration
def test_view1_recipe_trains_its_flat_head_and_exports_it(
    faces_root, tmp_path, monkeypatch):
  """faces_view1 (`smoke`) on the same toy shards: the exported model is
  the recipe's resnet_small_flat (1,754,720 params, test_models), and
  facenet-eval's path scores every pair of the aligned tree with it."""
  root, pairs = faces_root
  monkeypatch.setattr(faces_base, "ROOT", str(root))
  view1 = root / "shards" / "view1_landmarks"
  if not view1.exists():  # the recipe's shard name, on the toy shards
    view1.symlink_to(root / "shards" / "celeba_landmarks")
  config = faces_view1.get_config("smoke")
  config.data.p, config.data.k, config.data.r = 4, 2, 2
  config.eval.pairs = str(pairs)
  config.eval.images_dir = str(root / "aligned" / "lfw_landmarks")
  result = train_lib.train(config, str(tmp_path / "run"))
  saved = json.loads((tmp_path / "run" / "config.json").read_text())
  assert saved["model"]["name"] == "resnet_small_flat"
  evaluated = _evaluate_export(result, pairs, config.eval.images_dir)
  assert evaluated["num_pairs"] == 20 and evaluated["fallback_pairs"] == 0
  assert evaluated["alignment_warning"] is None
