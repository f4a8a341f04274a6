"""data_pipelines/dlib_resnet.py: dlib's descriptor network in TensorFlow.

The port must give dlib's own descriptors. Tolerance 1e-5: over 20 LFW
chips (10 faces and their mirrors) the largest difference measured was
3e-7 of descriptor values up to 0.47 (float32 sums in another order); a
wrong layout, padding or layer order moves them by 1e-2 or more. Needs the
`teacher` extra (dlib-bin, face-recognition-models); skipped without it.
"""
import pathlib

import numpy as np
import pytest

from data_pipelines import dlib_resnet
from data_pipelines import teacher
from facenet_tf.data import reading
from tests import conftest

models = pytest.importorskip(
    "face_recognition_models",
    reason='the teacher extra (pip install -e ".[teacher]") ships the model')
dlib = pytest.importorskip("dlib", reason="dlib-bin is the teacher extra")

pytestmark = pytest.mark.integration
TOLERANCE = 1e-5
# Two LFW photos (each one person, 250 px) dlib's own detector finds.
PHOTOS = ("Aaron_Eckhart/Aaron_Eckhart_0001.jpg",
          "Colin_Powell/Colin_Powell_0001.jpg")


@pytest.fixture(scope="module")
def teachers():
  return teacher.DlibTeacher(network="dlib"), teacher.DlibTeacher()


def test_the_file_is_dlib_anet_type():
  """29 convolutions (dnn_face_recognition_ex.cpp), dlib's input means
  (dlib/dnn/input.h, input_rgb_image_sized) and a 256 -> 128 fc."""
  layers = dlib_resnet.load_layers(models.face_recognition_model_location())
  kinds = [kind for kind, _ in layers]
  assert kinds.count("con") == 29 and kinds.count("affine") == 29
  means, divisor = layers[0][1]
  np.testing.assert_allclose(means, [122.782, 117.001, 104.298], atol=1e-4)
  assert divisor == 256
  assert layers[-1][0] == "fc" and layers[-1][1][0].shape == (256, 128)


def test_a_truncated_file_is_refused(tmp_path):
  data = pathlib.Path(models.face_recognition_model_location()).read_bytes()
  truncated = tmp_path / "truncated.dat"
  truncated.write_bytes(data[:len(data) // 2])
  with pytest.raises(ValueError, match="ends at byte"):
    dlib_resnet.load_layers(truncated)


def test_port_equals_dlib_on_face_chips(teachers):
  """A face and its mirror, from dlib's detector, shape and chip, as the
  teacher pass cuts them."""
  images = conftest.shared_path("data", "lfw", "images")
  detector = dlib.get_frontal_face_detector()
  chips = []
  for photo in PHOTOS:
    image = reading.read_photo(images / photo)
    face = max(detector(image, 1), key=lambda r: r.area())
    chip = teachers[0].chip(image, (face.left(), face.top(), face.right(),
                                    face.bottom()))
    chips += [chip, chip[:, ::-1]]
  expected, port = (t.describe_chips(chips) for t in teachers)
  assert port.shape == (4, 128)
  assert np.abs(expected).max() > 0.1  # real descriptors, not zeros
  np.testing.assert_allclose(port, expected, rtol=0, atol=TOLERANCE)
  # a face and its mirror are different inputs with near descriptors
  assert 0 < np.linalg.norm(expected[0] - expected[1]) < 0.6


def test_port_equals_dlib_on_noise_and_flat_chips(teachers):
  """Any 150 px input, without ../shared: uniform noise and a flat grey."""
  noise = np.random.default_rng(0).integers(0, 256, (150, 150, 3), np.uint8)
  flat = np.full((150, 150, 3), 128, np.uint8)
  expected, port = (t.describe_chips([noise, flat]) for t in teachers)
  np.testing.assert_allclose(port, expected, rtol=0, atol=TOLERANCE)
  assert teachers[1].describe_chips([]).shape == (0, 128)
