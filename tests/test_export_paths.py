"""Every export path keeps the alignment spec and the thresholds.

The recipes (train_lib, harmonic_lib) export through hooks.ExportHook, the
facenet-export app through hooks.export_run_model, LiteRT and ONNX by
converting that SavedModel. Fixture: a `tiny` model (random weights, seed
0) in a workdir holding the default landmarks spec, as start_run writes it
for aligned training data; calibration pairs of noise images
(record_fixtures.random_pairs_tree: 4 same, 4 different pairs).
"""
import types
import warnings

import keras
import pytest

from facenet_tf import config as config_lib
from facenet_tf import export_loaders
from facenet_tf import export_metadata
from facenet_tf import models
from facenet_tf.alignment import spec as spec_lib
from facenet_tf.deploy import convert
from facenet_tf.training import hooks
from facenet_tf.training import loop
from tests import record_fixtures


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
  """(the ExportHook after its run, the workdir's spec, the pairs file)."""
  root = tmp_path_factory.mktemp("export_paths")
  workdir = root / "workdir"
  workdir.mkdir()
  spec = spec_lib.AlignmentSpec()
  spec_lib.write(spec, workdir)
  config = config_lib.get_config("smoke")
  config.eval.calibration_pairs = record_fixtures.random_pairs_tree(root)
  keras.utils.set_random_seed(0)
  trainer = types.SimpleNamespace(embedder=models.build("tiny"))
  hook = hooks.ExportHook(config, str(workdir))
  hook.end(loop.LoopState(trainer, start_step=0, last_step=2, step=2))
  return hook, spec, config.eval.calibration_pairs


@pytest.mark.integration
def test_the_recipes_export_keeps_spec_and_thresholds(exported):
  hook, spec, pairs = exported
  metadata = export_loaders.load(hook.saved_model).metadata
  assert metadata.alignment == spec
  assert metadata.thresholds == hook.thresholds
  assert metadata.thresholds.pairs == export_metadata.describe_pairs(pairs)
  assert metadata.thresholds.num_pairs == 8


@pytest.mark.integration
@pytest.mark.parametrize("kind", ["litert", "onnx"])
def test_converted_files_keep_spec_and_thresholds(exported, tmp_path, kind):
  hook, spec, _ = exported
  if kind == "litert":
    path, written = convert.to_litert(hook.saved_model, tmp_path / "m.tflite")
  else:
    path, written = convert.to_onnx(hook.saved_model, tmp_path / "m.onnx")
  metadata = export_loaders.load(path).metadata
  assert metadata == written
  assert (metadata.format, metadata.alignment) == (kind, spec)
  assert metadata.thresholds == hook.thresholds


def _alignment_warnings(model_path):
  from facenet_tf import photos  # pylint: disable=import-outside-toplevel
  with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    photos.FaceRecognizer(model=model_path)
  return [str(w.message) for w in caught if "alignment" in str(w.message)]


@pytest.mark.integration
def test_a_fresh_litert_export_loads_without_a_spec_warning(exported,
                                                            tmp_path):
  hook, _, _ = exported
  path, _ = convert.to_litert(hook.saved_model, tmp_path / "m.tflite")
  assert not _alignment_warnings(path)


@pytest.mark.integration
def test_a_model_without_spec_says_why(tmp_path):
  """Synthetic training faces have no spec: the photo API says so, and not
  that the export is older than specs."""
  path = hooks.export_run_model(models.build("tiny"), str(tmp_path), None)
  path, _ = convert.to_litert(path, tmp_path / "m.tflite")
  (message,) = _alignment_warnings(path)
  assert "records no alignment spec" in message
  assert "before specs existed" not in message


@pytest.mark.unit
def test_a_workdir_without_its_training_data_still_loads(tmp_path):
  """Known gap of #31, mended: a run copied to another machine (its shards
  and pairs paths do not exist there) still loads its config.json for
  evaluation and export; training from that config is still refused."""
  from facenet_tf import workdir as workdir_lib
  config = config_lib.get_config("smoke")
  config.data.source = "tfrecords"
  config.data.tfrecords.dir = str(tmp_path / "gone" / "shards")
  config.eval.pairs = str(tmp_path / "gone" / "pairs.txt")
  with pytest.raises(config_lib.ConfigError, match="not a directory"):
    config_lib.validate(config)
  workdir_lib.save_config(config, str(tmp_path))
  loaded = workdir_lib.load_config(str(tmp_path))
  assert loaded.data.tfrecords.dir == config.data.tfrecords.dir
  assert workdir_lib.build_embedder(loaded).name
