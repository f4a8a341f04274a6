"""The alignment spec and the landmark warp (facenet_tf/alignment)."""
import numpy as np
import pytest

from facenet_tf.alignment import spec as spec_lib
from facenet_tf.alignment import warp

LANDMARKS = spec_lib.AlignmentSpec("landmarks", 128)
BOX = spec_lib.AlignmentSpec("box", 182, margin=44)


@pytest.mark.unit
def test_spec_round_trips_and_its_name_says_what_changes_pixels():
  for spec in (LANDMARKS, BOX):
    assert spec_lib.AlignmentSpec.from_dict(spec.to_dict()) == spec
  assert LANDMARKS.name == "landmarks-arcface-128px-v1"
  assert BOX.name == "box-m44-182px-v1"
  # The margin is meaningless for landmarks: it never splits two specs.
  assert spec_lib.AlignmentSpec("landmarks", 128, margin=10) == LANDMARKS
  with pytest.raises(ValueError, match="does not match"):
    spec_lib.AlignmentSpec.from_dict({**BOX.to_dict(), "margin": 10})
  with pytest.raises(ValueError, match="unknown fields"):
    spec_lib.AlignmentSpec.from_dict({**BOX.to_dict(), "colour": "red"})
  with pytest.raises(ValueError, match="geometry"):
    spec_lib.AlignmentSpec("eyes")


@pytest.mark.unit
def test_spec_file_round_trip(tmp_path):
  assert spec_lib.read(tmp_path) is None
  spec_lib.write(BOX, tmp_path)
  assert spec_lib.read(tmp_path) == BOX


@pytest.mark.unit
def test_template_fills_the_models_central_window():
  """At 128 px the model's window is 128 x 160/182 = 112.527 px, offset
  (128 - 112.527) / 2 = 7.736: ArcFace's left eye (38.2946, 51.6963) at 112
  px maps to 7.736 + 38.2946 x 112.527/112 = 46.211 and 7.736 + 51.6963 x
  112.527/112 = 59.676."""
  left_eye = LANDMARKS.template()[0]
  np.testing.assert_allclose(left_eye, (46.211, 59.676), atol=1e-3)
  # Scaled with the output: the same relative place at any size.
  np.testing.assert_allclose(np.array(LANDMARKS.template(64)) * 2,
                             LANDMARKS.template(128), atol=1e-9)


@pytest.mark.unit
def test_compatibility_ignores_the_written_size_only():
  assert spec_lib.check_compatible(LANDMARKS, LANDMARKS) is None
  assert spec_lib.check_compatible(
      LANDMARKS, spec_lib.AlignmentSpec("landmarks", 160)) is None
  assert spec_lib.check_compatible(None, BOX) is None
  warning = spec_lib.check_compatible(LANDMARKS, BOX)
  assert "landmarks-arcface-128px-v1" in warning and "box-m44" in warning
  with pytest.raises(spec_lib.AlignmentMismatch):
    spec_lib.check_compatible(LANDMARKS, BOX, strict=True)


@pytest.mark.unit
def test_similarity_matrix_recovers_a_known_transform():
  """Points moved by scale 1.7, rotation 25 degrees and shift (30, -12)."""
  angle = np.deg2rad(25)
  a, b = 1.7 * np.cos(angle), 1.7 * np.sin(angle)
  true = np.array([[a, -b, 30.0], [b, a, -12.0]])
  points = np.random.default_rng(0).uniform(0, 100, (5, 2))
  moved = points @ true[:, :2].T + true[:, 2]
  np.testing.assert_allclose(warp.similarity_matrix(points, moved), true,
                             atol=1e-9)


def _dots(points, shape):
  """A black image with a white 3x3 dot at each point."""
  image = np.zeros(shape, np.uint8)
  for x, y in np.round(points).astype(int):
    image[y - 1:y + 2, x - 1:x + 2] = 255
  return image


def _dot_centres(image, near):
  """Intensity-weighted centre of the bright pixels around each point."""
  grey = image[..., 0].astype(np.float64)
  centres = []
  for x, y in near:
    x0, y0 = int(x) - 5, int(y) - 5
    patch = grey[y0:y0 + 11, x0:x0 + 11]
    ys, xs = np.mgrid[y0:y0 + 11, x0:x0 + 11]
    centres.append((np.sum(xs * patch) / patch.sum(),
                    np.sum(ys * patch) / patch.sum()))
  return np.array(centres)


@pytest.mark.unit
@pytest.mark.parametrize("scale", [3.0, 0.8])
def test_warp_moves_rotated_keypoints_onto_the_template(scale):
  """Keypoints = the template rotated 20 degrees, scaled and shifted into a
  bigger photo (3x: the area pre-shrink path). The warp brings each dot
  back to its template point within a pixel."""
  template = np.array(LANDMARKS.template())
  angle = np.deg2rad(20)
  rotation = scale * np.array([[np.cos(angle), -np.sin(angle)],
                               [np.sin(angle), np.cos(angle)]])
  keypoints = (template - 64) @ rotation.T + (300, 260)
  photo = _dots(keypoints, (560, 620, 3))
  crop = warp.warp_landmarks(photo, keypoints, LANDMARKS)
  assert crop.shape == (128, 128, 3) and crop.dtype == np.uint8
  np.testing.assert_allclose(_dot_centres(crop, template), template, atol=1.0)


@pytest.mark.unit
def test_box_crop_and_fallback_windows():
  photo = np.arange(250 * 250 * 3, dtype=np.uint8).reshape(250, 250, 3)
  crop, window = warp.crop_box(photo, [60.7, 70.2, 160.5, 190.9], BOX)
  assert window == (38, 48, 182, 212) and crop.shape == (182, 182, 3)
  crop, window = warp.center_fallback(photo[:200], BOX)
  assert window == (25, 0, 225, 200) and crop.shape == (182, 182, 3)


@pytest.mark.unit
def test_the_dlib_chip_geometry_warps_onto_its_own_template():
  """`dlib` is the landmarks warp onto dlib's chip template (150 px):
  at 128 px its left eye (46.4402, 44.3596) lands at 7.736 + 46.4402 x
  112.527/150 = 42.574 and 7.736 + 44.3596 x 112.527/150 = 41.014 (higher
  than ArcFace's 59.676: dlib's chip keeps the forehead). A warp of
  keypoints that already sit on the template is the identity."""
  dlib_chip = spec_lib.AlignmentSpec("dlib", 128)
  assert dlib_chip.name == "dlib-chip-128px-v1" and dlib_chip.margin == 0
  assert spec_lib.AlignmentSpec.from_dict(dlib_chip.to_dict()) == dlib_chip
  np.testing.assert_allclose(dlib_chip.template()[0], (42.574, 41.014),
                             atol=1e-3)
  # Two geometries never pass as one.
  warning = spec_lib.check_compatible(dlib_chip, LANDMARKS)
  assert "dlib-chip-128px-v1" in warning and "landmarks-arcface" in warning
  image = np.random.default_rng(0).integers(0, 255, (128, 128, 3), np.uint8)
  same = warp.align_face(image, (0, 0, 128, 128), dlib_chip.template(),
                         dlib_chip)
  np.testing.assert_array_equal(same, image)
  other = warp.align_face(image, (0, 0, 128, 128), dlib_chip.template(),
                          LANDMARKS)
  assert not np.array_equal(other, image)
