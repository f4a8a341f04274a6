"""build_tfrecords: a face tree -> identity records + manifest, two runners."""
import io
import json
import pathlib
import subprocess
import sys

import numpy as np
from PIL import Image
import pytest
import tensorflow as tf

from data_pipelines import build_tfrecords
from data_pipelines import tfrecords_identities
from data_pipelines import tfrecords_images
from data_pipelines import tfrecords_output
from data_pipelines.tfrecords_identities import ConversionError
from facenet_tf.data import pk_sampler
from facenet_tf.data import records
from tests.conftest import shared_path

ROOT = pathlib.Path(__file__).resolve().parents[1]
# identity -> (file name, Pillow format, (height, width), Pillow mode)
GOOD = {
    "alice": [("a1.jpg", "JPEG", (40, 30), "RGB"),
              ("a2.jpeg", "JPEG", (25, 50), "L"),
              ("a3.png", "PNG", (33, 33), "RGB")],
    "bob": [("b1.png", "PNG", (20, 44), "L"),
            ("b2.bmp", "BMP", (31, 17), "RGB"),
            ("b3.gif", "GIF", (16, 16), "P")],
    "dave": [("d1.jpg", "JPEG", (50, 40), "RGB"),
             ("misnamed.jpg", "PNG", (12, 18), "RGB")],
    "frank": [("f1.ppm", "PPM", (22, 19), "RGB"),
              ("f2.pgm", "PPM", (22, 19), "L"),
              ("f3.tif", "TIFF", (9, 14), "RGB")],
}
# carol and erin are skipped: labels stay dense (dave is 2, not 3).
LABELS = {"alice": 0, "bob": 1, "dave": 2, "frank": 3}
SKIPPED = {
    "README.txt": "not_an_identity_folder", "alice/corrupt.jpg": "undecodable",
    "bob/truncated.jpg": "undecodable", "carol": "empty_identity",
    "dave/notes.txt": "not_an_image", "erin": "empty_identity",
    "erin/broken.png": "undecodable", "frank/nested": "directory"}


def _jpeg(rng, size=(30, 40)):
  buffer = io.BytesIO()
  Image.fromarray(rng.integers(0, 256, (*size, 3), np.uint8)).save(
      buffer, format="JPEG")
  return buffer.getvalue()


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
  """Good images of 7 formats, plus every kind of bad input."""
  root = tmp_path_factory.mktemp("faces")
  rng = np.random.default_rng(0)
  for name, files in GOOD.items():
    (root / name).mkdir()
    for file_name, image_format, size, mode in files:
      pixels = rng.integers(0, 256, (*size, 3), np.uint8)
      Image.fromarray(pixels).convert(mode).save(root / name / file_name,
                                                 format=image_format)
  for folder in ("carol", "erin", "frank/nested"):
    (root / folder).mkdir()
  (root / "README.txt").write_text("not a face")
  (root / "alice/corrupt.jpg").write_bytes(rng.bytes(500))
  (root / "bob/truncated.jpg").write_bytes(_jpeg(rng)[:300])
  (root / "dave/notes.txt").write_text("not a face either")
  (root / "erin/broken.png").write_bytes(rng.bytes(200))
  return root


def _build(input_dir, output_dir, runner, **kwargs):
  if runner == "local":
    kwargs["num_workers"] = 2
  return build_tfrecords.build(str(input_dir), str(output_dir), runner=runner,
                               **kwargs)


@pytest.fixture(scope="module")
def converted(tree, tmp_path_factory):
  """{runner: output dir} of the synthetic tree, 3 shards."""
  outputs = {r: tmp_path_factory.mktemp(r) for r in build_tfrecords.RUNNERS}
  for runner, output_dir in outputs.items():
    _build(tree, output_dir, runner, name="faces", num_shards=3)
  return outputs


def _read(output_dir):
  """(manifest, {source path: (label, name, stored bytes, format, h, w)})."""
  manifest = json.loads((output_dir / "manifest.json").read_text())
  shards = [str(output_dir / shard) for shard in manifest["shards"]]
  images = {}
  for serialized in tf.data.TFRecordDataset(shards):
    record = records.parse_identity(serialized)
    columns = [record[k].numpy().tolist()
               for k in ("paths", "images", "formats", "heights", "widths")]
    for path, data, image_format, height, width in zip(*columns):
      assert path.decode() not in images, "an image is stored twice"
      images[path.decode()] = (int(record["label"]), record["name"].numpy(),
                               data, image_format.decode(), height, width)
  return manifest, images


@pytest.mark.integration
def test_every_good_image_once_with_label_pixels_and_size(converted, tree):
  _, images = _read(converted["local"])
  assert sorted(images) == sorted(
      f"{name}/{f[0]}" for name, files in GOOD.items() for f in files)
  for name, files in GOOD.items():
    for file_name, image_format, (height, width), mode in files:
      label, stored_name, data, stored_format, h, w = images[
          f"{name}/{file_name}"]
      assert (label, stored_name, h, w) == (LABELS[name], name.encode(),
                                            height, width)
      source = tree / name / file_name
      if image_format in ("JPEG", "PNG"):  # kept as the file's own bytes
        assert (data, stored_format) == (source.read_bytes(),
                                         image_format.lower())
      if image_format == "JPEG":
        continue  # TF's and Pillow's JPEG decoders differ by a few levels
      assert stored_format == "png"
      grey = mode == "L"
      expected = np.asarray(Image.open(source).convert("L" if grey else "RGB"))
      decoded = tf.io.decode_png(data).numpy()
      assert decoded.shape == (height, width, 1 if grey else 3)
      np.testing.assert_array_equal(decoded[..., 0] if grey else decoded,
                                    expected)


@pytest.mark.integration
def test_manifest_counts_labels_and_every_skipped_path(converted, tree):
  manifest = json.loads((converted["local"] / "manifest.json").read_text())
  assert {e["path"]: e["reason"] for e in manifest["skipped"]} == SKIPPED
  assert manifest["skipped_counts"] == {
      "directory": 1, "empty_identity": 2, "not_an_identity_folder": 1,
      "not_an_image": 1, "undecodable": 3}
  assert manifest["num_images"] == 11 and manifest["num_identities"] == 4
  # Folders go round-robin in the seeded record order, skipped ones
  # included; labels follow the sorted names.
  shard_of = dict(tfrecords_identities.list_identities(
      str(tree), 3, seed=0)[0])
  assert manifest["identities"] == {
      n: {"label": LABELS[n], "num_images": len(GOOD[n]), "shard": shard_of[n]}
      for n in GOOD}
  assert manifest["shards"] == [f"faces.tfrecord-0000{i}-of-00003"
                                for i in range(3)]
  assert manifest["shard_num_images"] == [
      sum(len(GOOD[n]) for n in GOOD if shard_of[n] == i) for i in range(3)]
  assert manifest["images"]["stored_formats"] == {"jpeg": 3, "png": 8}
  assert manifest["images"]["channels"] == {"1": 3, "3": 8}
  assert not manifest["images"]["all_same_size"]
  assert manifest["images"]["height_range"] == [9, 50]
  assert manifest["schema_version"] == records.SCHEMA_VERSION
  assert manifest["run"]["runner"] == "local"


def _assert_same_output(first, second):
  names = sorted(p.name for p in first.iterdir())
  assert names == sorted(p.name for p in second.iterdir())
  for name in names:
    if name != "manifest.json":
      assert (first / name).read_bytes() == (second / name).read_bytes(), name
  manifests = [json.loads((d / "manifest.json").read_text())
               for d in (first, second)]
  assert [m.pop("run")["runner"] for m in manifests] == ["local", "beam"]
  assert manifests[0] == manifests[1]


@pytest.mark.unit
def test_record_order_is_seeded_balanced_and_spread_over_the_names(tmp_path):
  """120 folders, 3 shards: 40 each. Sorted, the first 12 records would be
  names 0-11 (span 11); a random order's first 12 span ~100 of 119."""
  names = [f"id_{i:03d}" for i in range(120)]
  for name in names:
    (tmp_path / name).mkdir()
  order, _ = tfrecords_identities.list_identities(str(tmp_path), 3, seed=0)
  assert order == tfrecords_identities.list_identities(str(tmp_path), 3)[0]
  assert order != tfrecords_identities.list_identities(
      str(tmp_path), 3, seed=1)[0]
  assert sorted(n for n, _ in order) == names
  assert [s for _, s in order] == [i % 3 for i in range(120)]
  first = [names.index(n) for n, _ in order[:12]]
  assert max(first) - min(first) > 60, first


@pytest.mark.integration
def test_a_small_shuffle_buffer_draws_identities_from_the_whole_tree(tmp_path):
  """The P x K sampler over converted shards: 60 identities "a_00".."b_29"
  (two sources, as in a merged tree), 2 shards, a buffer of 6 identities,
  P = 4. Records in name order gave its first 3 batches labels within ~10
  of each other, all of source a; the record order spreads them."""
  rng = np.random.default_rng(0)
  for name in [f"{s}_{i:02d}" for s in "ab" for i in range(30)]:
    (tmp_path / "tree" / name).mkdir(parents=True)
    for j in range(2):
      (tmp_path / "tree" / name / f"{j}.jpg").write_bytes(_jpeg(rng, (8, 8)))
  _build(tmp_path / "tree", tmp_path / "shards", "local", num_shards=2)
  batches = pk_sampler.pk_dataset(str(tmp_path / "shards"), p=4, k=2,
                                  image_size=8, shuffle_buffer=6)
  labels = np.concatenate([y.numpy() for _, y in batches.take(3)])
  assert labels.max() - labels.min() > 30 and labels.max() >= 30, labels


@pytest.mark.integration
def test_local_and_beam_runners_write_identical_bytes(converted):
  _assert_same_output(converted["local"], converted["beam"])


@pytest.mark.integration
def test_min_images_skips_identities_and_labels_stay_dense(tree, tmp_path):
  manifest = _build(tree, tmp_path, "beam", num_shards=2, min_images=3)
  assert {n: v["label"] for n, v in manifest["identities"].items()} == {
      "alice": 0, "bob": 1, "frank": 2}
  assert manifest["skipped_counts"]["too_few_images"] == 1  # dave


def _check_att_orl(output_dir, orl):
  manifest, images = _read(output_dir)
  assert sorted(images) == sorted(
      p.relative_to(orl).as_posix() for p in orl.glob("*/*.pgm"))
  assert (manifest["num_identities"], manifest["num_images"]) == (40, 400)
  assert manifest["images"]["most_common_sizes"] == {"112x92": 400}
  for path, (label, name, data, _, _, _) in images.items():
    assert name.decode() == path.split("/")[0]
    assert label == manifest["identities"][name.decode()]["label"]
    np.testing.assert_array_equal(tf.io.decode_png(data).numpy()[..., 0],
                                  np.asarray(Image.open(orl / path)))


@pytest.mark.integration
def test_att_orl_pgm_faces(tmp_path):
  # The Beam DirectRunner runs in this process: no workers to start.
  orl = shared_path("data", "att_orl")
  _build(orl, tmp_path, "beam", num_shards=4)
  _check_att_orl(tmp_path, orl)


@pytest.mark.slow
def test_att_orl_local_and_beam_runners_write_identical_bytes(tmp_path):
  orl = shared_path("data", "att_orl")
  for runner in build_tfrecords.RUNNERS:
    _build(orl, tmp_path / runner, runner, num_shards=4)
  _assert_same_output(tmp_path / "local", tmp_path / "beam")
  _check_att_orl(tmp_path / "local", orl)


@pytest.mark.unit
def test_jpeg_that_tensorflow_refuses_is_reencoded_from_pillow(monkeypatch):
  def refuse(*args, **kwargs):
    raise tf.errors.InvalidArgumentError(None, None, "refused")
  data = _jpeg(np.random.default_rng(1))
  expected = np.asarray(Image.open(io.BytesIO(data)))
  monkeypatch.setattr(tf.io, "decode_image", refuse)
  image = tfrecords_images.convert(data)
  assert (image["format"], image["source_format"]) == ("png", "jpeg")
  np.testing.assert_array_equal(tf.io.decode_png(image["bytes"]).numpy(),
                                expected)


def _flat_tree(tmp_path):
  (tmp_path / "flat").mkdir()
  (tmp_path / "flat" / "a.jpg").touch()
  return tmp_path / "flat"


def _output_holding(tmp_path, file_name):
  (tmp_path / "out").mkdir()
  (tmp_path / "out" / file_name).touch()
  return tmp_path / "out"


BAD_REQUESTS = {  # case: ((tree, tmp_path) -> arguments to change, message)
    "empty tree": (lambda tree, tmp: {"input_dir": _flat_tree(tmp)},
                   "holds no identity folder"),
    "non-empty output": (lambda tree, tmp: {"output_dir": _output_holding(
        tmp, "x.tfrecord-00000-of-00001")}, "pass --overwrite"),
    "foreign files": (lambda tree, tmp: {"output_dir": _output_holding(
        tmp, "notes.txt"), "overwrite": True}, "did not write"),
    "output inside input": (lambda tree, tmp: {"output_dir": tree / "out"},
                            "inside input_dir"),
    "no shards": (lambda *_: {"num_shards": 0}, "num_shards must be >= 1"),
    "min images": (lambda *_: {"min_images": 0}, "min_images must be >= 1"),
    "bad name": (lambda *_: {"name": "a/b"}, "name 'a/b'"),
    "pipeline args": (lambda *_: {"pipeline_args": ["--x"]},
                      "are for --runner beam"),
    "beam workers": (lambda *_: {"runner": "beam", "num_workers": 2},
                     "--num_workers is for --runner local"),
}


@pytest.mark.unit
@pytest.mark.parametrize("case", sorted(BAD_REQUESTS))
def test_bad_requests_are_refused_before_any_work(case, tree, tmp_path):
  changes, message = BAD_REQUESTS[case]
  arguments = {"input_dir": tree, "output_dir": tmp_path / "out",
               **changes(tree, tmp_path)}
  input_dir, output_dir = (str(arguments.pop(k))
                           for k in ("input_dir", "output_dir"))
  with pytest.raises(ConversionError, match=message):
    build_tfrecords.build(input_dir, output_dir, **arguments)
  assert not (tree / "out").exists()


@pytest.mark.unit
def test_overwrite_deletes_only_a_previous_conversion(tree, tmp_path):
  own = ["manifest.json", "x.tfrecord-00000-of-00002",
         ".x.tfrecord-00001-of-00002.tmp", ".x.tfrecord-00001-of-00002.staging"]
  for file_name in own:
    (tmp_path / file_name).touch()
  tfrecords_output.prepare_output_dir(str(tree), str(tmp_path), overwrite=True)
  assert not list(tmp_path.iterdir())


@pytest.mark.unit
def test_an_interrupted_shard_never_appears_under_its_final_name(tmp_path):
  def records_then_crash():
    yield b"one record"
    raise RuntimeError("killed")
  path = tmp_path / "x.tfrecord-00000-of-00001"
  with pytest.raises(RuntimeError):
    tfrecords_output.write_shard(str(path), records_then_crash())
  assert [p.name for p in tmp_path.iterdir()] == [f".{path.name}.tmp"]
  tfrecords_output.write_shard(str(path), [b"a", b"b"])
  assert list(tf.data.TFRecordDataset(str(path)).as_numpy_iterator()) == [
      b"a", b"b"]
  assert [p.name for p in tmp_path.iterdir()] == [path.name]


@pytest.mark.unit
@pytest.mark.parametrize("arguments, message", [
    (["--output_dir", "o"], "arguments are required: --input_dir"),
    (["--input_dir", "i", "--output_dir", "o", "--num_shards", "x"],
     "invalid int value: 'x'"),
    (["--input_dir", "i", "--output_dir", "o", "--runner", "spark"],
     "invalid choice: 'spark'"),
    (["--input_dir", "/absent", "--output_dir", "o"], "is not a directory"),
])
def test_flag_errors_exit_2_with_a_message(arguments, message, capsys):
  with pytest.raises(SystemExit) as exit_info:
    build_tfrecords.main(arguments)
  assert exit_info.value.code == 2
  assert message in capsys.readouterr().err


@pytest.mark.integration
def test_the_module_exits_2_without_a_traceback(tmp_path):
  result = subprocess.run(
      [sys.executable, "-m", "data_pipelines.build_tfrecords",
       "--input_dir", str(tmp_path / "absent"), "--output_dir", "o"],
      cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
  assert result.returncode == 2, result.stderr
  assert "is not a directory" in result.stderr
  assert "Traceback" not in result.stderr
