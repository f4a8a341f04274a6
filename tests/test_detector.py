"""MTCNN detection: graph networks, retries on tight and dark crops, the
counts of how each face was found, and detection on a downscaled copy.

The crops are tight_crops.py's (#30 item 6): an LFW photo cut to MTCNN's
box of its face, and one also darkened (gain 0.1: mid-grey becomes 8).
Abdullah_Gul_0016's crop and Al_Pacino_0001's dark crop were picked because
the plain pass finds nothing in them (measured; the tests check it).
"""
import json

import numpy as np
import pytest
from PIL import Image

from data_pipelines import align
from data_pipelines.align_worker import AlignOptions
from experiments.benchmarks import tight_crops
from facenet_tf.alignment import detector as detector_lib
from tests.conftest import shared_path


def _lfw(name, index):
  path = shared_path("data", "lfw", "images") / name / f"{name}_{index:04d}.jpg"
  return np.asarray(Image.open(path).convert("RGB"))


@pytest.fixture(scope="module")
def detector():
  return detector_lib.FaceDetector()


@pytest.fixture(scope="module")
def crops(detector):
  """{name: image}: a tight crop, a dark tight crop, a whole LFW photo."""
  out = {"whole": _lfw("Al_Gore", 1)}
  for name, (person, index, gain) in {
      "tight": ("Abdullah_Gul", 16, 1.0),
      "dark": ("Al_Pacino", 1, 0.1)}.items():
    image = _lfw(person, index)
    [detection] = detector.detect([image])
    x1, y1, x2, y2 = tight_crops.face_box(image, detection)
    out[name] = tight_crops.darken(image[y1:y2, x1:x2], gain)
  return out


def _found_by(detector, images, padding, contrast):
  saved = detector.retry_padding, detector.retry_contrast
  detector.retry_padding, detector.retry_contrast = padding, contrast
  try:
    return [d.found_by for d in detector.detect(images)]
  finally:
    detector.retry_padding, detector.retry_contrast = saved


@pytest.mark.integration
def test_retries_find_the_tight_and_dark_crops_the_plain_pass_misses(
    detector, crops):
  images = [crops["whole"], crops["tight"], crops["dark"]]
  assert _found_by(detector, images, 0, False) == ["found", None, None]
  assert _found_by(detector, images, 0.3, False) == [
      "found", "found_padded", None]
  detections = detector.detect(images)
  assert [d.found_by for d in detections] == [
      "found", "found_padded", "found_contrast"]
  for image, detection in zip(images[1:], detections[1:]):
    # Moved back from the padded copy: the face fills the crop.
    [box] = detection.faces.boxes
    height, width = image.shape[:2]
    assert -0.25 * width < box[0] < 0.25 * width
    assert 0.75 * width < box[2] < 1.25 * width
    assert -0.25 * height < box[1] < 0.5 * height < box[3] < 1.25 * height


@pytest.mark.integration
def test_the_graph_networks_detect_what_mtcnn_detects_eagerly(
    detector, crops):
  from mtcnn import MTCNN  # pylint: disable=import-outside-toplevel
  eager = detector_lib.FaceDetector(retry_padding=0)
  eager._mtcnn = MTCNN()  # pylint: disable=protected-access
  images = [crops["whole"], _lfw("Colin_Powell", 1)]
  for ours, theirs in zip(detector.detect(images), eager.detect(images)):
    assert len(ours.faces) == len(theirs.faces) == 1
    np.testing.assert_allclose(ours.faces.boxes, theirs.faces.boxes,
                               atol=1e-3)
    np.testing.assert_allclose(ours.faces.keypoints, theirs.faces.keypoints,
                               atol=1e-3)


@pytest.mark.integration
def test_the_aligner_counts_how_each_face_was_found(crops, tmp_path):
  root = tmp_path / "input"
  for name, image in {**crops, "blank": np.full((120, 90, 3), 128,
                                                np.uint8)}.items():
    (root / name).mkdir(parents=True)
    Image.fromarray(image).save(root / name / f"{name}.png")
  output = tmp_path / "output"
  summary = align.align_dataset(root, output,
                                AlignOptions(no_face="center_crop"))
  counts = summary["counts"]
  assert (counts["aligned"], counts["found"], counts["found_padded"],
          counts["found_contrast"], counts["center_cropped"]) == (
              3, 1, 1, 1, 1)
  log = [json.loads(line)
         for line in (output / align.LOG_NAME).read_text().splitlines()]
  assert {r["path"]: r["found_by"] for r in log} == {
      "whole/whole.png": "found", "tight/tight.png": "found_padded",
      "dark/dark.png": "found_contrast", "blank/blank.png": "fallback"}
  # A face the contrast retry found is cut from the stretched image.
  written = np.asarray(Image.open(output / "dark" / "dark.png"))
  assert written.mean() > 3 * crops["dark"].mean()


@pytest.fixture(scope="module")
def recognizer():
  from facenet_tf import photos  # pylint: disable=import-outside-toplevel
  return photos.FaceRecognizer()


@pytest.mark.integration
def test_the_photo_api_says_how_each_photos_faces_were_found(
    recognizer, crops):
  blank = np.full((120, 90, 3), 128, np.uint8)
  found = recognizer.faces([crops["whole"], crops["tight"], crops["dark"],
                            blank])
  assert [f.found_by for f in found] == [
      "found", "found_padded", "found_contrast", "no_face"]
  assert [len(f.faces) for f in found] == [1, 1, 1, 0]
  assert all(f.faces[0].embedding is not None for f in found[:3])
  # A face the contrast retry found is cut from the stretched image.
  [(_, dark_input)] = recognizer.face_crops([crops["dark"]])
  assert dark_input.mean() > 3 * crops["dark"].mean()


@pytest.mark.integration
def test_a_downscaled_detection_maps_boxes_and_landmarks_back(recognizer):
  """A photo enlarged 4x (each pixel repeated) is detected on a copy of 1/4
  its side, the original photo itself: the face comes back at 4x."""
  image = _lfw("Colin_Powell", 1)
  large = np.repeat(np.repeat(image, 4, axis=0), 4, axis=1)
  [small] = recognizer.detect(image)
  saved = recognizer.detect_max_side
  recognizer.detect_max_side = 250
  try:
    [big] = recognizer.detect(large)
  finally:
    recognizer.detect_max_side = saved
  assert big.size == (1000, 1000) and len(big.faces) == len(small.faces) == 1
  np.testing.assert_allclose(np.array(big.faces[0].box) / 4,
                             small.faces[0].box, atol=1e-3)
  np.testing.assert_allclose(big.faces[0].landmarks / 4,
                             small.faces[0].landmarks, atol=1e-3)
  assert big.faces[0].box[2] - big.faces[0].box[0] > 200


@pytest.mark.unit
def test_only_dark_or_flat_images_get_the_contrast_retry():
  ramp = np.tile(np.arange(256, dtype=np.uint8)[None, :, None], (8, 1, 3))
  assert detector_lib.stretch_contrast(ramp) is None  # pylint: disable=protected-access
  dark = (ramp // 8).astype(np.uint8)  # 0..31
  stretched = detector_lib.stretch_contrast(dark)
  assert stretched.min() == 0 and stretched.max() == 255
  assert np.all(np.diff(stretched[0, :, 0].astype(int)) >= 0)  # order kept
