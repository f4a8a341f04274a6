"""facenet-embed --runner beam equals the local embedding (issue #16).

A small tree of LFW photos (three people, three photos each) plus a photo
without a face (a blank) and an unreadable file, embedded with the packaged
reference model: as photos (MTCNN + alignment), as aligned crops (the same
tree through data_pipelines.align), and from TFRecord shards of those crops.
Each Beam run (DirectRunner, in this process) is read back with
embedding_io.read_embeddings and must equal the local run: rows, paths,
identities, labels, boxes, no-face and skipped lists, embeddings to 1e-4:
the two runs batch faces differently (Beam 4 at a time), and the packaged
model's flatten head sums 4,096 products per output, whose float rounding
depends on the batch (measured: one of 1,152 values 1.1e-5 apart); a
squared distance moves by < 1e-3, against thresholds of 0.5-1.1.
"""
import json
import pathlib
import shutil
import subprocess
import sys

import numpy as np
from PIL import Image
import pytest

from data_pipelines import align
from data_pipelines import build_tfrecords
from data_pipelines.align_worker import AlignOptions
from facenet_tf import export_loaders
from facenet_tf import export_metadata
from facenet_tf import photos
from facenet_tf import pretrained
from facenet_tf.evaluation import embedding_io
from facenet_tf.evaluation import embedding_records
from facenet_tf.photos import photo_tree
from tests.conftest import shared_path

pytest.importorskip("apache_beam", reason="apache-beam is the beam extra")
from data_pipelines import beam_embed  # noqa: E402

pytestmark = pytest.mark.integration
PEOPLE = ("Al_Gore", "Andre_Agassi", "Serena_Williams")


@pytest.fixture(scope="module")
def trees(tmp_path_factory):
  lfw = shared_path("data", "lfw", "images")
  root = tmp_path_factory.mktemp("embed")
  for name in PEOPLE:
    (root / "photos" / name).mkdir(parents=True)
    for i in (1, 2, 3):
      shutil.copy(lfw / name / f"{name}_{i:04d}.jpg", root / "photos" / name)
  (root / "photos" / "Zz_Bad").mkdir()
  Image.new("RGB", (250, 250), (128, 128, 128)).save(
      root / "photos" / "Zz_Bad" / "blank.jpg")
  (root / "photos" / "Zz_Bad" / "broken.jpg").write_bytes(b"\xff\xd8 no")
  geometry = export_metadata.read(
      pretrained.reference_model_path()).alignment.geometry
  align.align_dataset(root / "photos", root / "aligned",
                      AlignOptions(geometry=geometry))
  (root / "aligned" / "Zz_Bad").mkdir(exist_ok=True)
  (root / "aligned" / "Zz_Bad" / "broken.png").write_bytes(b"not a PNG")
  build_tfrecords.build(str(root / "aligned"), str(root / "shards"),
                        num_shards=2, num_workers=1)
  return root


def _same(got, want):
  assert got.paths == want.paths
  assert got.identities == want.identities
  np.testing.assert_array_equal(got.labels, want.labels)
  assert got.faces == want.faces
  assert got.no_face == want.no_face
  assert [p for p, _ in got.skipped] == [p for p, _ in want.skipped]
  np.testing.assert_allclose(got.embeddings, want.embeddings, atol=1e-4)


def _beam(tmp_path, **source):
  out = tmp_path / "beam"
  manifest = beam_embed.run(pretrained.reference_model_path(), str(out), [],
                            num_shards=3, batch_size=4, **source)
  assert len(manifest["shards"]) == 3
  return embedding_io.read_embeddings(str(out))


def test_photos(trees, tmp_path):
  paths, identities = embedding_io.list_tree(trees / "photos")
  local = photo_tree.embed_photos(photos.FaceRecognizer(), paths, identities)
  assert len(local.paths) == 9 and len(local.no_face) == 1
  assert len(local.skipped) == 1
  _same(_beam(tmp_path, images_dir=str(trees / "photos")), local)


def test_aligned_crops(trees, tmp_path):
  model = export_loaders.load(pretrained.reference_model_path())
  local = embedding_io.embed_files(
      model, *embedding_io.list_tree(trees / "aligned"))
  assert len(local.paths) == 9 and len(local.skipped) == 1
  _same(_beam(tmp_path, images_dir=str(trees / "aligned"), aligned=True),
        local)


def test_tfrecord_shards(trees, tmp_path):
  model = export_loaders.load(pretrained.reference_model_path())
  local = embedding_records.embed_records(model, trees / "shards")
  assert len(local.paths) == 9  # the broken PNG is not in the shards
  beam = _beam(tmp_path, tfrecords_dir=str(trees / "shards"))
  _same(beam, local)
  aligned = embedding_io.embed_files(
      model, *embedding_io.list_tree(trees / "aligned"))
  # The same crops from a tree and from its shards: the same embeddings.
  np.testing.assert_allclose(beam.embeddings, aligned.embeddings, atol=1e-5)


def test_app_runs_beam_and_the_tools_read_its_shards(trees, tmp_path):
  root = pathlib.Path(__file__).resolve().parents[1]
  run = lambda *args: subprocess.run(
      [sys.executable, "-m", *map(str, args)], cwd=root, capture_output=True,
      text=True, timeout=600)
  out = tmp_path / "emb"
  done = run("facenet_tf.apps.embed", "--tfrecords", trees / "shards",
             "--output_dir", out, "--runner", "beam", "--num_shards", 2, "--",
             "--direct_num_workers=1")
  assert done.returncode == 0, done.stderr[-3000:]
  assert json.loads(done.stdout.strip().splitlines()[-1])["faces"] == 9
  assert sorted(p.name for p in out.glob("*.npz")) == [
      "embeddings-00000-of-00002.npz", "embeddings-00001-of-00002.npz"]
  done = run("facenet_tf.apps.cluster", "--embeddings", out,
             "--num_clusters", 3)
  assert done.returncode == 0, done.stderr[-3000:]
  assert json.loads(done.stdout.strip().splitlines()[-1])["num_items"] == 9
  done = run("facenet_tf.apps.embed", "--images_dir", trees / "photos",
             "--output_dir", tmp_path / "x", "--", "--direct_num_workers=1")
  assert done.returncode == 2 and "are for --runner beam" in done.stderr
