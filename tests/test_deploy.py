"""LiteRT and ONNX exports (facenet_tf/deploy): parity in a fresh process.

Fixture: the `tiny` architecture at 48 x 40 px (random weights, seed 0),
exported as a SavedModel with an alignment spec and thresholds (made-up
values; any valid ones must travel unchanged), then
converted to float / dynamic-range / int8 LiteRT and to ONNX. Inputs are 12
seeded uniform uint8 images; int8 calibrates on 32 others. Each file runs
in a new Python process that imports only NumPy and its runtime (checked:
neither facenet_tf nor TensorFlow is loaded) and must give unit-norm
embeddings (to 1e-5; full int8 to 1e-2, its output is a dequantized
int8 vector); float ones equal the SavedModel's to 1e-4. Quantized ones are
compared by cosine: the bounds (0.99 dynamic, 0.95 int8) hold a margin
below the values measured on this fixture.
"""
import json
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

from facenet_tf import export
from facenet_tf import export_loaders
from facenet_tf import export_metadata
from facenet_tf import models
from facenet_tf.alignment import spec as spec_lib
from facenet_tf.deploy import convert
from facenet_tf.models import registry

SIZE = (48, 40)
THRESHOLDS = export_metadata.Thresholds(
    accuracy=1.05, far=0.6, target_far=1e-3, pairs="/data/pairs.txt",
    num_pairs=600, calibration_accuracy=0.9, calibration_val=0.5,
    calibration_far=0.001)
FRESH = """
import json, sys
import numpy as np
kind, path, inputs, output = sys.argv[1:]
x = np.load(inputs)
if kind == "litert":
  from ai_edge_litert.interpreter import Interpreter
  it = Interpreter(model_path=path)
  index = it.get_input_details()[0]["index"]
  it.resize_tensor_input(index, x.shape)
  it.allocate_tensors()
  it.set_tensor(index, x)
  it.invoke()
  y = it.get_tensor(it.get_output_details()[0]["index"])
else:
  import onnxruntime
  session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
  y = session.run(None, {session.get_inputs()[0].name: x})[0]
np.save(output, y)
print(json.dumps(sorted(m for m in ("facenet_tf", "tensorflow") if m in sys.modules)))
"""


def _images(n, seed):
  return np.random.default_rng(seed).integers(
      0, 256, (n, *SIZE, 3)).astype(np.uint8)


@pytest.fixture(scope="module")
def saved_model(tmp_path_factory):
  keras.utils.set_random_seed(0)
  path = tmp_path_factory.mktemp("deploy") / "saved_model"
  export.export_saved_model(models.build("tiny", image_size=SIZE), path,
                            alignment=spec_lib.AlignmentSpec(),
                            thresholds=THRESHOLDS)
  return path


def _fresh_process(kind, path, images, tmp_path):
  inputs, output = tmp_path / "x.npy", tmp_path / "y.npy"
  np.save(inputs, images)
  out = subprocess.run([sys.executable, "-c", FRESH, kind, str(path),
                        str(inputs), str(output)], capture_output=True,
                       text=True, check=True)
  assert json.loads(out.stdout.strip().splitlines()[-1]) == []
  return np.load(output)


@pytest.mark.integration
@pytest.mark.parametrize("kind,quantization,min_cosine,norm_tolerance", [
    ("litert", "float", None, 1e-5), ("litert", "dynamic", 0.99, 1e-5),
    ("litert", "int8", 0.95, 1e-2), ("onnx", "float", None, 1e-5)])
def test_export_runs_alone_and_matches_the_saved_model(
    saved_model, tmp_path, kind, quantization, min_cosine, norm_tolerance):
  images = _images(12, seed=1)
  reference = export_loaders.load(saved_model)(images)
  if kind == "onnx":
    path, _ = convert.to_onnx(saved_model, tmp_path / "m.onnx")
  else:
    path, _ = convert.to_litert(saved_model, tmp_path / "m.tflite",
                                quantization, _images(32, seed=2))
  got = _fresh_process(kind, path, images, tmp_path)
  np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1.0,
                             atol=norm_tolerance)
  if min_cosine is None:
    np.testing.assert_allclose(got, reference, atol=1e-4)
  else:
    assert np.sum(got * reference, axis=1).min() >= min_cosine
  # The facenet_tf loader reads the metadata inside the file.
  loaded = export_loaders.load(path)
  assert loaded.metadata.format == kind
  assert loaded.metadata.quantization == quantization
  assert loaded.metadata.thresholds == THRESHOLDS
  assert loaded.alignment == spec_lib.AlignmentSpec()
  assert (loaded.image_size, loaded.channels) == (SIZE, 3)
  np.testing.assert_allclose(loaded(images, batch_size=5), got,
                             atol=1e-5 if min_cosine is None else 2e-2)


@pytest.mark.unit
def test_bad_inputs_are_refused(saved_model, tmp_path):
  with pytest.raises(ValueError, match="representative"):
    convert.to_litert(saved_model, tmp_path / "q.tflite", "int8")
  with pytest.raises(ValueError, match="uint8"):
    convert.to_litert(saved_model, tmp_path / "q.tflite", "int8",
                      np.zeros((4, 10, 10, 3), np.uint8))
  with pytest.raises(ValueError, match="quantization"):
    convert.to_litert(saved_model, tmp_path / "q.tflite", "int4")
  assert not list(tmp_path.iterdir())
  with pytest.raises(ValueError, match="neither"):
    export_loaders.load(tmp_path / "model.pb")
  with pytest.raises(FileNotFoundError):
    export_loaders.load(tmp_path / "missing.onnx")


@keras.saving.register_keras_serializable(package="facenet_tf_tests")
class SingularValues(keras.layers.Layer):
  """Features -> their singular values: an op (Svd) LiteRT has no kernel for."""

  def call(self, x):
    return tf.linalg.svd(tf.reshape(x, [-1, 4, 4]), compute_uv=False)


def _unconvertible(x, weight_decay):
  del weight_decay
  x = keras.layers.GlobalAveragePooling2D()(
      keras.layers.Conv2D(16, 3, name="conv")(x))
  return keras.layers.Flatten()(SingularValues(name="singular_values")(x))


@pytest.mark.integration
def test_an_unconvertible_layer_is_named_and_nothing_is_written(
    tmp_path, monkeypatch):
  # Registered for this test only: other tests walk every registered name.
  monkeypatch.setitem(registry._REGISTRY, "test_unconvertible",  # pylint: disable=protected-access
                      registry.Architecture(_unconvertible, (32, 32)))
  path = export.export_saved_model(models.build("test_unconvertible"),
                                   tmp_path / "saved_model", alignment=None,
                                   thresholds=None)
  output = tmp_path / "out" / "m.tflite"
  with pytest.raises(convert.ConversionError, match="'singular_values'"):
    convert.to_litert(path, output)
  assert not output.exists() and not list((tmp_path / "out").glob("*"))


@pytest.mark.integration
def test_photo_api_runs_a_litert_reference_model(tmp_path):
  """Two uncropped LFW photos through FaceRecognizer: the float LiteRT file
  of the reference model finds the same faces and gives the SavedModel's
  embeddings (1e-4) and calibrated threshold."""
  from facenet_tf import photos  # pylint: disable=import-outside-toplevel
  from facenet_tf import pretrained  # pylint: disable=import-outside-toplevel
  from tests.conftest import shared_path  # pylint: disable=import-outside-toplevel
  lfw = shared_path("data", "lfw", "images")
  pictures = [str(lfw / "Aaron_Peirsol" / f"Aaron_Peirsol_000{i}.jpg")
              for i in (1, 2)]
  path, _ = convert.to_litert(pretrained.reference_model_path(),
                              tmp_path / "reference.tflite")
  saved, lite = photos.FaceRecognizer(), photos.FaceRecognizer(model=path)
  assert lite.operating_point() == saved.operating_point()
  for a, b in zip(saved.faces(pictures), lite.faces(pictures)):
    assert [f.box for f in a.faces] == [f.box for f in b.faces]
    np.testing.assert_allclose(np.stack([f.embedding for f in b.faces]),
                               np.stack([f.embedding for f in a.faces]),
                               atol=1e-4)
