"""data_pipelines.align output goes straight into facenet-eval (issue #14).

A few LFW people are aligned with the packaged model's spec (PNG crops, where LFW's
files are JPEGs), plus one person whose only photo is blank grey (no face).
The pairs file names the images LFW's way (`<name>_NNNN.jpg`); facenet-eval
reads the aligned tree as it is, uses the spec's crop, and counts the one
pair scored on the fallback crop. A tree aligned with `--no_face skip`
stops with a message that says what to do, not a bare "missing".
"""
import itertools
import json
import os
import pathlib
import shutil
import subprocess
import sys

import pytest
from PIL import Image

from facenet_tf import export_metadata
from facenet_tf import pretrained
from tests.conftest import shared_path

REPO = pathlib.Path(__file__).resolve().parents[1]
# Five LFW people with >= 3 images and a faceless "person". A View 1-style
# file deals pair i into fold i mod 10, so 10 same + 10 different pairs give
# every fold one of each.
PEOPLE = ("Abdullah_Gul", "Adrien_Brody", "Al_Gore", "Amelie_Mauresmo",
          "Andre_Agassi")
IMAGES = (1, 2, 3)
BLANK = "Zz_Blank"
SAME = [(name, i, j) for name in PEOPLE for i, j in ((1, 2), (2, 3))]
DIFFERENT = [(a, 1 + k % 3, b, 1 + (k + 1) % 3) for k, (a, b) in enumerate(
    itertools.combinations(PEOPLE, 2))][:9] + [("Abdullah_Gul", 3, BLANK, 1)]
_ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}


def _align(tree, output, no_face):
  """data_pipelines.align with the packaged model's geometry."""
  geometry = export_metadata.read(
      pretrained.reference_model_path()).alignment.geometry
  return subprocess.run(
      [sys.executable, "-m", "data_pipelines.align", "--input_dir", str(tree),
       "--output_dir", str(output), "--no_face", no_face, "--num_workers",
       "1", "--geometry", geometry], cwd=REPO, capture_output=True,
      text=True, timeout=600, env=_ENV,
      check=False)


def _eval(pairs, images_dir):
  model = pretrained.reference_model_path()
  return subprocess.run(
      [sys.executable, "-m", "facenet_tf.apps.eval", "--saved_model",
       model, "--pairs", str(pairs), "--images_dir", str(images_dir),
       "--json"], cwd=REPO, capture_output=True, text=True, timeout=600,
      env=_ENV, check=False)


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
  """(input tree, pairs file) in LFW's layout."""
  lfw = shared_path("data", "lfw", "images")
  root = tmp_path_factory.mktemp("align_eval")
  tree = root / "photos"
  for name in PEOPLE:
    (tree / name).mkdir(parents=True)
    for i in IMAGES:
      shutil.copy(lfw / name / f"{name}_{i:04d}.jpg", tree / name)
  (tree / BLANK).mkdir()
  Image.new("RGB", (250, 250), (128, 128, 128)).save(
      tree / BLANK / f"{BLANK}_0001.jpg")
  pairs = root / "pairs.txt"
  lines = [str(len(SAME))] + [f"{n} {i} {j}" for n, i, j in SAME] + [
      f"{a} {i} {b} {j}" for a, i, b, j in DIFFERENT]
  pairs.write_text("\n".join(lines) + "\n")
  return tree, pairs


@pytest.mark.integration
def test_eval_reads_the_aligned_tree_and_counts_the_fallback_pair(photos,
                                                                  tmp_path):
  tree, pairs = photos
  aligned = tmp_path / "aligned"
  run = _align(tree, aligned, "center_crop")
  assert run.returncode == 0, run.stderr[-2000:]
  assert (aligned / "Al_Gore" / "Al_Gore_0001.png").exists()
  assert not (aligned / "Al_Gore" / "Al_Gore_0001.jpg").exists()
  run = _eval(pairs, aligned)
  assert run.returncode == 0, run.stderr[-2000:]
  result = json.loads(run.stdout.strip().splitlines()[-1])
  assert result["num_pairs"] == 20 and result["num_images"] == 16
  assert result["alignment"]["name"] == pretrained.reference_figures()[
      "alignment"]
  assert result["crop_fraction"] == pytest.approx(160 / 182)
  assert (result["fallback_images"], result["fallback_pairs"]) == (1, 1)
  assert "1 pairs use a fallback crop" in run.stdout
  # The packaged model was trained on this very spec: no warning.
  assert result["alignment_warning"] is None
  assert result["model_alignment"] == result["alignment"]


@pytest.mark.integration
def test_a_tree_with_holes_names_the_fix(photos, tmp_path):
  tree, pairs = photos
  aligned = tmp_path / "aligned_skip"
  run = _align(tree, aligned, "skip")
  assert run.returncode == 0, run.stderr[-2000:]
  run = _eval(pairs, aligned)
  assert run.returncode == 2
  assert f"{BLANK}_0001.jpg is missing" in run.stderr
  assert "--no_face center_crop" in run.stderr
  assert "Traceback" not in run.stderr
