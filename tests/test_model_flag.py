"""One model flag takes every format (#31 item 7).

`export_loaders.export_path` resolves what --model names (a SavedModel, a
.tflite / .onnx file, a workdir's export) or says what is wrong; every app
gives that as one line and exit 2. facenet-export converts any SavedModel,
the packaged reference model included (its default), and the result runs
in the other apps' --model.
"""
import json
import pathlib
import shutil
import subprocess
import sys

import numpy as np
from PIL import Image
import pytest

from facenet_tf import export_loaders
from facenet_tf import pretrained

ROOT = pathlib.Path(__file__).resolve().parents[1]
PACKAGED = pathlib.Path(pretrained.reference_model_path())


def _app(name, *args, cwd=ROOT):
  return subprocess.run([sys.executable, "-m", f"facenet_tf.apps.{name}",
                         *map(str, args)], cwd=cwd, capture_output=True,
                        text=True, timeout=600)


@pytest.fixture()
def paths(tmp_path):
  """A workdir holding an export, one without, a stray folder and files."""
  exported = tmp_path / "exported"
  exported.mkdir()
  (exported / "config.json").write_text("{}")
  shutil.copytree(PACKAGED, exported / "saved_model")
  bare = tmp_path / "bare"
  (bare / "checkpoints").mkdir(parents=True)
  (tmp_path / "stray").mkdir()
  (tmp_path / "m.onnx").write_bytes(b"onnx")
  (tmp_path / "m.pt").write_bytes(b"torch")
  return tmp_path


@pytest.mark.unit
def test_export_path_resolves_every_format(paths):
  assert export_loaders.export_path(PACKAGED) == str(PACKAGED)
  assert export_loaders.export_path(paths / "exported") == str(
      paths / "exported" / "saved_model")
  assert export_loaders.export_path(paths / "m.onnx") == str(paths / "m.onnx")
  assert export_loaders.is_workdir(paths / "bare")
  assert not export_loaders.is_workdir(PACKAGED)


@pytest.mark.unit
@pytest.mark.parametrize("name,message", [
    ("bare", "workdir without an export: run facenet-export"),
    ("stray", "neither a SavedModel directory nor a facenet-train workdir"),
    ("m.pt", "unknown model format"),
    ("missing.onnx", "No model at"),
])
def test_export_path_says_what_is_wrong(paths, name, message):
  with pytest.raises(export_loaders.ModelPathError, match=message):
    export_loaders.export_path(paths / name)


@pytest.mark.unit
@pytest.mark.parametrize("app,args", [
    ("compare", ["a.jpg", "b.jpg"]), ("embed", ["--images_dir", "x",
                                                "--output_dir", "y"]),
    ("cluster", ["--images_dir", "x"]), ("recognize", ["--images_dir", "x"]),
    ("eval", ["--pairs", "p.txt"]), ("export", ["--format", "onnx"])])
def test_every_app_refuses_an_unknown_format_in_one_line(paths, app, args):
  done = _app(app, "--model", paths / "m.pt", *args)
  assert done.returncode == 2, done.stderr[-2000:]
  assert done.stderr.strip().endswith("unknown model format; give a "
                                      "SavedModel directory, a facenet-train "
                                      "workdir or a .tflite / .onnx file.")
  assert len(done.stderr.strip().splitlines()) == 1, done.stderr


@pytest.mark.unit
@pytest.mark.parametrize("args,message", [
    (["--format", "onnx", "--model", "{dir}/m.onnx"], "already a .onnx file"),
    (["--model", str(PACKAGED)], "already a SavedModel"),
    ([], "--format savedmodel exports a workdir's checkpoint"),
    (["--format", "onnx", "--calibration_pairs", "p.txt"],
     "--calibration_pairs needs --model WORKDIR"),
])
def test_export_refuses_what_it_cannot_convert(paths, args, message):
  done = _app("export", *[a.format(dir=paths) for a in args])
  assert done.returncode == 2 and message in done.stderr, done.stderr[-2000:]


def _faces(folder, n=2):
  """n seeded noise images standing for aligned faces."""
  folder.mkdir()
  rng = np.random.default_rng(0)
  for i in range(n):
    Image.fromarray(rng.integers(0, 256, (80, 80, 3), np.uint8)).save(
        folder / f"{i}.png")
  return sorted(folder.iterdir())


@pytest.mark.integration
def test_the_packaged_model_exports_to_onnx_and_runs_in_an_app(tmp_path):
  """`facenet-export --format onnx` (the packaged model by default) writes
  <name>.onnx here; it embeds as the SavedModel does, its metadata kept,
  and facenet-compare --model takes it."""
  done = _app("export", "--format", "onnx", cwd=tmp_path)
  assert done.returncode == 0, done.stderr[-3000:]
  out = json.loads(done.stdout.strip().splitlines()[-1])
  onnx_path = tmp_path / f"{PACKAGED.name}.onnx"
  assert out["model"] == str(onnx_path) and out["format"] == "onnx"
  saved, onnx = export_loaders.load(PACKAGED), export_loaders.load(onnx_path)
  assert onnx.metadata.thresholds == saved.metadata.thresholds
  assert onnx.alignment == saved.alignment
  images = np.random.default_rng(1).integers(
      0, 256, (4, *saved.image_size, 3)).astype(np.uint8)
  np.testing.assert_allclose(onnx(images), saved(images), atol=1e-4)
  faces = _faces(tmp_path / "faces")
  distances = []
  for model in (onnx_path, PACKAGED):
    done = _app("compare", "--model", model, "--aligned", "--json", *faces)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    distances.append(result["pairs"][0]["distance"])
  assert distances[0] == pytest.approx(distances[1], abs=1e-4)


@pytest.mark.integration
def test_export_workdir_flag_converts_a_saved_model_to_litert(tmp_path):
  """The issue's command: `facenet-export --workdir <packaged model>`."""
  output = tmp_path / "packaged.tflite"
  done = _app("export", "--workdir", PACKAGED, "--format", "litert",
              "--output", output)
  assert done.returncode == 0, done.stderr[-3000:]
  loaded = export_loaders.load(output)
  assert (loaded.metadata.format, loaded.image_size) == (
      "litert", export_loaders.load(PACKAGED).image_size)
  again = _app("export", "--workdir", PACKAGED, "--format", "litert",
               "--output", output)
  assert again.returncode == 2 and "--overwrite" in again.stderr
