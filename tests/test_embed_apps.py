"""facenet-embed, -recognize, -cluster and -compare --aligned on AT&T/ORL.

A smoke-trained model embeds the 400 ORL faces (PGM, which only the Pillow
reader decodes; already face crops, hence --aligned) through symbolic links,
next to an identity folder holding one undecodable image and a non-image
file. The apps run in subprocesses, as a user runs them. The photo path
(the default: detect, align, embed) is tests/test_photo_apps.py's.
"""
import csv
import json
import pathlib
import subprocess
import sys

import numpy as np
import pytest

from facenet_tf import config as config_lib
from facenet_tf import export_loaders
from facenet_tf.alignment import model_crop
from facenet_tf.evaluation import embedding_io
from facenet_tf.evaluation import recognition
from facenet_tf.training import train_lib
from tests.conftest import shared_path

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _app(name, *args):
  done = subprocess.run([sys.executable, "-m", f"facenet_tf.apps.{name}",
                         *map(str, args)], cwd=ROOT, capture_output=True,
                        text=True, timeout=300)
  return done


def _last_json(done, returncode=0):
  assert done.returncode == returncode, done.stderr[-3000:]
  return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def orl(tmp_path_factory):
  """(smoke workdir, ORL tree plus an unreadable image, facenet-embed output,
  its JSON line)."""
  source = shared_path("data", "att_orl")
  root = tmp_path_factory.mktemp("orl_apps")
  workdir = root / "model"
  train_lib.train(config_lib.get_config("smoke"), str(workdir))
  tree = root / "tree"
  tree.mkdir()
  for folder in sorted(source.glob("s*")):
    (tree / folder.name).symlink_to(folder)
  (tree / "zz_unreadable").mkdir()
  (tree / "zz_unreadable" / "broken.jpg").write_bytes(b"not a JPEG")
  (tree / "zz_unreadable" / "notes.txt").write_text("not an image")
  embedded = root / "embedded"
  # Exit code 1: one image is unreadable, the others are embedded.
  result = _last_json(_app("embed", "--workdir", workdir, "--images_dir", tree,
                           "--output_dir", embedded, "--aligned"), 1)
  return workdir, tree, embedded, result


@pytest.mark.integration
def test_embed_writes_sorted_rows_and_lists_the_unreadable(orl):
  workdir, tree, embedded, result = orl
  assert result == {"output_dir": str(embedded), "photos": 401,
                    "faces": 400, "identities": 40, "unlabelled": 0,
                    "embedding_dim": 128, "no_face": 0, "skipped": 1}
  data = embedding_io.read_embeddings(embedded)
  assert data.embeddings.shape == (400, 128)
  assert data.embeddings.dtype == np.float32
  np.testing.assert_allclose(np.linalg.norm(data.embeddings, axis=1), 1,
                             atol=1e-5)
  # Sorted by identity folder (s1, s10, s11, ...), then file name.
  assert data.paths[:2] == [str(tree / "s1" / "1.pgm"),
                            str(tree / "s1" / "10.pgm")]
  assert data.identities[10] == "s10" and data.labels[10] == 1
  assert data.skipped[0][0] == str(tree / "zz_unreadable" / "broken.jpg")
  # Row i is the embedding of path i.
  model = export_loaders.load(workdir / "saved_model")
  rows = [0, 137, 399]
  pixels = embedding_io.load_images([data.paths[i] for i in rows],
                                    model_crop.ModelInput.of(model))
  np.testing.assert_allclose(model(pixels), data.embeddings[rows], atol=1e-5)


@pytest.mark.integration
def test_recognize_on_orl(orl):
  _, _, embedded, _ = orl
  done = _app("recognize", "--embeddings", embedded, "--json")
  result = json.loads(done.stdout)  # stdout is one JSON document
  assert done.returncode == 0, done.stderr[-3000:]
  print(done.stdout)
  assert (result["gallery"], result["known_probes"],
          result["unknown_probes"]) == (30, 270, 100)
  rates = result["identification_rate"]
  assert 0 <= rates["1"] <= rates["5"] <= 1
  data = embedding_io.read_embeddings(embedded)
  want = recognition.evaluate(data.embeddings, data.labels,
                              unknown_fraction=0.25)
  assert rates == {str(k): v for k, v in want["identification_rate"].items()}
  assert result["open_set"]["far"] == want["open_set"]["far"]


@pytest.mark.integration
def test_cluster_embeddings_with_outputs(orl, tmp_path):
  _, _, embedded, _ = orl
  done = _app("cluster", "--embeddings", embedded, "--method", "components",
              "--threshold", 0.05, "--output_csv", tmp_path / "clusters.csv",
              "--links_dir", tmp_path / "links")
  result = _last_json(done)
  print(done.stdout)
  assert result["num_items"] == 400 and result["num_identities"] == 40
  assert {"precision", "recall", "f1", "nmi"} <= set(result)
  with open(tmp_path / "clusters.csv", newline="") as f:
    rows = list(csv.DictReader(f))
  assert len(rows) == 400
  assert len({row["cluster"] for row in rows}) == result["num_clusters"]
  links = [p for p in (tmp_path / "links").rglob("*") if p.is_symlink()]
  assert len(links) == 400


@pytest.mark.integration
def test_cluster_a_tree_with_a_model(orl):
  workdir, tree, _, _ = orl
  done = _app("cluster", "--images_dir", tree, "--workdir", workdir,
              "--num_clusters", 40, "--aligned")
  result = _last_json(done, 1)  # broken.jpg is unreadable
  print(done.stdout)
  assert result["num_clusters"] == 40 and result["num_items"] == 400
  assert done.stderr.count("broken.jpg") == 1  # named, once


@pytest.mark.integration
def test_compare_prints_matrix_and_json(orl):
  workdir, tree, _, _ = orl
  images = [tree / "s1" / "1.pgm", tree / "s1" / "2.pgm", tree / "s2" / "1.pgm"]
  done = _app("compare", "--workdir", workdir, *images, "--threshold", 0.5,
              "--json", "--aligned")
  result = _last_json(done)
  d = np.array(result["distances"])
  assert d.shape == (3, 3) and np.allclose(d, d.T) and np.all(d.diagonal() == 0)
  assert [(p["first"], p["second"]) for p in result["pairs"]] == [
      (0, 1), (0, 2), (1, 2)]
  assert all(p["same"] == (p["distance"] <= 0.5) for p in result["pairs"])
  assert "[0] vs [1]" in done.stderr  # --json: readable lines on stderr


@pytest.mark.integration
@pytest.mark.parametrize("name,args,message", [
    ("embed", ["--workdir", "{workdir}", "--images_dir", "{missing}",
               "--output_dir", "{out}"], "does not exist"),
    ("recognize", ["--images_dir", "{empty}", "--workdir", "{workdir}",
                   "--aligned"], "No identity folder"),
    ("cluster", ["--embeddings", "{out}", "--threshold", "1",
                 "--num_clusters", "3"], "threshold"),
    ("compare", ["--workdir", "{workdir}", "{missing}/1.pgm",
                 "{tree}/zz_unreadable/broken.jpg", "--aligned"],
     "none of the 2 photos could be read"),
])
def test_user_errors_exit_2_with_one_line(orl, tmp_path, name, args, message):
  workdir, tree, embedded, _ = orl
  (tmp_path / "empty" / "person").mkdir(parents=True)
  values = {"workdir": workdir, "tree": tree, "out": embedded,
            "missing": tmp_path / "missing", "empty": tmp_path / "empty"}
  done = _app(name, *[arg.format(**values) for arg in args])
  errors = [line for line in done.stderr.splitlines() if ": error: " in line]
  assert done.returncode == 2, done.stderr[-3000:]
  assert len(errors) == 1 and message in errors[0], done.stderr[-3000:]
  assert "Traceback" not in done.stderr
