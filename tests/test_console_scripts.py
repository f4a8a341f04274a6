"""A console script's --help is its app's: the docstring and the flags."""
import os
import pathlib
import subprocess
import sys

import pytest

SCRIPT = pathlib.Path(sys.executable).parent / "facenet-cluster"


@pytest.mark.integration
def test_console_script_help_shows_the_apps_docstring_and_flags():
  """pip's wrapper script is `__main__`, with no docstring and no flags of
  its own; apps/common.py lends it the app's (absl's --help exits 1)."""
  if not SCRIPT.exists():
    pytest.skip(f"{SCRIPT} is not installed (pip install -e .)")
  out = subprocess.run([str(SCRIPT), "--help"], capture_output=True,
                       text=True, timeout=300,
                       env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
  assert out.returncode == 1, out.stderr[-2000:]
  assert out.stdout.startswith("facenet-cluster: cluster the faces of photos")
  for flag in ("--embeddings", "--images_dir", "--method", "--linkage",
               "--verbose"):
    assert f"  {flag}" in out.stdout or f"  --[no]{flag[2:]}" in out.stdout, (
        flag)
