"""facenet-embed and facenet-cluster on flat, linked and empty photo trees
(#31 items 4, 9, 11), with the packaged model, as a user runs them.

  flat/    6 LFW photos of two people, no identity folder, plus a corrupt
           file and a photo without a face;
  linked/  the two people's folders as symbolic links, a linked loose photo
           and a link back to linked/ itself (a loop).
"""
import json
import pathlib
import shutil
import subprocess
import sys

from PIL import Image
import pytest

from tests.conftest import shared_path

pytestmark = pytest.mark.integration

ROOT = pathlib.Path(__file__).resolve().parents[1]
PEOPLE = ("Al_Gore", "Serena_Williams")


def _app(name, *args):
  return subprocess.run([sys.executable, "-m", f"facenet_tf.apps.{name}",
                         *map(str, args)], cwd=ROOT, capture_output=True,
                        text=True, timeout=600)


def _json(done, returncode):
  assert done.returncode == returncode, done.stderr[-3000:]
  return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def trees(tmp_path_factory):
  lfw = shared_path("data", "lfw", "images")
  root = tmp_path_factory.mktemp("photo_trees")
  flat, people, linked = root / "flat", root / "people", root / "linked"
  flat.mkdir()
  linked.mkdir()
  for name in PEOPLE:
    (people / name).mkdir(parents=True)
    for i in (1, 2, 3):
      photo = lfw / name / f"{name}_{i:04d}.jpg"
      shutil.copy(photo, flat)
      shutil.copy(photo, people / name)
    (linked / name).symlink_to(people / name)
  (flat / "corrupt.jpg").write_bytes(b"\xff\xd8\xff garbage")
  Image.new("RGB", (300, 200), (120, 140, 160)).save(flat / "wall.jpg")
  (linked / "loose.jpg").symlink_to(lfw / "Andre_Agassi/Andre_Agassi_0001.jpg")
  (linked / "loop").symlink_to(linked)
  (root / "empty" / "person").mkdir(parents=True)
  return root


def test_embed_then_cluster_a_flat_folder(trees, tmp_path):
  """Item 4: the README's embed-then-cluster on photos without identity
  folders; item 9: the counts agree with the progress bar, a skipped photo
  is named once, exit code 1 (one unreadable photo, the others written)."""
  done = _app("embed", "--images_dir", trees / "flat", "--output_dir",
              tmp_path / "emb")
  result = _json(done, 1)
  assert (result["photos"], result["faces"], result["identities"],
          result["unlabelled"], result["no_face"], result["skipped"]) == (
              8, 6, 0, 6, 1, 1)
  assert "8/8" in done.stderr  # the progress bar counts the same photos
  assert done.stdout.startswith("8 photos: 6 faces embedded from 6, "
                                "1 without a face, 1 unreadable")
  assert done.stderr.count("corrupt.jpg") == 1
  done = _app("cluster", "--embeddings", tmp_path / "emb", "--num_clusters",
              2)
  clusters = _json(done, 0)
  assert clusters["num_items"] == 6 and clusters["labelled_items"] == 0
  assert "precision" not in clusters
  lines = [l for l in done.stdout.splitlines() if l.startswith("cluster ")]
  assert lines == [
      "cluster 0 (3): Al_Gore_0001.jpg, Al_Gore_0002.jpg, Al_Gore_0003.jpg",
      "cluster 1 (3): Serena_Williams_0001.jpg, Serena_Williams_0002.jpg, "
      "Serena_Williams_0003.jpg"], done.stdout
  assert "No metrics: precision, recall and NMI need" in done.stdout


def test_linked_identity_folders_and_files_are_embedded_loops_cut(trees,
                                                                  tmp_path):
  """Item 11: linked folders and a linked loose photo; the loop link adds
  nothing. Clustering scores the labelled faces only."""
  done = _app("embed", "--images_dir", trees / "linked", "--output_dir",
              tmp_path / "emb")
  result = _json(done, 0)
  assert (result["photos"], result["faces"], result["identities"],
          result["unlabelled"]) == (7, 7, 2, 1)
  index = (tmp_path / "emb" / "index.csv").read_text()
  assert "loop" not in index
  clusters = _json(_app("cluster", "--embeddings", tmp_path / "emb"), 0)
  assert clusters["labelled_items"] == 6 and clusters["num_items"] == 7
  assert clusters["num_identities"] == 2 and "precision" in clusters


def test_a_tree_without_images_exits_2_naming_it(trees):
  done = _app("embed", "--images_dir", trees / "empty", "--output_dir",
              trees / "never")
  errors = [l for l in done.stderr.splitlines() if ": error: " in l]
  assert done.returncode == 2, done.stderr[-3000:]
  assert len(errors) == 1 and "No images" in errors[0]
  assert str(trees / "empty") in errors[0]
  assert not (trees / "never").exists()
