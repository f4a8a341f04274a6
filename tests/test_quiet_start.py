"""No TensorFlow or CUDA start-up lines on stderr (#31 item 9).

`import facenet_tf` hides them (facenet_tf/quiet_import.py) for the Python
API, data_pipelines and every app; an app's --verbose shows them again,
which also proves the pattern below matches what TensorFlow prints here.
"""
import os
import pathlib
import re
import subprocess
import sys

import numpy as np
from PIL import Image
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
# absl's C++ log prefix ("I0000 00:00:17... cudart_stub.cc:31]") and the
# lines TensorFlow prints before its logging starts.
TF_LINE = re.compile(r"^[IWEF]\d{4} \d\d:\d\d:\d\d|absl::InitializeLog|cuInit|"
                     r"cuda drivers|oneDNN|TensorFlow binary is optimized|"
                     r"rebuild TensorFlow", re.MULTILINE)
API_RUN = """
import facenet_tf
import numpy as np
from facenet_tf import export_loaders, pretrained
model = export_loaders.load(pretrained.reference_model_path())
print(model(np.zeros((2, *model.image_size, 3), np.uint8)).shape)
"""


def _run(*args):
  """A fresh process, without a TF_CPP_MIN_LOG_LEVEL of the caller's."""
  env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
  return subprocess.run([sys.executable, *map(str, args)], cwd=ROOT, env=env,
                        capture_output=True, text=True, timeout=600)


@pytest.mark.integration
def test_the_python_api_prints_no_tensorflow_lines():
  done = _run("-c", API_RUN)
  assert done.returncode == 0, done.stderr[-3000:]
  assert done.stdout.strip() == "(2, 128)"
  assert not TF_LINE.search(done.stderr), done.stderr


@pytest.mark.unit
def test_align_help_prints_no_tensorflow_lines():
  done = _run("-m", "data_pipelines.align", "--help")
  assert done.returncode == 0 and "--input_dir" in done.stdout
  assert done.stderr == ""


@pytest.mark.integration
def test_an_app_is_quiet_and_verbose_shows_tensorflows_lines(tmp_path):
  faces = []
  for i in range(2):
    faces.append(tmp_path / f"{i}.png")
    Image.fromarray(np.random.default_rng(i).integers(
        0, 256, (80, 80, 3), np.uint8)).save(faces[-1])
  quiet = _run("-m", "facenet_tf.apps.compare", "--aligned", *faces)
  assert quiet.returncode == 0, quiet.stderr[-3000:]
  assert not TF_LINE.search(quiet.stderr), quiet.stderr
  verbose = _run("-m", "facenet_tf.apps.compare", "--aligned", "--verbose",
                 *faces)
  assert verbose.returncode == 0, verbose.stderr[-3000:]
  assert TF_LINE.search(verbose.stderr), verbose.stderr
