"""An optional dependency that is not installed is named in one line.

A plain `pip install -e .` runs every console script; the features behind
setup.py's extras raise extras.MissingExtra, which the apps print as one
line with exit code 2 (apps/common.py). Each case hides the dependency (a
None entry in sys.modules makes its import fail) and imports afresh.
"""
import importlib
import pathlib
import subprocess
import sys

import pytest

from facenet_tf import export_loaders
from facenet_tf import extras
from facenet_tf import pretrained
from facenet_tf.apps import common
from facenet_tf.deploy import convert

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _hide(monkeypatch, dependency):
  for name in list(sys.modules):
    if name == dependency or name.startswith(f"{dependency}."):
      monkeypatch.setitem(sys.modules, name, None)
  monkeypatch.setitem(sys.modules, dependency, None)


@pytest.mark.unit
@pytest.mark.parametrize("module, dependency, extra", [
    ("facenet_tf.data.tfds_folder", "tensorflow_datasets", "tfds"),
    ("facenet_tf.evaluation.plots", "matplotlib", "eval"),
])
def test_a_missing_extra_names_its_install_command(module, dependency, extra,
                                                   monkeypatch):
  _hide(monkeypatch, dependency)
  monkeypatch.delitem(sys.modules, module, raising=False)
  with pytest.raises(extras.MissingExtra) as error:
    importlib.import_module(module)
  message = str(error.value)
  assert "\n" not in message, message
  assert message.endswith(f'which is not installed: pip install -e ".[{extra}]"')
  assert extras.MissingExtra in common.user_errors()  # exit 2, one line


@pytest.mark.unit
@pytest.mark.parametrize("call, dependency", [
    (lambda path: convert.to_onnx(path, path / "model.onnx"), "tf2onnx"),
    (lambda path: export_loaders.LiteRTEmbedder(path / "model.tflite"),
     "ai_edge_litert"),
    (lambda path: export_loaders.OnnxEmbedder(path / "model.onnx"),
     "onnxruntime"),
])
def test_the_deploy_formats_name_their_extra(call, dependency, monkeypatch,
                                             tmp_path):
  _hide(monkeypatch, dependency)
  with pytest.raises(extras.MissingExtra,
                     match=r'not installed: pip install -e "\.\[deploy\]"$'):
    call(tmp_path)


@pytest.mark.integration
def test_facenet_eval_names_the_extra_of_its_plots_before_any_work(tmp_path):
  pairs = tmp_path / "pairs.txt"
  pairs.write_text("1\nA\t1\t2\nA\t1\tB\t1\n")  # never read
  code = ("import sys; sys.modules['matplotlib'] = None; "
          "from facenet_tf.apps import eval as app; app.run()")
  out = subprocess.run(
      [sys.executable, "-c", code, "--saved_model",
       str(pretrained.reference_model_path()), "--pairs", str(pairs),
       "--output_dir", str(tmp_path / "out")],
      cwd=ROOT, capture_output=True, text=True, timeout=300)
  assert out.returncode == 2, out.stderr[-2000:]
  assert out.stderr.strip().splitlines()[-1].endswith(
      'matplotlib, which is not installed: pip install -e ".[eval]"')
  assert "Traceback" not in out.stderr and not (tmp_path / "out").exists()
