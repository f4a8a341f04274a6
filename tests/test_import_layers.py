"""The package layers hold: `lint-imports` keeps .importlinter's contracts.

.importlinter names the layers (apps and experiments; data_pipelines;
photos, training, deploy; evaluation; export and config; data, losses,
models; alignment; the utilities), imports pointing down only, and the
siblings that must not import each other. A module that imports up a layer,
or a cycle between packages, breaks a contract and this test.
"""
import os
import pathlib
import shutil
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
PACKAGES = ("facenet_tf", "data_pipelines", "experiments")


def _lint(root):
  """lint-imports with .importlinter on the packages under `root`."""
  command = shutil.which("lint-imports")
  assert command, 'lint-imports is missing: pip install -e ".[test]"'
  return subprocess.run(
      [command, "--no-cache", str(ROOT / ".importlinter")], cwd=root,
      capture_output=True, text=True, timeout=300,
      env={**os.environ, "PYTHONPATH": str(root)})


@pytest.mark.unit
def test_the_import_contracts_are_kept():
  out = _lint(ROOT)
  assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]
  assert "0 broken" in out.stdout, out.stdout[-4000:]


@pytest.mark.unit
def test_an_upward_import_breaks_the_layers(tmp_path):
  """The contract can fail: a copy of the sources where evaluation imports
  training (the cycle issue 29 removed) is refused, naming the import."""
  for package in PACKAGES:
    shutil.copytree(ROOT / package, tmp_path / package,
                    ignore=lambda d, names: [
                        n for n in names if not n.endswith(".py")
                        and not os.path.isdir(os.path.join(d, n))
                        or n == "__pycache__"])
  (tmp_path / "facenet_tf" / "evaluation" / "upward.py").write_text(
      "from facenet_tf.training import loop\n")
  out = _lint(tmp_path)
  assert out.returncode != 0
  assert ("facenet_tf.evaluation.upward -> facenet_tf.training.loop"
          in out.stdout), out.stdout[-4000:]
