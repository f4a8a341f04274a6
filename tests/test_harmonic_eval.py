"""Compatibility evaluation (arXiv v3 §7 Fig. 8) and facenet-eval's v1 flags."""
import json
import pathlib
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

from facenet_tf import config as config_lib
from facenet_tf import workdir as workdir_lib
from facenet_tf.evaluation import compatibility
from facenet_tf.evaluation import verification
from tests.conftest import shared_path

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _clustered(num_ids=40, per_id=6, dim=32, seed=0):
  """Unit embeddings tightly clustered by identity, and 10 folds of pairs."""
  rng = np.random.default_rng(seed)
  labels = np.repeat(np.arange(num_ids), per_id)
  emb = rng.normal(size=(num_ids, dim))[labels] + 0.3 * rng.normal(
      size=(labels.size, dim))
  emb /= np.linalg.norm(emb, axis=1, keepdims=True)
  return emb.astype(np.float32), verification.make_pairs(labels, 10, 30,
                                                         seed=seed)


@pytest.mark.unit
def test_rotated_v2_is_incompatible_and_identical_models_are_not():
  v1, pairs = _clustered()
  # A uniformly random rotation: QR of a Gaussian, signs fixed by R.
  q, r = np.linalg.qr(np.random.default_rng(0).normal(size=(v1.shape[1],) * 2))
  rotation = q * np.sign(np.diag(r))
  rotated = compatibility.evaluate_compatibility(v1, v1 @ rotation, *pairs)
  assert rotated["v1_v1"]["accuracy"] > 0.95
  # A rotation keeps every distance within a version...
  assert rotated["v2_v2"]["accuracy"] == pytest.approx(
      rotated["v1_v1"]["accuracy"], abs=1e-9)
  # ...and makes v1 against v2 meaningless: chance (600 pairs: +- ~0.05).
  assert rotated["v1_v2"]["accuracy"] < 0.6
  same = compatibility.evaluate_compatibility(v1, v1.copy(), *pairs)
  for mode in ("v2_v2", "v1_v2"):
    assert same[mode]["accuracy"] == same["v1_v1"]["accuracy"]
    assert same[mode]["val"] == same["v1_v1"]["val"]


@pytest.mark.unit
def test_each_mode_pairs_the_right_versions():
  v1, (first, second, _, _) = _clustered(seed=2)
  v2 = -v1
  dists = compatibility.mode_distances(v1, v2, first, second)
  np.testing.assert_allclose(
      dists["v1_v2"], np.sum((v1[first] + v1[second]) ** 2, axis=1),
      rtol=1e-5)
  np.testing.assert_allclose(dists["v2_v2"], dists["v1_v1"], rtol=1e-6)
  with pytest.raises(ValueError, match="same dimension"):
    compatibility.mode_distances(v1, v1[:, :8], first, second)


@pytest.mark.unit
def test_roc_plot_is_written(tmp_path):
  pytest.importorskip("matplotlib")
  from facenet_tf.evaluation import compatibility_plot
  v1, (first, second, issame, _) = _clustered(seed=3)
  dists = compatibility.mode_distances(v1, v1[::-1].copy(), first, second)
  path = tmp_path / "roc.png"
  compatibility_plot.plot_compatibility_roc(dists, issame, str(path), 1e-3)
  assert path.read_bytes()[:4] == b"\x89PNG"


def _untrained_workdir(path, seed):
  """A workdir with a randomly initialised `tiny` model: no training."""
  config = config_lib.get_config("smoke")
  config.seed = seed
  workdir_lib.save_config(config, str(path))
  keras.utils.set_random_seed(seed)
  embedder = workdir_lib.build_embedder(config)
  step = tf.Variable(0, dtype=tf.int64)
  workdir_lib.checkpoint_manager(str(path), config, embedder=embedder,
                                 step=step).save()
  return path


def _app(*args):
  return subprocess.run([sys.executable, "-m", "facenet_tf.apps.eval", *args],
                        cwd=ROOT, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def lfw_pairs(tmp_path_factory):
  """A View 1-format list: fold 0's first 10 same and 10 different pairs."""
  lfw = shared_path("data", "lfw")
  lines = (lfw / "pairs.txt").read_text().splitlines()
  path = tmp_path_factory.mktemp("pairs") / "small_pairs.txt"
  path.write_text("\n".join(["10", *lines[1:11], *lines[301:311]]) + "\n")
  return path, lfw / "images"


@pytest.mark.integration
def test_app_v1_flag_reports_three_modes(lfw_pairs, tmp_path):
  """v1 = v2: the cross mode is exactly v1-v1."""
  pairs, images = lfw_pairs
  workdir = _untrained_workdir(tmp_path / "model", seed=0)
  out = _app("--workdir", str(workdir), "--v1_workdir", str(workdir),
             "--pairs", str(pairs), "--images_dir", str(images), "--json",
             "--output_dir", str(tmp_path / "out"))
  assert out.returncode == 0, out.stderr[-2000:]
  result = json.loads(out.stdout.strip().splitlines()[-1])
  assert result["v1_model"] == result["v2_model"]
  for mode in compatibility.MODES:
    assert result[mode]["num_pairs"] == 20
    assert result[mode]["accuracy"] == result["v1_v1"]["accuracy"]
    assert result[mode]["auc"] == result["v1_v1"]["auc"]
  assert "v1_v2: accuracy" in out.stdout
  saved = json.loads((tmp_path / "out" / "small_pairs_compatibility.json")
                     .read_text())
  assert saved == result
  png = tmp_path / "out" / "small_pairs_compatibility_roc.png"
  assert png.read_bytes()[:4] == b"\x89PNG"


@pytest.mark.integration
def test_app_missing_v1_workdir_exits_2(lfw_pairs, tmp_path):
  pairs, images = lfw_pairs
  workdir = _untrained_workdir(tmp_path / "model", seed=0)
  missing = tmp_path / "no_such_v1"
  out = _app("--workdir", str(workdir), "--v1_workdir", str(missing),
             "--pairs", str(pairs), "--images_dir", str(images))
  assert out.returncode == 2, out.stderr[-2000:]
  assert "no_such_v1" in out.stderr and "Traceback" not in out.stderr
