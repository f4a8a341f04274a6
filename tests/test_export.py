"""SavedModel export: standalone signatures, metadata, atomic writes, loader."""
import json
import os
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

N = 4
# Run in a fresh interpreter that never imports facenet_tf: it loads the
# export with plain TensorFlow, runs every input in inputs.npz through the
# signature its dtype selects, and writes the outputs, the signature specs
# and the module's metadata attributes.
_STANDALONE_LOADER = r"""
import json, sys
import numpy as np
import tensorflow as tf

export_dir, work = sys.argv[1:]
loaded = tf.saved_model.load(export_dir)
signatures = loaded.signatures
inputs = np.load(f"{work}/inputs.npz", allow_pickle=True)
for name in inputs.files:
  signature = signatures["serving_default" if inputs[name].dtype == np.uint8
                         else "encoded_images"]
  outputs = signature(images=tf.constant(inputs[name]))["embeddings"]
  np.save(f"{work}/{name}.npy", outputs.numpy())

def spec(s):
  return [s.dtype.name, s.shape.as_list()]

def value(variable):
  v = variable.numpy()
  return v.decode() if isinstance(v, bytes) else v.tolist()

keys = ("format_version", "architecture", "image_size", "channels",
        "embedding_dim", "preprocessing", "distance", "metadata_json")
report = {
    "signatures": {
        name: {"inputs": {k: spec(s) for k, s in
                          f.structured_input_signature[1].items()},
               "outputs": {k: spec(s) for k, s in
                           f.structured_outputs.items()}}
        for name, f in signatures.items()},
    "attributes": {key: value(getattr(loaded, key)) for key in keys},
    "facenet_tf_imported": "facenet_tf" in sys.modules,
}
with open(f"{work}/report.json", "w") as f:
  json.dump(report, f)
"""


def _randomize_batchnorm(model, seed=0):
  """Moving statistics far from (0, 1), so inference mode is visible."""
  rng = np.random.default_rng(seed)
  for layer in model.layers:
    if isinstance(layer, keras.layers.BatchNormalization):
      shape = layer.moving_mean.shape
      layer.moving_mean.assign(rng.normal(0.0, 0.5, shape))
      layer.moving_variance.assign(rng.uniform(0.5, 2.0, shape))


def _resize_like_export(images, size):
  """An export without an alignment spec sees the whole image, resized as
  training resizes (bilinear, no antialiasing), rounded to uint8."""
  resized = tf.image.resize(images, size, method="bilinear")
  return tf.cast(tf.clip_by_value(tf.round(resized), 0, 255), tf.uint8).numpy()


def _encode(images, encoder):
  return np.array([encoder(image).numpy() for image in images], dtype=object)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
  """The model, its export, and its Keras outputs on random uint8 images."""
  rng = np.random.default_rng(0)
  images = rng.integers(0, 256, (N, 64, 64, 3), dtype=np.uint8)
  model = models.build("tiny")
  # Before the stats are set: training=True also updates the moving stats.
  batch_stats_output = model(images.astype(np.float32), training=True).numpy()
  _randomize_batchnorm(model)
  path = export.export_saved_model(
      model, tmp_path_factory.mktemp("tiny") / "export", alignment=None,
      thresholds=None)
  return {"model": model, "path": path, "images": images,
          "expected": model(images.astype(np.float32), training=False).numpy(),
          "batch_stats_output": batch_stats_output}


@pytest.fixture(scope="module")
def standalone(tiny, tmp_path_factory):
  """Outputs and report of the export loaded in a fresh process."""
  work = tmp_path_factory.mktemp("standalone")
  images = tiny["images"]
  grey = images[..., :1]
  large = np.random.default_rng(1).integers(0, 256, (N, 96, 80, 3),
                                            dtype=np.uint8)
  np.savez(work / "inputs.npz", pixels=images,
           png=_encode(images, tf.io.encode_png),
           jpeg=_encode(images, tf.io.encode_jpeg),
           grey_png=_encode(grey, tf.io.encode_png),
           grey_as_rgb=np.repeat(grey, 3, axis=-1),
           large_png=_encode(large, tf.io.encode_png),
           large_resized=_resize_like_export(large, (64, 64)))
  (work / "loader.py").write_text(_STANDALONE_LOADER)
  subprocess.run([sys.executable, "loader.py", tiny["path"], str(work)],
                 cwd=work, check=True, timeout=300,
                 env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
  outputs = {name: np.load(work / f"{name}.npy") for name in
             ("pixels", "png", "jpeg", "grey_png", "grey_as_rgb", "large_png",
              "large_resized")}
  return outputs, json.loads((work / "report.json").read_text())


def _check_embeddings(out):
  assert out.dtype == np.float32 and out.shape == (N, 128)
  np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-5)


@pytest.mark.integration
def test_serving_default_equals_keras_inference(tiny, standalone):
  outputs, report = standalone
  assert not report["facenet_tf_imported"]
  _check_embeddings(outputs["pixels"])
  np.testing.assert_allclose(outputs["pixels"], tiny["expected"], atol=1e-5)
  # BatchNorm used its moving statistics, not the batch's.
  assert np.abs(outputs["pixels"] - tiny["batch_stats_output"]).max() > 1e-2


@pytest.mark.integration
def test_encoded_images_signature(tiny, standalone):
  outputs, _ = standalone
  for name in ("png", "jpeg", "grey_png", "large_png"):
    _check_embeddings(outputs[name])
  # PNG is lossless; grey is replicated to RGB; a size that differs is
  # resized as the metadata says, then embedded like uint8 pixels.
  np.testing.assert_allclose(outputs["png"], tiny["expected"], atol=1e-5)
  np.testing.assert_allclose(outputs["grey_png"], outputs["grey_as_rgb"],
                             atol=1e-5)
  np.testing.assert_allclose(outputs["large_png"], outputs["large_resized"],
                             atol=1e-5)


@pytest.mark.integration
def test_signature_specs(standalone):
  _, report = standalone
  embeddings = {"embeddings": ["float32", [None, 128]]}
  assert report["signatures"] == {
      "serving_default": {"inputs": {"images": ["uint8", [None, 64, 64, 3]]},
                          "outputs": embeddings},
      "encoded_images": {"inputs": {"images": ["string", [None]]},
                         "outputs": embeddings}}


@pytest.mark.integration
def test_metadata_asset_and_attributes(tiny, standalone):
  metadata = export_metadata.read(tiny["path"]).to_dict()
  assert os.path.isfile(os.path.join(tiny["path"], "assets.extra",
                                     "facenet_export.json"))
  expected = {"format_version": 1, "architecture": "tiny",
              "image_size": [64, 64], "channels": 3, "embedding_dim": 128,
              "distance": "squared_l2", "preprocessing":
              "RGB uint8 0..255, scaled inside the model as x/127.5 - 1"}
  assert metadata.items() >= expected.items()
  assert metadata["format"] == "savedmodel" and metadata["alignment"] is None
  attributes = standalone[1]["attributes"]
  assert json.loads(attributes.pop("metadata_json")) == metadata
  assert attributes == expected


@pytest.mark.integration
def test_savedmodel_loader(tiny):
  embedder = export_loaders.load(tiny["path"])
  assert (embedder.image_size, embedder.channels, embedder.embedding_dim,
          embedder.architecture) == ((64, 64), 3, 128, "tiny")
  out = embedder(tiny["images"], batch_size=3)  # two batches: 3 + 1
  np.testing.assert_allclose(out, tiny["expected"], atol=1e-5)
  encoded = [tf.io.encode_png(image).numpy() for image in tiny["images"]]
  np.testing.assert_allclose(embedder.embed_encoded(encoded), out, atol=1e-5)
  assert embedder(tiny["images"][:0]).shape == (0, 128)
  with pytest.raises(ValueError, match="uint8"):
    embedder(tiny["images"].astype(np.float32))


@pytest.mark.unit
def test_loader_rejects_a_non_export(tmp_path):
  (tmp_path / "saved_model.pb").write_bytes(b"")
  with pytest.raises(ValueError, match="not a facenet_tf export"):
    export_loaders.load(tmp_path)


def _export(model, path, overwrite=False):
  return export.export_saved_model(model, path, alignment=None,
                                   thresholds=None, overwrite=overwrite)


def _leftovers(directory):
  return [p.name for p in directory.iterdir() if ".tmp-" in p.name
          or ".old-" in p.name]


@pytest.mark.integration
def test_overwrite(tiny, tmp_path):
  path = tmp_path / "export"
  _export(tiny["model"], path)
  with pytest.raises(FileExistsError, match="overwrite=True"):
    _export(tiny["model"], path)
  smaller = models.build("tiny", embedding_dim=16)
  _export(smaller, path, overwrite=True)
  assert export_metadata.read(path).embedding_dim == 16
  assert export_loaders.load(path)(tiny["images"]).shape == (N, 16)
  assert not _leftovers(tmp_path)
  (tmp_path / "not_an_export").mkdir()
  (tmp_path / "not_an_export" / "notes.txt").write_text("keep me")
  with pytest.raises(FileExistsError, match="not a facenet_tf export"):
    _export(smaller, tmp_path / "not_an_export", overwrite=True)
  assert (tmp_path / "not_an_export" / "notes.txt").exists()


@pytest.mark.integration
def test_failed_write_leaves_old_export(tiny, tmp_path, monkeypatch):
  path = tmp_path / "export"
  _export(tiny["model"], path)
  before = sorted(p.relative_to(path) for p in path.rglob("*"))

  def failing_save(module, export_dir, **kwargs):
    with open(os.path.join(export_dir, "saved_model.pb"), "w") as f:
      f.write("half-written")
    raise OSError("disk full")

  monkeypatch.setattr(tf.saved_model, "save", failing_save)
  smaller = models.build("tiny", embedding_dim=16)
  with pytest.raises(OSError, match="disk full"):
    _export(smaller, path, overwrite=True)
  assert sorted(p.relative_to(path) for p in path.rglob("*")) == before
  assert export_metadata.read(path).embedding_dim == 128
  assert not _leftovers(tmp_path)


@pytest.mark.integration
def test_mixed_bfloat16_exports_float32(tmp_path):
  model = models.build("tiny", dtype_policy="mixed_bfloat16")
  _randomize_batchnorm(model)
  images = np.random.default_rng(2).integers(0, 256, (N, 64, 64, 3),
                                             dtype=np.uint8)
  expected = model(images.astype(np.float32), training=False).numpy()
  path = _export(model, tmp_path / "export")
  embedder = export_loaders.load(path)
  assert embedder.metadata.dtype_policy == "mixed_bfloat16"
  out = embedder(images)
  _check_embeddings(out)
  # The same bfloat16 ops as Keras (equal on CPU); the tolerance allows a
  # device whose kernels round in another order (bfloat16 eps is 2**-8).
  np.testing.assert_allclose(out, expected, atol=1e-2)
