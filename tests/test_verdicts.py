"""One threshold story, one-line results, reading order, enrollment reports,
exit codes and a packaged model without machine paths (issue #31 items 1,
2, 9, 10), without a model: stand-in recognizers and typed metadata.
"""
import dataclasses
import pathlib
import re
import warnings

import numpy as np
import pytest

from facenet_tf import export_metadata
from facenet_tf import pretrained
from facenet_tf.apps import verdicts
from facenet_tf.evaluation import calibration
from facenet_tf.photos import gallery as gallery_lib
from facenet_tf.photos import results

THRESHOLDS = export_metadata.Thresholds(
    accuracy=1.1, far=0.5, target_far=1e-3,
    pairs="/home/builder/data/lfw/pairsDevTrain.txt", num_pairs=2200,
    calibration_accuracy=0.91, calibration_val=0.4, calibration_far=0.0009)
METADATA = export_metadata.ExportMetadata(
    architecture="tiny", image_size=(64, 64), channels=3, embedding_dim=4,
    thresholds=THRESHOLDS)


def _face(photo, index, box, embedding=None):
  return results.Face(photo, index, tuple(float(v) for v in box),
                      np.zeros((5, 2)), 0.99, embedding)


class _Recognizer:
  """FaceRecognizer's surface for Gallery: photos named "<x>.jpg" hold one
  face whose embedding is given in `faces_of`; "wall.jpg" holds none."""
  metadata = METADATA
  model = METADATA
  alignment = type("Spec", (), {"name": "landmarks-v1"})()
  model_path = "stand-in"

  def __init__(self, faces_of):
    self.faces_of = faces_of

  def operating_point(self, far=None, threshold=None):
    return calibration.operating_point(self.metadata, far, threshold)

  def faces(self, photos):
    out = []
    for photo in photos:
      if photo == "missing.jpg":
        out.append(results.PhotoFaces(photo, [], None,
                                      f"{photo}: no such file"))
        continue
      faces = [_face(photo, 0, (0, 0, 10, 10), np.asarray(e, np.float32))
               for e in self.faces_of.get(photo, [])]
      out.append(results.PhotoFaces(photo, faces, (100, 100)))
    return out


@pytest.mark.unit
def test_pairs_are_described_in_words_never_a_path():
  assert THRESHOLDS.pairs == "LFW DevTrain pairs"
  assert THRESHOLDS.to_dict()["pairs"] == "LFW DevTrain pairs"
  describe = export_metadata.describe_pairs
  assert describe("C:\\data\\pairsDevTest.txt") == "LFW DevTest pairs"
  assert describe("/srv/x/mine.txt") == "the pairs of mine.txt"
  assert describe(describe("/srv/x/mine.txt")) == "the pairs of mine.txt"
  assert describe(None) == "unrecorded pairs"
  assert export_metadata.far_words(1e-3) == "1e-3"
  assert export_metadata.far_words(0.025) == "2.5e-2"


@pytest.mark.unit
def test_one_operating_point_named_in_words():
  default = calibration.operating_point(METADATA)
  assert (default.threshold, default.description) == (
      1.1, "best accuracy on LFW DevTrain pairs")
  assert str(default) == "threshold 1.1 (best accuracy on LFW DevTrain pairs)"
  open_set = calibration.operating_point(METADATA, far=1e-3)
  assert (open_set.threshold, open_set.description) == (
      0.5, "FAR 1e-3 on LFW DevTrain pairs")
  assert open_set.to_json() == {
      "threshold": 0.5, "calibrated_for": "FAR 1e-3",
      "calibrated_on": "LFW DevTrain pairs",
      "description": "FAR 1e-3 on LFW DevTrain pairs"}
  assert str(calibration.operating_point(METADATA, threshold=0.7)) == (
      "threshold 0.7 (set by hand)")
  uncalibrated = dataclasses.replace(METADATA, thresholds=None)
  assert calibration.operating_point(uncalibrated).threshold == 1.1
  with pytest.raises(ValueError, match="calibrated at FAR 1e-3, not 1e-2"):
    calibration.operating_point(METADATA, far=1e-2)
  with pytest.raises(ValueError, match="no calibrated thresholds"):
    calibration.operating_point(uncalibrated, far=1e-3)
  with pytest.raises(ValueError, match="not both"):
    calibration.operating_point(METADATA, far=1e-3, threshold=1.0)


@pytest.mark.unit
def test_reading_order_is_rows_then_left_to_right():
  # Row 1: three faces at slightly different heights, given out of order;
  # row 2 starts below the lowest bottom edge of row 1.
  boxes = [[300, 12, 340, 52], [10, 0, 50, 40], [150, 20, 200, 70],
           [200, 100, 240, 140], [20, 110, 60, 150]]
  assert results.reading_order(boxes) == [1, 2, 0, 4, 3]
  assert results.reading_order(np.zeros((0, 4))) == []


@pytest.mark.unit
def test_results_print_as_one_short_line():
  first = _face("a.jpg", 0, (94, 65, 176, 182), np.ones(128, np.float32))
  second = _face("b.jpg", 1, (90, 70, 178, 190), np.ones(128, np.float32))
  point = calibration.operating_point(METADATA)
  verification = results.Verification(0.766, True, point, first, second)
  photo = results.PhotoFaces("a.jpg", [first, second], (250, 250))
  identification = gallery_lib.Identification(first, None, 1.3, "Ann", point)
  lines = {repr(x) for x in (first, photo, verification, identification,
                             results.PhotoFaces("x.jpg", [], None, "x.jpg: "
                                                "no such file"))}
  for line in lines | {str(verification)}:
    assert "\n" not in line and len(line) < 200, line
    assert "array" not in line and "0.0" not in line, line
  assert repr(verification) == (
      "Verification(same: distance 0.766 <= threshold 1.1 (best accuracy on "
      "LFW DevTrain pairs); a.jpg face 0 box (94, 65, 176, 182) vs b.jpg "
      "face 1 box (90, 70, 178, 190))")
  assert "unknown: nearest Ann at distance 1.3 > threshold 1.1" in repr(
      identification)
  assert verification.to_json()["calibrated_for"] == "best accuracy"


@pytest.mark.unit
def test_the_main_face_is_the_largest():
  small, large = (_face("a.jpg", 0, (0, 0, 10, 10)),
                  _face("a.jpg", 1, (50, 0, 90, 40)))
  assert results.PhotoFaces("a.jpg", [small, large]).main_face is large
  assert results.PhotoFaces("a.jpg", []).main_face is None


@pytest.mark.unit
def test_gallery_uses_the_verify_operating_point_and_reports_enrollment():
  recognizer = _Recognizer({"ann.jpg": [[1, 0, 0, 0]],
                            "probe.jpg": [[0.6, 0.8, 0, 0]]})
  gallery = gallery_lib.Gallery(recognizer)
  assert gallery.operating_point == recognizer.operating_point()
  with pytest.warns(gallery_lib.GalleryWarning,
                    match=r"Ann: 2 photo\(s\) not enrolled: missing.jpg: no "
                          r"such file; wall.jpg: no face found"):
    report = gallery.enroll("Ann", ["ann.jpg", "wall.jpg", "missing.jpg"])
  assert report == {"enrolled": 1, "no_face": ["wall.jpg"],
                    "errors": ["missing.jpg: no such file"]}
  assert repr(gallery) == ("Gallery(1 people, 1 faces; threshold 1.1 (best "
                           "accuracy on LFW DevTrain pairs))")
  with warnings.catch_warnings():
    warnings.simplefilter("error")  # all enrolled: no warning
    assert gallery.enroll("Ann", ["ann.jpg"])["enrolled"] == 1
  # Distance 0.8: "same" at the default (1.1), unknown at FAR 1e-3 (0.5).
  [(_, [who])] = gallery.identify(["probe.jpg"])
  assert (who.name, who.distance) == ("Ann", pytest.approx(0.8))
  strict = gallery_lib.Gallery(recognizer, far=1e-3)
  strict.names, strict.sources = gallery.names, gallery.sources
  strict.embeddings = gallery.embeddings
  [(_, [who])] = strict.identify(["probe.jpg"])
  assert who.name is None and who.nearest == "Ann"
  assert "FAR 1e-3 on LFW DevTrain pairs" in repr(who)
  with pytest.raises(gallery_lib.GalleryError, match="calibrated at FAR"):
    gallery_lib.Gallery(recognizer, far=0.01)


@pytest.mark.unit
def test_a_loaded_gallery_matches_at_this_models_operating_point(tmp_path):
  recognizer = _Recognizer({"ann.jpg": [[1, 0, 0, 0]]})
  gallery = gallery_lib.Gallery(recognizer, threshold=0.2)
  gallery.enroll("Ann", ["ann.jpg"])
  gallery.save(tmp_path / "people.json")
  loaded = gallery_lib.Gallery.load(tmp_path / "people.json", recognizer)
  assert loaded.operating_point == recognizer.operating_point()
  assert loaded.names == ["Ann"]


@pytest.mark.unit
@pytest.mark.parametrize("inputs,unreadable,code", [
    (3, 0, 0), (3, 1, 1), (3, 2, 1), (3, 3, 2), (0, 0, 0)])
def test_exit_codes(inputs, unreadable, code):
  assert verdicts.exit_code(inputs, unreadable) == code


@pytest.mark.unit
def test_the_packaged_model_holds_no_machine_path():
  """No absolute path in any file of the packaged model or its record
  (export JSON, checkpoint, graph), and its metadata still reads."""
  root = pathlib.Path(pretrained.__file__).parent
  unix = re.compile(rb"(?<![A-Za-z0-9_.])/(?:work|tmp|home|root|Users|srv|"
                    rb"mnt|data|opt|var)/")
  windows = re.compile(rb"(?<![A-Za-z0-9])[A-Za-z]:\\\\?[A-Za-z]")
  files = [p for p in root.rglob("*") if p.is_file()
           and "__pycache__" not in p.parts]
  assert len(files) >= 6
  for path in files:
    data = path.read_bytes()
    assert not unix.search(data), path
    if path.suffix in (".json", ".py"):
      assert not windows.search(data), path
  metadata = export_metadata.read(pretrained.reference_model_path())
  assert metadata.thresholds.pairs == "LFW DevTrain pairs"
  assert pretrained.reference_figures()["thresholds"] == (
      metadata.thresholds.to_dict())
