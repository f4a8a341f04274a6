"""The harmonic recipe end to end (arXiv v3 §7) on synthetic faces.

v1 (`tiny` at 48 px, seed 0) and the v2 start (`tiny` at 64 px, seed 1) are
smoke-trained; experiments/harmonic_lfw.py:smoke then runs 3 + 3 steps, in
a workdir holding the default landmarks spec (as start_run writes it for
aligned data) and with calibration pairs of noise images
(record_fixtures.random_pairs_tree), so its export must carry both.
"""
import hashlib
import json
import pathlib
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from experiments import harmonic_lfw
from facenet_tf import config as config_lib
from facenet_tf import export_metadata
from facenet_tf import workdir as workdir_lib
from facenet_tf.alignment import spec as spec_lib
from facenet_tf.training import harmonic_lib
from facenet_tf.training import train_lib
from tests import record_fixtures

ROOT = pathlib.Path(__file__).resolve().parents[1]
MODES = ("v1_v1", "v2_v2", "v1_v2", "baseline_v1_init")


def _smoke_model(workdir, seed, image_size):
  config = config_lib.get_config("smoke")
  config.seed, config.model.image_size = seed, image_size
  config.train.steps, config.export.enabled = 10, False
  train_lib.train(config, str(workdir))
  return str(workdir)


def _harmonic_config(v1, init, calibration_pairs=""):
  config = harmonic_lfw.get_config("smoke")
  config.harmonic.v1_workdir, config.harmonic.init_workdir = v1, init
  config.eval.calibration_pairs = calibration_pairs
  return config


def _files(workdir):
  """{relative path: sha256} of every file under `workdir`."""
  root = pathlib.Path(workdir)
  return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
          for p in sorted(root.rglob("*")) if p.is_file()}


def _weights(model):
  return {layer.name: [np.array(w) for w in layer.get_weights()]
          for layer in model.layers if layer.weights}


def _checkpoint_weights(workdir, checkpoint):
  model = workdir_lib.build_embedder(workdir_lib.load_config(workdir))
  tf.train.Checkpoint(embedder=model).restore(checkpoint).expect_partial()
  return _weights(model)


def _changed(before, after):
  return {name for name in before
          if any(not np.array_equal(a, b)
                 for a, b in zip(before[name], after[name]))}


@pytest.fixture(scope="module")
def recipe(tmp_path_factory):
  root = tmp_path_factory.mktemp("harmonic")
  v1 = _smoke_model(root / "v1", seed=0, image_size=48)
  init = _smoke_model(root / "init", seed=1, image_size=0)
  v1_files = _files(v1)
  workdir = root / "v2"
  workdir.mkdir()
  spec_lib.write(spec_lib.AlignmentSpec(), workdir)
  pairs = record_fixtures.random_pairs_tree(root / "calibration")
  result = harmonic_lib.train(_harmonic_config(v1, init, pairs), str(workdir))
  return {"v1": v1, "init": init, "workdir": str(workdir), "result": result,
          "v1_files": v1_files, "pairs": pairs}


@pytest.mark.integration
def test_phase1_changes_only_the_reinitialised_embedding_layer(recipe):
  start, _ = workdir_lib.restore_embedder(recipe["init"])
  init_weights = _weights(start)
  harmonic_lib.reinitialize_embedding(start, seed=0)  # the run's config.seed
  fresh = _weights(start)["embedding"]
  phase1 = _checkpoint_weights(recipe["workdir"], f"{recipe['workdir']}/"
                               "checkpoints/ckpt-3")
  # Every other weight, BatchNorm moving statistics included, is bit-identical.
  assert _changed(init_weights, phase1) == {"embedding"}
  assert not np.array_equal(fresh[0], init_weights["embedding"][0])
  assert not np.any(fresh[1])
  # Phase 1 trained the fresh layer: it moved from the re-initialised one.
  assert _changed({"embedding": fresh}, phase1) == {"embedding"}


@pytest.mark.integration
def test_phase2_changes_the_backbone_and_v1_never_changes(recipe):
  ckpt = f"{recipe['workdir']}/checkpoints/ckpt-"
  phase1 = _checkpoint_weights(recipe["workdir"], ckpt + "3")
  phase2 = _checkpoint_weights(recipe["workdir"], ckpt + "6")
  assert {"embedding", "block1_conv", "block1_bn"} <= _changed(phase1, phase2)
  assert _files(recipe["v1"]) == recipe["v1_files"]


@pytest.mark.integration
def test_results_hold_the_four_comparisons(recipe):
  result = recipe["result"]
  saved = json.loads(pathlib.Path(recipe["workdir"], "results.json")
                     .read_text())
  assert saved == result
  assert result["steps"] == 6 and result["resumed_from_step"] == 0
  for mode in MODES:
    assert 0 <= result[mode]["accuracy"] <= 1
    assert set(result[mode]) >= {"accuracy", "accuracy_std", "auc", "val",
                                 "far"}
  assert pathlib.Path(result["saved_model"], "saved_model.pb").exists()
  config = json.loads(pathlib.Path(recipe["workdir"], "config.json")
                      .read_text())
  # Resolved: v2 keeps the init model; train.steps = 3 + 3.
  assert config["model"]["image_size"] == 0 and config["train"]["steps"] == 6


@pytest.mark.integration
def test_export_keeps_the_spec_and_the_thresholds(recipe):
  metadata = export_metadata.read(recipe["result"]["saved_model"])
  assert metadata.alignment == spec_lib.AlignmentSpec()
  assert metadata.thresholds.to_dict() == recipe["result"]["thresholds"]
  assert metadata.thresholds.pairs == export_metadata.describe_pairs(
      recipe["pairs"])  # in words: no machine path in an export


def _train_app(*args):
  return subprocess.run([sys.executable, "-m", "facenet_tf.apps.train",
                         "--config=experiments/harmonic_lfw.py:smoke", *args],
                        cwd=ROOT, capture_output=True, text=True, timeout=300)


@pytest.mark.integration
def test_app_resume_is_a_no_op(recipe):
  checkpoints = pathlib.Path(recipe["workdir"], "checkpoints")
  before = _files(checkpoints)
  out = _train_app(f"--config.harmonic.v1_workdir={recipe['v1']}",
                   f"--config.harmonic.init_workdir={recipe['init']}",
                   f"--config.eval.calibration_pairs={recipe['pairs']}",
                   f"--workdir={recipe['workdir']}")
  assert out.returncode == 0, out.stderr[-3000:]
  result = json.loads(out.stdout.strip().splitlines()[-1])
  assert result["steps"] == 6 and result["resumed_from_step"] == 6
  assert _files(checkpoints) == before
  # Same weights, same evaluation.
  for mode in MODES:
    assert result[mode] == recipe["result"][mode]


@pytest.mark.integration
def test_app_missing_v1_workdir_exits_2(recipe, tmp_path):
  out = _train_app(f"--config.harmonic.v1_workdir={tmp_path / 'none'}",
                   f"--config.harmonic.init_workdir={recipe['init']}",
                   f"--workdir={tmp_path / 'run'}")
  assert out.returncode == 2, out.stderr[-3000:]
  assert "harmonic.v1_workdir" in out.stderr and "Traceback" not in out.stderr


@pytest.mark.integration
def test_bad_sections_are_config_errors(recipe, tmp_path):
  config = _harmonic_config(recipe["v1"], recipe["init"])
  with pytest.raises(config_lib.ConfigError, match="new directory"):
    harmonic_lib.resolve(config, recipe["init"])
  config.harmonic.phase1_steps = config.harmonic.phase2_steps = 0
  with pytest.raises(config_lib.ConfigError, match="phase2_steps"):
    harmonic_lib.resolve(config, str(tmp_path))
  other = config_lib.get_config("smoke")
  other.model.embedding_dim = 64
  workdir_lib.save_config(other, str(tmp_path / "dim64"))
  config = _harmonic_config(str(tmp_path / "dim64"), recipe["init"])
  with pytest.raises(config_lib.ConfigError, match="same size"):
    harmonic_lib.resolve(config, str(tmp_path / "run"))
