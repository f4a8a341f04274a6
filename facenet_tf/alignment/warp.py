"""Cutting one face out of a photo as an `AlignmentSpec` says.

The pixels are moved by libraries, not by us: OpenCV's `warpAffine`
(bilinear) for the landmarks geometry, Pillow's bilinear resize for the box
geometry (what davidsandberg's `scipy.misc.imresize` ran underneath, so box
crops are those of the published FaceNet models). Only the 4-parameter
similarity is computed here: the closed-form least-squares fit of the five
keypoints, deterministic, unlike OpenCV's RANSAC/LMEDS estimators, whose
random sampling could give two runners two different crops.
"""
import cv2
import numpy as np
from PIL import Image

from facenet_tf.alignment import geometry
from facenet_tf.alignment import spec as spec_lib

# Below this scale a bilinear warp skips source pixels (aliasing); the photo
# is first shrunk with area averaging so the warp's own scale stays >= this.
_MIN_WARP_SCALE = 0.5


def similarity_matrix(source_points, target_points):
  """The 2 x 3 similarity that maps `source_points` onto `target_points`.

  Least squares over the 4 parameters (a, b, tx, ty) of
  x' = a x - b y + tx, y' = b x + a y + ty: no reflection, no shear.
  """
  source = np.asarray(source_points, np.float64).reshape(-1, 2)
  target = np.asarray(target_points, np.float64).reshape(-1, 2)
  x, y = source[:, 0], source[:, 1]
  ones, zeros = np.ones_like(x), np.zeros_like(x)
  rows = np.concatenate([np.stack([x, -y, ones, zeros], 1),
                         np.stack([y, x, zeros, ones], 1)])
  values = np.concatenate([target[:, 0], target[:, 1]])
  (a, b, tx, ty), *_ = np.linalg.lstsq(rows, values, rcond=None)
  return np.array([[a, -b, tx], [b, a, ty]])


def warp_landmarks(image, keypoints, spec, size=None):
  """The `size` square (default spec.image_size) with the keypoints on the
  spec's template.

  Args:
    image: [H, W, 3] (or [H, W]) uint8.
    keypoints: [5, 2] x, y in MTCNN's order.
    spec: an AlignmentSpec of a warped geometry ("landmarks", "dlib").
    size: output side; the template scales with it.
  """
  size = spec.image_size if size is None else int(size)
  keypoints = np.asarray(keypoints, np.float64).reshape(5, 2)
  target = spec.template(size)
  matrix = similarity_matrix(keypoints, target)
  scale = float(np.hypot(matrix[0, 0], matrix[1, 0]))
  if scale < _MIN_WARP_SCALE:
    # A large face: area-average the photo down first, then warp.
    shrink = scale / _MIN_WARP_SCALE
    height, width = image.shape[:2]
    small = (max(1, round(width * shrink)), max(1, round(height * shrink)))
    image = cv2.resize(image, small, interpolation=cv2.INTER_AREA)
    keypoints = keypoints * (small[0] / width, small[1] / height)
    matrix = similarity_matrix(keypoints, target)
  # Outside the photo is black, as in ArcFace/InsightFace crops.
  return cv2.warpAffine(image, matrix, (size, size), flags=cv2.INTER_LINEAR,
                        borderMode=cv2.BORDER_CONSTANT, borderValue=0)


def crop_box(image, box, spec, size=None):
  """davidsandberg's crop: the box plus margin, clipped, resized square.

  Returns `(crop, (x0, y0, x1, y1))`.
  """
  size = spec.image_size if size is None else int(size)
  window = geometry.margin_crop_box(box, spec.margin, image.shape)
  return _resize(image, window, size), window


def center_fallback(image, spec, size=None):
  """The central square of a photo without a detected face, resized.

  Returns `(crop, (x0, y0, x1, y1))`.
  """
  size = spec.image_size if size is None else int(size)
  window = geometry.center_crop_box(image.shape)
  return _resize(image, window, size), window


def align_face(image, box, keypoints, spec, size=None):
  """One face as `spec` frames it; `box` is x1, y1, x2, y2."""
  if spec.geometry in spec_lib.WARPED:
    return warp_landmarks(image, keypoints, spec, size)
  return crop_box(image, box, spec, size)[0]


def _resize(image, window, size):
  x0, y0, x1, y1 = window
  return np.asarray(Image.fromarray(image[y0:y1, x0:x1]).resize(
      (size, size), Image.BILINEAR))
