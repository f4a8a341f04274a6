"""facenet-eval end to end on a few LFW images; eval_lib folds, flip, loading."""
import json
import pathlib
import shutil
import subprocess
import sys

import numpy as np
import pytest

from facenet_tf import config as config_lib
from facenet_tf.data import eval_input
from facenet_tf.evaluation import eval_lib
from facenet_tf.evaluation import pairs_evaluator
from facenet_tf.evaluation import lfw_protocol
from facenet_tf.training import train_lib
from tests.conftest import shared_path

ROOT = pathlib.Path(__file__).resolve().parents[1]


def run_app(*args):
  return subprocess.run([sys.executable, "-m", "facenet_tf.apps.eval", *args],
                        cwd=ROOT, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def lfw():
  return shared_path("data", "lfw")


@pytest.fixture(scope="module")
def small_pairs(lfw, tmp_path_factory):
  """A View 1-format list: fold 0's first 10 same and 10 different pairs."""
  lines = (lfw / "pairs.txt").read_text().splitlines()
  path = tmp_path_factory.mktemp("pairs") / "small_pairs.txt"
  path.write_text("\n".join(["10", *lines[1:11], *lines[301:311]]) + "\n")
  return path


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
  """A smoke-trained workdir (~15 s): checkpoints and saved_model/."""
  workdir = tmp_path_factory.mktemp("smoke")
  train_lib.train(config_lib.get_config("smoke"), str(workdir))
  return workdir


@pytest.mark.integration
def test_app_writes_metrics_json_and_plots(workdir, small_pairs, lfw,
                                           tmp_path):
  out = run_app("--workdir", str(workdir), "--pairs", str(small_pairs),
                "--images_dir", str(lfw / "images"), "--flip", "--json",
                "--output_dir", str(tmp_path))
  assert out.returncode == 0, out.stderr[-2000:]
  result = json.loads(out.stdout.strip().splitlines()[-1])
  assert result["num_pairs"] == 20 and result["num_same"] == 10
  assert result["model"] == str(workdir / "saved_model") and result["flip"]
  assert result["fold_source"].startswith("interleaved")
  for key in ("accuracy", "val", "far", "auc", "eer"):
    assert 0 <= result[key] <= 1, key
  assert result["accuracy_std"] >= 0 and result["target_far"] == 1e-3
  assert [f["fold"] for f in result["folds"]] == list(range(10))
  assert set(result["folds"][0]) == {"fold", "threshold", "accuracy",
                                     "val_threshold", "val", "far"}
  stem = tmp_path / "small_pairs"
  saved = json.loads(pathlib.Path(f"{stem}_verification.json").read_text())
  assert saved == result
  for png in ("roc", "distances"):
    assert pathlib.Path(f"{stem}_{png}.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.integration
def test_missing_image_exits_2_naming_it(workdir, small_pairs, lfw, tmp_path):
  pairs = tmp_path / "pairs.txt"
  pairs.write_text(small_pairs.read_text().replace(
      "Abel_Pacheco\t1\t4", "Nobody_Here\t1\t2"))
  out = run_app("--saved_model", str(workdir / "saved_model"), "--pairs",
                str(pairs), "--images_dir", str(lfw / "images"))
  assert out.returncode == 2
  assert "Nobody_Here/Nobody_Here_0001.jpg is missing" in out.stderr
  assert "Traceback" not in out.stderr


@pytest.mark.unit
def test_lfw_view2_folds_and_view1_interleaving(lfw):
  """pairs.txt: LFW's 10 folds of 300 same + 300 different, in file order.
  pairsDevTest.txt (500 + 500, no folds): pair i goes to fold i mod 10."""
  pairs = lfw_protocol.read_pairs(str(lfw / "pairs.txt"))
  _, _, _, issame, fold = lfw_protocol.pair_image_index(pairs)
  folds, source = pairs_evaluator.pair_folds(fold)
  assert len(pairs) == 6000 and source == "pairs file"
  np.testing.assert_array_equal(folds, np.repeat(np.arange(10), 600))
  np.testing.assert_array_equal(issame, np.tile(np.repeat([1, 0], 300), 10))

  pairs = lfw_protocol.read_pairs(str(lfw / "pairsDevTest.txt"),
                                  check_exists=False)
  _, _, _, issame, fold = lfw_protocol.pair_image_index(pairs)
  folds, source = pairs_evaluator.pair_folds(fold)
  assert source.startswith("interleaved")
  np.testing.assert_array_equal(np.bincount(folds[issame]), [50] * 10)
  np.testing.assert_array_equal(np.bincount(folds[~issame]), [50] * 10)


@pytest.mark.integration
def test_flip_averages_the_mirrored_embedding(small_pairs, lfw):
  """A left-half mean colour is not mirror-invariant, so flip changes it to
  normalise(left-half mean + right-half mean)."""
  left_colour = lambda x: x[:, :, :x.shape[2] // 2].mean(axis=(1, 2))
  pairs = lfw_protocol.read_pairs(str(small_pairs), str(lfw / "images"))
  paths = lfw_protocol.pair_image_index(pairs)[0][:5]
  flipped = eval_lib.embed_files(left_colour, paths, (32, 32), flip=True,
                                 batch_size=2, progress=False)
  images = np.concatenate([b.numpy() for b in eval_input.image_files_dataset(
      paths, 32, 8, eval_lib.DEFAULT_CROP_FRACTION)])
  both = left_colour(images) + left_colour(images[:, :, ::-1])
  np.testing.assert_allclose(
      flipped, both / np.linalg.norm(both, axis=1, keepdims=True), rtol=1e-5)


@pytest.mark.integration
def test_checkpoint_and_saved_model_give_the_same_result(workdir, small_pairs,
                                                         lfw, tmp_path):
  """A workdir without saved_model/ is restored from its checkpoint."""
  for part in ("config.json", "checkpoints"):
    copy = shutil.copytree if part == "checkpoints" else shutil.copy
    copy(workdir / part, tmp_path / part)
  results = []
  for embedder in (eval_lib.load_embedder(workdir=str(workdir)),
                   eval_lib.load_embedder(workdir=str(tmp_path))):
    results.append(pairs_evaluator.PairsEvaluator(
        str(small_pairs), str(lfw / "images"), progress=False).evaluate(
            embedder))
  assert results[1]["model"].endswith("(checkpoint step 20)")
  assert results[0]["files"] == []
  for key in ("accuracy", "val", "auc", "eer"):
    assert results[0][key] == pytest.approx(results[1][key], abs=1e-6), key


@pytest.mark.unit
def test_bad_inputs_are_input_errors(tmp_path):
  bad = tmp_path / "pairs.txt"
  bad.write_text("1\nAlice 1 2\nAlice 1\n")
  with pytest.raises(eval_lib.InputError, match="mismatched pair"):
    pairs_evaluator.PairsEvaluator(str(bad), str(tmp_path))
  with pytest.raises(FileNotFoundError, match="does not exist"):
    eval_lib.load_embedder(saved_model=str(tmp_path / "none"))
  with pytest.raises(eval_lib.InputError, match="not a facenet_tf export"):
    eval_lib.load_embedder(saved_model=str(tmp_path))
  with pytest.raises(ValueError, match="crop_fraction"):
    eval_lib.embed_files(None, [str(tmp_path / "a.png")], (64, 64),
                         crop_fraction=0, progress=False)


@pytest.mark.integration
def test_an_exports_own_thresholds_are_scored_on_the_pairs(small_pairs, lfw):
  """An Embedder with calibrated thresholds (a unit-normalised mean colour,
  thresholds at 0.05 and 0.01) gets at_model_thresholds: accuracy, VAL and
  FAR at its own thresholds on these pairs, as calibration.at_thresholds
  gives them from the pairs' distances; the summary prints them. Without
  thresholds there is no such field."""
  from facenet_tf import export_metadata  # pylint: disable=import-outside-toplevel
  from facenet_tf.apps import eval as eval_app  # pylint: disable=import-outside-toplevel
  from facenet_tf.evaluation import calibration  # pylint: disable=import-outside-toplevel
  colour = lambda x: (lambda m: m / np.linalg.norm(m, axis=1, keepdims=True))(
      x.mean(axis=(1, 2)))
  thresholds = export_metadata.Thresholds(
      accuracy=0.05, far=0.01, target_far=1e-3, pairs="LFW DevTrain pairs",
      num_pairs=2200, calibration_accuracy=0.9, calibration_val=0.3,
      calibration_far=1e-3)
  evaluator = pairs_evaluator.PairsEvaluator(str(small_pairs),
                                             str(lfw / "images"),
                                             progress=False)
  model = eval_lib.Embedder(colour, (32, 32), "colour", thresholds=thresholds)
  result = evaluator.evaluate(model)
  dist = evaluator.distances(evaluator.embed(model))
  expected = calibration.at_thresholds(dist, evaluator.issame, thresholds)
  assert result["at_model_thresholds"] == expected
  assert 0 < np.mean(dist <= 0.05) < 1  # the thresholds split these pairs
  line = [l for l in eval_app.summary(result) if "own thresholds" in l]
  assert line == [
      f"the model's own thresholds (calibrated on LFW DevTrain pairs): "
      f"accuracy {expected['accuracy']:.4f} at 0.05; VAL {expected['val']:.4f}"
      f" @ FAR {expected['far']:.5f} at 0.01 (target FAR 0.001)"]
  plain = evaluator.evaluate(eval_lib.Embedder(colour, (32, 32), "colour"))
  assert "at_model_thresholds" not in plain
  assert not any("own thresholds" in l for l in eval_app.summary(plain))
