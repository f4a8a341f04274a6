"""The apps on ordinary photos with the packaged model (issue #15).

No --saved_model: the reference model shipped in the package is used.
Photos are LFW's uncropped 250 px images; bad inputs (missing, corrupt,
truncated, not an image, a decompression bomb, a photo without a face) each
get their own line and a count, and the others are still answered.
"""
import io
import json
import os
import pathlib
import shutil
import struct
import subprocess
import sys
import zlib

import numpy as np
from PIL import Image
import pytest

from tests.conftest import shared_path

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _app(name, *args):
  return subprocess.run([sys.executable, "-m", f"facenet_tf.apps.{name}",
                         *map(str, args)], cwd=ROOT, capture_output=True,
                        text=True, timeout=600)


def _last_json(done):
  assert done.returncode == 0, done.stderr[-3000:]
  return json.loads(done.stdout.strip().splitlines()[-1])


def _json_document(done, returncode=0):
  """--json: stdout is exactly one JSON document (#31 item 3)."""
  assert done.returncode == returncode, done.stderr[-3000:]
  return json.loads(done.stdout)


def _bomb():
  """A PNG header claiming 30,000 x 30,000 pixels (900M)."""
  def chunk(kind, data):
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(kind + data)))
  ihdr = struct.pack(">IIBBBBB", 30000, 30000, 8, 2, 0, 0, 0)
  return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
          + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b""))


@pytest.fixture(scope="module")
def photo_dir(tmp_path_factory):
  """Good photos of three people plus every kind of bad input."""
  lfw = shared_path("data", "lfw", "images")
  root = tmp_path_factory.mktemp("photos")
  people = {"Al_Gore": (1, 2, 3), "Andre_Agassi": (1, 2, 3),
            "Serena_Williams": (1, 2, 3)}
  for name, numbers in people.items():
    (root / "tree" / name).mkdir(parents=True)
    for i in numbers:
      shutil.copy(lfw / name / f"{name}_{i:04d}.jpg", root / "tree" / name)
  bad = root / "bad"
  bad.mkdir()
  (bad / "corrupt.jpg").write_bytes(b"\xff\xd8\xff garbage")
  good = (lfw / "Al_Gore" / "Al_Gore_0004.jpg").read_bytes()
  (bad / "truncated.jpg").write_bytes(good[:len(good) // 3])
  (bad / "notes.jpg").write_text("not a photo at all")
  (bad / "bomb.png").write_bytes(_bomb())
  Image.new("RGB", (300, 200), (120, 140, 160)).save(bad / "wall.jpg")
  return root


@pytest.mark.integration
def test_compare_uncropped_photos_gives_the_right_answer(photo_dir):
  tree = photo_dir / "tree"
  done = _app("compare", tree / "Al_Gore/Al_Gore_0001.jpg",
              tree / "Al_Gore/Al_Gore_0002.jpg",
              tree / "Andre_Agassi/Andre_Agassi_0001.jpg", "--json")
  result = _json_document(done)
  assert [f["face"] for f in result["faces"]] == [0, 0, 0]
  same = {(p["first"], p["second"]): p["same"] for p in result["pairs"]}
  assert same == {(0, 1): True, (0, 2): False, (1, 2): False}, done.stdout
  assert result["operating_point"]["calibrated_for"] == "best accuracy"
  assert result["operating_point"]["calibrated_on"] == "LFW DevTrain pairs"
  # The readable lines went to stderr, naming the threshold in words.
  assert "face 0 box (" in done.stderr
  assert "(best accuracy on LFW DevTrain pairs)" in done.stderr
  assert "/shared/" not in done.stderr.replace(str(photo_dir), "")
  # Quiet: no TensorFlow start-up lines on the terminal.
  assert "oneDNN" not in done.stderr and "cuda" not in done.stderr.lower()


@pytest.mark.integration
def test_compare_reports_each_bad_photo_and_goes_on(photo_dir):
  bad, tree = photo_dir / "bad", photo_dir / "tree"
  names = ["missing.jpg", "corrupt.jpg", "truncated.jpg", "notes.jpg",
           "bomb.png", "wall.jpg"]
  done = _app("compare", tree / "Al_Gore/Al_Gore_0001.jpg",
              tree / "Al_Gore/Al_Gore_0002.jpg",
              *[bad / n for n in names], "--json")
  # Some photos unreadable, the others compared: exit code 1 (#31 item 2).
  result = _json_document(done, returncode=1)
  assert "5 of 8 photos could not be read" in done.stderr
  assert result["summary"] == {"photos": 8, "faces": 2, "no_face": 1,
                               "unreadable": 5}
  problems = {pathlib.Path(p["photo"]).name: p["problem"]
              for p in result["problems"]}
  assert "no such file" in problems["missing.jpg"]
  assert "decompression bomb" in problems["bomb.png"]
  assert problems["wall.jpg"].endswith("no face found")
  for name in ("corrupt.jpg", "truncated.jpg", "notes.jpg"):
    assert "cannot be read as an image" in problems[name]
  assert len(result["pairs"]) == 1 and result["pairs"][0]["same"]


@pytest.mark.integration
def test_embed_recognize_and_cluster_photos(photo_dir, tmp_path):
  tree = photo_dir / "tree"
  (tree / "Zz_Wall").mkdir(exist_ok=True)
  shutil.copy(photo_dir / "bad" / "wall.jpg", tree / "Zz_Wall")
  shutil.copy(photo_dir / "bad" / "corrupt.jpg", tree / "Zz_Wall")
  embedded = tmp_path / "emb"
  done = _app("embed", "--images_dir", tree, "--output_dir", embedded)
  assert done.returncode == 1, done.stderr[-3000:]  # corrupt.jpg
  result = json.loads(done.stdout.strip().splitlines()[-1])
  assert (result["photos"], result["faces"], result["no_face"],
          result["skipped"]) == (11, 9, 1, 1)
  index = (embedded / "index.csv").read_text().splitlines()
  assert index[0] == "row,path,identity,label,face,x1,y1,x2,y2,score"
  assert json.loads((embedded / "model.json").read_text())["alignment"]
  # Enroll from images 1-2, identify image 3 of each person.
  enroll = tmp_path / "people"
  for person in ("Al_Gore", "Andre_Agassi", "Serena_Williams"):
    (enroll / person).mkdir(parents=True)
    for i in (1, 2):
      shutil.copy(tree / person / f"{person}_{i:04d}.jpg", enroll / person)
  probes = [tree / p / f"{p}_0003.jpg" for p in ("Al_Gore", "Andre_Agassi",
                                                  "Serena_Williams")]
  gallery_file = tmp_path / "people.npz"
  done = _app("recognize", "--enroll_dir", enroll, "--save_gallery",
              gallery_file, "--json", *probes)
  first = _json_document(done)
  names = [f["nearest"] for f in first["faces"]]
  assert names == ["Al_Gore", "Andre_Agassi", "Serena_Williams"], done.stdout
  again = _json_document(_app("recognize", "--gallery", gallery_file,
                              "--json", *probes))
  assert [f["distance"] for f in again["faces"]] == pytest.approx(
      [f["distance"] for f in first["faces"]], abs=1e-5)
  clusters = _last_json(_app("cluster", "--embeddings", embedded,
                             "--num_clusters", 3))
  assert clusters["num_items"] == 9 and clusters["photos_without_face"] == 1


@pytest.mark.integration
def test_compare_and_recognize_share_one_operating_point(photo_dir, tmp_path):
  """#31 item 1: a pair compare calls "same" is recognized too, both name
  the same threshold in words; --far 1e-3 selects the open-set one."""
  tree = photo_dir / "tree"
  first, second = (tree / "Al_Gore" / f"Al_Gore_000{i}.jpg" for i in (1, 2))
  compared = _json_document(_app("compare", first, second, "--json"))
  (tmp_path / "people" / "Al_Gore").mkdir(parents=True)
  shutil.copy(first, tmp_path / "people" / "Al_Gore")
  recognized = _json_document(_app("recognize", "--enroll_dir",
                                   tmp_path / "people", "--json", second))
  assert compared["operating_point"] == recognized["operating_point"]
  assert compared["operating_point"]["description"] == (
      "best accuracy on LFW DevTrain pairs")
  [pair], [face] = compared["pairs"], recognized["faces"]
  assert face["distance"] == pytest.approx(pair["distance"], abs=1e-4)
  assert pair["same"] and face["name"] == "Al_Gore"
  assert face["description"] == "best accuracy on LFW DevTrain pairs"
  strict = _app("recognize", "--enroll_dir", tmp_path / "people", "--far",
                "1e-3", second)
  assert strict.returncode == 0, strict.stderr[-3000:]
  assert "(FAR 1e-3 on LFW DevTrain pairs)" in strict.stdout


@pytest.mark.integration
def test_nothing_readable_exits_2_with_one_json_document(photo_dir):
  bad = photo_dir / "bad"
  done = _app("compare", bad / "missing.jpg", bad / "notes.jpg", "--json")
  result = _json_document(done, returncode=2)
  assert result["summary"]["unreadable"] == 2
  errors = [line for line in done.stderr.splitlines() if ": error: " in line]
  assert errors == ["compare.py: error: none of the 2 photos could be read"]


_PYTHON_API = """
import warnings
from facenet_tf import photos
recognizer = photos.FaceRecognizer()
print(recognizer.verify(FIRST, SECOND))
print(recognizer.faces([WALL, BACKGROUND])[0])
with warnings.catch_warnings(record=True) as caught:
  warnings.simplefilter("always")
  report = photos.Gallery(recognizer).enroll("Nobody", [WALL])
print(report["enrolled"], [str(w.message) for w in caught])
"""


@pytest.mark.integration
def test_python_api_prints_one_line_results_and_no_warnings_on_no_face(
    photo_dir):
  """#31 item 9: print(verify) is one line; photos without a face (a plain
  wall and a photo upside down, where MTCNN's first stages find candidates
  and the last rejects them) add no TensorFlow warnings, even with its
  logging fully on; enrolling one is reported."""
  tree = photo_dir / "tree"
  background = photo_dir / "upside_down.jpg"
  with Image.open(tree / "Andre_Agassi/Andre_Agassi_0001.jpg") as photo:
    photo.transpose(Image.Transpose.FLIP_TOP_BOTTOM).save(background)
  script = _PYTHON_API.replace("FIRST", repr(str(
      tree / "Al_Gore/Al_Gore_0001.jpg"))).replace("SECOND", repr(str(
          tree / "Al_Gore/Al_Gore_0002.jpg"))).replace(
              "WALL", repr(str(photo_dir / "bad" / "wall.jpg"))).replace(
                  "BACKGROUND", repr(str(background)))
  done = subprocess.run([sys.executable, "-c", script], cwd=ROOT,
                        capture_output=True, text=True, timeout=600,
                        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "0"})
  assert done.returncode == 0, done.stderr[-3000:]
  verdict, photo, enrolled = done.stdout.strip().splitlines()
  assert verdict.startswith("Verification(same: distance ") and (
      "(best accuracy on LFW DevTrain pairs)" in verdict)
  assert photo.startswith("PhotoFaces(") and "0 faces" in photo
  assert enrolled.startswith("0 [") and "no face found" in enrolled
  for noise in ("rendezvous", "Incompatible shapes"):
    assert noise not in done.stderr, done.stderr[-3000:]
