"""MTCNN alignment: geometry, planning, flags, and real runs on LFW images."""
import json
import os
import pathlib
import shutil
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from data_pipelines import align
from facenet_tf import atomic_files
from facenet_tf.alignment import detector
from facenet_tf.alignment import geometry as align_geometry
from facenet_tf.alignment import spec as spec_lib
from facenet_tf.alignment import warp
from facenet_tf.evaluation import pairs_evaluator
from data_pipelines.align_worker import AlignOptions
from tests.conftest import shared_path

REPO = pathlib.Path(__file__).resolve().parents[1]
# Two images each of three people whose photos hold one face (checked once).
LFW_FILES = [f"{name}/{name}_000{i}.jpg"
             for name in ("Aaron_Peirsol", "Adam_Sandler", "Al_Gore")
             for i in (1, 2)]
EXTRA_FILES = ["Grey/grey.pgm", "Blank/blank.png", "Broken/broken.jpg",
               "Group/two_faces.png"]
ALIGNED = [*LFW_FILES, "Grey/grey.pgm", "Group/two_faces.png"]


def _png(relative):
  return str(pathlib.PurePosixPath(relative).with_suffix(".png"))


def _written(output_dir):
  """Relative paths of the crops under output_dir (not summary or log)."""
  return sorted(p.relative_to(output_dir).as_posix()
                for p in output_dir.rglob("*") if p.is_file() and
                p.name not in (align.SUMMARY_NAME, align.LOG_NAME,
                               spec_lib.SPEC_FILE))


def _log(output_dir):
  lines = (output_dir / align.LOG_NAME).read_text().splitlines()
  return {record["path"]: record for record in map(json.loads, lines)}


def _box_centre(record):
  x1, y1, x2, y2 = record["box"]
  return (x1 + x2) / 2, (y1 + y2) / 2


@pytest.fixture(scope="module")
def input_tree(tmp_path_factory):
  """6 LFW photos, a grey PGM, a blank, an undecodable file, a 2-face image."""
  lfw = shared_path("data", "lfw", "images")
  root = tmp_path_factory.mktemp("align") / "input"
  for relative in LFW_FILES:
    (root / relative).parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(lfw / relative, root / relative)
  for relative in EXTRA_FILES:
    (root / relative).parent.mkdir(parents=True)
  Image.open(lfw / "Aaron_Sorkin/Aaron_Sorkin_0001.jpg").convert("L").save(
      root / "Grey/grey.pgm")
  Image.new("RGB", (200, 150), (128, 128, 128)).save(root / "Blank/blank.png")
  (root / "Broken/broken.jpg").write_text("not a JPEG")
  # A large face at the left edge and a small one at the centre (301, 200):
  # "largest" and "central" must disagree.
  group = Image.new("RGB", (600, 400), (90, 90, 90))
  group.paste(Image.open(lfw / "Abdullah_Gul/Abdullah_Gul_0001.jpg"), (0, 75))
  small = Image.open(lfw / "Al_Pacino/Al_Pacino_0001.jpg").resize((125, 125))
  group.paste(small, (238, 138))
  group.save(root / "Group/two_faces.png")
  return root


@pytest.fixture(scope="module")
def first_run(input_tree):
  output_dir = input_tree.parent / "output"
  summary = align.align_dataset(input_tree, output_dir, AlignOptions())
  return output_dir, summary


@pytest.mark.unit
def test_choose_face_largest_and_central():
  big_at_edge = [0, 100, 200, 300]     # area 40000, centre (100, 200)
  small_central = [270, 170, 330, 230]  # area 3600, centre (300, 200)
  boxes = np.array([big_at_edge, small_central], np.float64)
  assert align_geometry.choose_face(boxes, (400, 600), "largest") == 0
  assert align_geometry.choose_face(boxes, (400, 600), "central") == 1
  with pytest.raises(ValueError, match="multiple_faces"):
    align_geometry.choose_face(boxes, (400, 600), "first")


@pytest.mark.unit
def test_margin_crop_is_half_margin_per_side_clipped_to_image():
  assert align_geometry.margin_crop_box([50.7, 60.2, 150.5, 170.9], 44,
                                        (250, 250)) == (28, 38, 172, 192)
  assert align_geometry.margin_crop_box([-5, 10, 240, 249], 44,
                                        (250, 240)) == (0, 0, 240, 250)
  assert align_geometry.center_crop_box((100, 160, 3)) == (30, 0, 130, 100)


@pytest.mark.unit
def test_plan_mirrors_tree_counts_done_and_reports_collisions(tmp_path):
  for relative in ("a/x.jpg", "a/x.png", "b/y.pgm", "b/.hidden", "c/z.jpg",
                   "d/w.jpg"):
    (tmp_path / "in" / relative).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / "in" / relative).write_bytes(b"")
  for crop in ("c/z.png", "d/w.png"):
    (tmp_path / "out" / crop).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / "out" / crop).write_bytes(b"")
  # d/w.png has no record that wrote it (a run killed between the crop and
  # its log line): it is made again.
  logged = {"c/z.jpg": {"path": "c/z.jpg", "status": "aligned",
                        "output": "c/z.png"}}
  tasks, done, collisions = align.plan(tmp_path / "in", tmp_path / "out",
                                       AlignOptions(), logged)
  assert tasks == [("a/x.jpg", "a/x.png"), ("b/y.pgm", "b/y.png"),
                   ("d/w.jpg", "d/w.png")]
  assert done == logged
  assert [c["path"] for c in collisions] == ["a/x.png"]


@pytest.mark.unit
def test_plan_follows_linked_folders_and_files_and_cuts_loops(tmp_path):
  """#31 item 11: identity folders and files that are symbolic links are
  aligned; a link back to an ancestor neither hangs nor lists twice."""
  people = tmp_path / "people"
  for relative in ("Ann/a1.jpg", "Ann/a2.jpg", "Bob/b1.jpg", "Cid/c1.jpg"):
    (people / relative).parent.mkdir(parents=True, exist_ok=True)
    (people / relative).write_bytes(b"")
  subset = tmp_path / "subset"
  subset.mkdir()
  (subset / "Ann").symlink_to(people / "Ann")
  (subset / "Bob").mkdir()
  (subset / "Bob" / "b1.jpg").symlink_to(people / "Bob" / "b1.jpg")
  (subset / "Bob" / "loop").symlink_to(subset)     # an ancestor: cut
  (subset / "Ann_again").symlink_to(people / "Ann" / ".." / "Ann")
  tasks, _, _ = align.plan(subset, tmp_path / "out", AlignOptions())
  assert [t[0] for t in tasks] == ["Ann/a1.jpg", "Ann/a2.jpg",
                                   "Ann_again/a1.jpg", "Ann_again/a2.jpg",
                                   "Bob/b1.jpg"]


@pytest.mark.unit
def test_a_tree_without_files_exits_2_naming_it(tmp_path, capsys):
  (tmp_path / "in" / "empty_person").mkdir(parents=True)
  (tmp_path / "in" / ".hidden.jpg").write_bytes(b"")
  (tmp_path / "in" / "loop").symlink_to(tmp_path / "in")
  code = align.main(["--input_dir", str(tmp_path / "in"), "--output_dir",
                     str(tmp_path / "out")])
  stderr = capsys.readouterr().err
  assert code == 2
  assert f"input_dir {tmp_path / 'in'} holds no file" in stderr
  assert not (tmp_path / "out").exists()  # nothing written


@pytest.mark.unit
@pytest.mark.parametrize("flags, message", [
    (["--input_dir", "/nonexistent"], "is not a directory"),
    (["--no_face", "drop"], "invalid choice"),
    (["--multiple_faces", "first"], "invalid choice"),
    (["--image_size", "0"], "image_size must be >= 8"),
    (["--geometry", "eyes"], "invalid choice"),
    (["--margin", "-2"], "margin must be >= 0"),
    (["--image_size", "big"], "invalid int value"),
    (["--min_confidence", "1.5"], "min_confidence"),
    (["--num_workers", "0"], "num_workers"),
])
def test_bad_flags_exit_2_with_a_message(tmp_path, capsys, flags, message):
  argv = ["--input_dir", str(tmp_path), "--output_dir", str(tmp_path / "o")]
  with pytest.raises(SystemExit) as exit_info:
    align.main(argv + flags)  # argparse keeps the last of repeated flags
  assert exit_info.value.code == 2
  stderr = capsys.readouterr().err
  assert message in stderr and "Traceback" not in stderr


@pytest.mark.unit
def test_output_inside_input_is_refused(tmp_path):
  with pytest.raises(ValueError, match="inside input_dir"):
    align.check_arguments(tmp_path, tmp_path / "aligned", AlignOptions(), 1)


@pytest.mark.integration
def test_first_run_counts_and_lists(first_run):
  output_dir, summary = first_run
  assert summary["counts"] == {
      "processed": 10, "aligned": 8, "no_face": 1, "center_cropped": 0,
      "undecodable": 1, "failed": 0, "multiple_faces": 1,
      "detections_reused": 0, "found": 8, "found_padded": 0,
      "found_contrast": 0}
  assert summary["this_run"] == {"processed": 10, "skipped_done": 0}
  assert summary["no_face_files"] == ["Blank/blank.png"]
  [undecodable] = summary["undecodable_files"]
  assert undecodable["path"] == "Broken/broken.jpg"
  assert "UnidentifiedImageError" in undecodable["error"]
  assert summary["finished"] and summary["images_per_second"] > 0
  on_disk = json.loads((output_dir / align.SUMMARY_NAME).read_text())
  assert on_disk["counts"] == summary["counts"]


@pytest.mark.integration
def test_crops_mirror_the_tree_at_image_size(first_run):
  output_dir, summary = first_run
  assert _written(output_dir) == sorted(map(_png, ALIGNED))
  for relative in _written(output_dir):
    with Image.open(output_dir / relative) as crop:
      assert (crop.size, crop.mode) == ((128, 128), "RGB")
  # The default spec, written beside the crops and in the summary.
  spec = spec_lib.read(output_dir)
  assert spec == spec_lib.AlignmentSpec("landmarks", 128)
  assert summary["alignment"]["name"] == "landmarks-arcface-128px-v1"


@pytest.mark.integration
def test_landmark_crops_put_the_eyes_on_the_template(first_run):
  """The logged keypoints, mapped by the same similarity, land on the
  template's points within 8 px in a 128 px crop (5 points, 4 parameters:
  a least-squares fit, not exact; a turned head moves eyes and nose apart:
  measured up to 6.4 px, Adam_Sandler_0002's nose), and the two eyes stay
  level (within 2 px): the in-plane rotation is undone."""
  output_dir, _ = first_run
  spec = spec_lib.read(output_dir)
  for relative in LFW_FILES:
    record = _log(output_dir)[relative]
    faces = detector.Faces.from_json(record["detections"])
    [keypoints] = faces.keypoints
    matrix = warp.similarity_matrix(keypoints, spec.template())
    mapped = keypoints @ matrix[:, :2].T + matrix[:, 2]
    error = np.abs(mapped - spec.template())
    assert error.max() < 8, (relative, error)
    assert abs(mapped[0, 1] - mapped[1, 1]) < 2


@pytest.mark.integration
def test_boxes_hold_the_centred_lfw_face_and_the_central_group_face(first_run):
  log = _log(first_run[0])
  for relative in [*LFW_FILES, "Grey/grey.pgm"]:  # deep-funneled: centred
    record = log[relative]
    assert record["confidence"] >= 0.9 and record["faces"] == 1
    assert np.hypot(*np.subtract(_box_centre(record), 125)) < 30, record
  group = log["Group/two_faces.png"]
  assert group["faces"] == 2
  assert np.hypot(*np.subtract(_box_centre(group), (301, 200))) < 15, group


@pytest.mark.integration
def test_rerun_resumes_then_center_crop_writes_the_blank(first_run, tmp_path):
  output_dir = tmp_path / "output"
  shutil.copytree(first_run[0], output_dir)
  stale = pathlib.Path(atomic_files.temporary_sibling(
      output_dir / "Blank" / "blank.png"))
  stale.parent.mkdir()
  stale.write_bytes(b"half a file")
  input_dir = first_run[0].parent / "input"
  summary = align.align_dataset(input_dir, output_dir, AlignOptions())
  # Files without a crop (blank, broken) are retried; the rest are done,
  # and the summary still counts the whole tree (#31 item 12).
  assert summary["this_run"] == {"processed": 2, "skipped_done": 8}
  assert summary["counts"] == first_run[1]["counts"]
  assert not stale.exists()
  summary = align.align_dataset(input_dir, output_dir,
                                AlignOptions(no_face="center_crop"))
  assert summary["counts"]["center_cropped"] == 1
  assert summary["no_face_files"] == ["Blank/blank.png"]
  with Image.open(output_dir / "Blank/blank.png") as crop:
    assert crop.size == (128, 128)
  with pytest.raises(ValueError, match="image_size"):
    align.align_dataset(input_dir, output_dir, AlignOptions(image_size=160))


def _tree_report(summary):
  """What a summary says about the tree (not about the run)."""
  return {key: summary[key] for key in ("counts", "no_face_files",
                                        "undecodable_files", "failed_files")}


@pytest.mark.integration
def test_an_interrupted_then_resumed_run_reports_an_uninterrupted_one(
    input_tree, tmp_path, monkeypatch):
  """#31 item 12: stopped after 2 batches of 4 (the blank's fallback crop
  among them), then resumed, the tree's summary equals one run's, and
  facenet-eval finds the same fallback crop."""
  options = AlignOptions(no_face="center_crop", batch_size=4)
  whole = align.align_dataset(input_tree, tmp_path / "whole", options)
  run_batches = align._run_batches  # pylint: disable=protected-access

  def killed_after_two_batches(*args, **kwargs):
    batches = run_batches(*args, **kwargs)
    yield next(batches)
    yield next(batches)
    raise KeyboardInterrupt

  resumed_dir = tmp_path / "resumed"
  monkeypatch.setattr(align, "_run_batches", killed_after_two_batches)
  with pytest.raises(KeyboardInterrupt):
    align.align_dataset(input_tree, resumed_dir, options)
  stopped = json.loads((resumed_dir / align.SUMMARY_NAME).read_text())
  assert not stopped["finished"] and stopped["counts"]["processed"] == 8
  assert stopped["no_face_files"] == ["Blank/blank.png"]
  monkeypatch.setattr(align, "_run_batches", run_batches)
  resumed = align.align_dataset(input_tree, resumed_dir, options)
  assert resumed["this_run"] == {"processed": 3, "skipped_done": 7}
  assert _tree_report(resumed) == _tree_report(whole)
  assert resumed["no_face_files"] == ["Blank/blank.png"]
  assert resumed["counts"]["center_cropped"] == 1
  again = align.align_dataset(input_tree, resumed_dir, options)  # finished
  assert _tree_report(again) == _tree_report(whole)
  assert again["this_run"] == {"processed": 1, "skipped_done": 9}
  for tree in (tmp_path / "whole", resumed_dir):
    _, fallback = pairs_evaluator.tree_alignment(str(tree))
    assert fallback == {str(tree / "Blank" / "blank")}


@pytest.mark.integration
def test_largest_keeps_the_big_edge_face(input_tree, tmp_path):
  group_only = tmp_path / "input" / "Group"
  shutil.copytree(input_tree / "Group", group_only)
  align.align_dataset(group_only.parent, tmp_path / "output",
                      AlignOptions(multiple_faces="largest"))
  record = _log(tmp_path / "output")["Group/two_faces.png"]
  assert np.hypot(*np.subtract(_box_centre(record), (136, 203))) < 15, record


@pytest.mark.integration
def test_cli_two_workers_jpeg(input_tree, tmp_path):
  output_dir = tmp_path / "output"
  result = subprocess.run(
      [sys.executable, "-m", "data_pipelines.align", "--input_dir",
       str(input_tree), "--output_dir", str(output_dir), "--num_workers", "2",
       "--format", "jpeg"],
      cwd=REPO, capture_output=True, text=True, timeout=300,
      env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}, check=False)
  assert result.returncode == 0, result.stderr[-3000:]
  printed = json.loads(result.stdout[:result.stdout.rindex("}") + 1])
  assert (printed["counts"]["aligned"], printed["counts"]["no_face"],
          printed["counts"]["undecodable"]) == (8, 1, 1)
  expected = sorted(str(pathlib.PurePosixPath(p).with_suffix(".jpg"))
                    for p in ALIGNED)
  assert _written(output_dir) == expected
  with Image.open(output_dir / expected[0]) as crop:
    assert (crop.format, crop.size) == ("JPEG", (128, 128))


@pytest.mark.integration
def test_box_geometry_reusing_detections_equals_a_fresh_box_run(
    first_run, tmp_path):
  """--detections skips MTCNN and gives the very crops a run with its own
  detections writes (davidsandberg's box at 182 px)."""
  input_dir = first_run[0].parent / "input"
  box = AlignOptions(geometry="box")
  fresh = align.align_dataset(input_dir, tmp_path / "fresh", box)
  reused = align.align_dataset(input_dir, tmp_path / "reused", box,
                               detections=first_run[0])
  assert reused["counts"]["detections_reused"] == 9  # all but the undecodable
  assert fresh["counts"]["detections_reused"] == 0
  assert reused["alignment"]["name"] == "box-m44-182px-v1"
  assert _written(tmp_path / "fresh") == _written(tmp_path / "reused")
  for relative in _written(tmp_path / "fresh"):
    a = np.asarray(Image.open(tmp_path / "fresh" / relative))
    assert a.shape == (182, 182, 3)
    np.testing.assert_array_equal(
        a, np.asarray(Image.open(tmp_path / "reused" / relative)))
  with pytest.raises(ValueError, match="min_confidence"):
    align.check_arguments(input_dir, tmp_path / "other",
                          AlignOptions(min_confidence=0.5), 1, first_run[0])


@pytest.mark.slow
def test_first_500_lfw_images_two_workers(tmp_path):
  lfw = shared_path("data", "lfw", "images")
  files = sorted(p.relative_to(lfw) for p in lfw.glob("*/*.jpg"))[:500]
  for relative in files:
    (tmp_path / "input" / relative).parent.mkdir(parents=True, exist_ok=True)
    os.symlink(lfw / relative, tmp_path / "input" / relative)
  summary = align.align_dataset(tmp_path / "input", tmp_path / "output",
                                AlignOptions(geometry="box"), num_workers=2)
  assert summary["counts"]["processed"] == 500
  assert summary["counts"]["no_face"] <= 5  # measured: 0
  for record in _log(tmp_path / "output").values():
    assert np.hypot(*np.subtract(_box_centre(record), 125)) < 40, record


@pytest.mark.unit
def test_every_reader_of_the_align_log_skips_a_line_cut_by_a_kill(tmp_path):
  """One log, three readers (resumed outcomes, reused detections, the
  teacher's faces): a.jpg aligned in run 1 and again in run 2 (the later
  box wins), b.jpg found no face, and run 2 was killed mid-line while
  logging c.jpg. Each reader keeps a.jpg's and b.jpg's last records and
  leaves the cut line out, so c.jpg is simply aligned again."""
  from data_pipelines import align_summary
  from data_pipelines import align_worker
  from data_pipelines import teacher_targets
  faces = {"boxes": [[1, 2, 30, 40]], "scores": [0.99],
           "keypoints": [[[5, 5]] * 5]}
  records = [
      {"path": "a.jpg", "status": "aligned", "output": "a.png",
       "box": [0, 0, 10, 10], "detections": faces, "found_by": "plain"},
      {"path": "b.jpg", "status": "no_face"},
      {"path": "a.jpg", "status": "aligned", "output": "a.png",
       "box": [1, 2, 30, 40], "detections": faces, "found_by": "padded"}]
  log = tmp_path / align_summary.LOG_NAME
  log.write_text("".join(json.dumps(r) + "\n" for r in records)
                 + '{"path": "c.jpg", "status": "ali')
  outcomes = align_summary.read_outcomes(log)
  assert sorted(outcomes) == ["a.jpg", "b.jpg"]
  assert outcomes["a.jpg"]["box"] == [1, 2, 30, 40]
  detections = align_worker.read_detections(log)
  assert sorted(detections) == ["a.jpg"]
  assert detections["a.jpg"]["found_by"] == "padded"
  assert teacher_targets.aligned_faces(tmp_path) == [
      ("a.jpg", "a.png", [1, 2, 30, 40])]
