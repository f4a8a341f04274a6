"""Shared fixtures: the read-only ../shared directory, skipped when absent."""
import json
import os
import pathlib
import subprocess
import sys

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

ROOT = pathlib.Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"


def shared_path(*parts):
  """Path under ../shared, or skip the test saying why (a user's clone has none)."""
  path = SHARED.joinpath(*parts)
  if not path.exists():
    pytest.skip(f"{path} is absent: ../shared (data, oracles) ships only with "
                "the project's workspace and CI")
  return path


def facenet_eval(workdir, pairs, images_dir):
  """facenet-eval's JSON result for the export of a training `workdir`.

  A separate process scores the SavedModel (uint8 input, the app's crop),
  so it equals the training-time verifier's result only if the export holds
  the trained weights and both paths cut the same crop.
  """
  out = subprocess.run(
      [sys.executable, "-m", "facenet_tf.apps.eval", "--workdir",
       str(workdir), "--pairs", str(pairs), "--images_dir", str(images_dir),
       "--json"], cwd=ROOT, capture_output=True, text=True, timeout=600)
  assert out.returncode == 0, out.stderr[-3000:]
  return json.loads(out.stdout.strip().splitlines()[-1])
