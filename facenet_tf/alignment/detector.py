"""MTCNN face detection (the `mtcnn` 1.0 package, which ships its weights).

`FaceDetector.detect(images)` returns, per image, a `Detection`: the
`Faces` found (boxes, detection scores and the five keypoints), or the
exception that image raised, so one bad image never fails a batch. Images of
one shape are batched together (mtcnn pads a mixed batch to its largest
image). The three networks run as TensorFlow graphs (mtcnn_graph.py).

A tight face crop (the face fills the frame, as in many face datasets, ID
photos and crops from another detector) often gives no detection: MTCNN's
proposal network needs some context around the face. An image without a
face is therefore tried again inside a grey border of `retry_padding` of its
side, then (`retry_contrast`) as a contrast-stretched copy in that border
(dark and flat photos); the coordinates are moved back into the original
image. Each `Detection` says which pass found its faces (`found_by`);
`as_detected` gives the image the faces are then cut from: the model
verifies dark faces far better contrast-stretched (tight_crops.py).
"""
import dataclasses
import os
import typing

import numpy as np

from facenet_tf.alignment import mtcnn_graph

# davidsandberg's detect_face settings: minsize 20, threshold [0.6, 0.7, 0.7],
# factor 0.709 (mtcnn 1.0 defaults to 0.8 for the last stage).
MTCNN_SETTINGS = {"min_face_size": 20, "scale_factor": 0.709,
                  "threshold_pnet": 0.6, "threshold_rnet": 0.7,
                  "threshold_onet": 0.7}
_GREY = 127
# How an image's faces were found: the plain pass, or a retry (`found_by`);
# NO_FACE names the outcome of none, for the callers' counts.
FOUND, FOUND_PADDED, FOUND_CONTRAST = "found", "found_padded", "found_contrast"
NO_FACE = "no_face"
# Contrast stretch of the retry: these luminance percentiles go to 0 and
# 255. An image that the stretch would brighten less than _MIN_STRETCH times
# already spans the range: it is not retried (no wasted pass on a photo
# without a face).
_STRETCH_PERCENTILES = (1, 99)
_MIN_STRETCH = 1.5


@dataclasses.dataclass(frozen=True)
class Faces:
  """The faces of one image: N boxes [N, 4] (x1, y1, x2, y2), scores [N],
  keypoints [N, 5, 2] (eyes, nose, mouth corners, image-left first)."""
  boxes: np.ndarray
  scores: np.ndarray
  keypoints: np.ndarray

  @classmethod
  def from_rows(cls, rows):
    """From mtcnn's numpy rows: x1, y1, x2, y2, score, 5 xs, 5 ys."""
    rows = np.asarray(rows, np.float64).reshape(-1, 15)
    keypoints = np.stack([rows[:, 5:10], rows[:, 10:15]], axis=-1)
    return cls(rows[:, :4], rows[:, 4], keypoints)

  def select(self, keep):
    return Faces(self.boxes[keep], self.scores[keep], self.keypoints[keep])

  def shifted(self, dx, dy):
    offset = np.array([dx, dy], np.float64)
    return Faces(self.boxes + np.tile(offset, 2), self.scores,
                 self.keypoints + offset)

  def __len__(self):
    return len(self.scores)

  def to_json(self):
    """Lists at full precision (a reused detection must give the same
    crop: box edges are truncated to whole pixels), for logs and caches."""
    return {"boxes": self.boxes.tolist(), "scores": self.scores.tolist(),
            "keypoints": self.keypoints.tolist()}

  @classmethod
  def from_json(cls, value):
    return cls(np.asarray(value["boxes"], np.float64).reshape(-1, 4),
               np.asarray(value["scores"], np.float64).reshape(-1),
               np.asarray(value["keypoints"], np.float64).reshape(-1, 5, 2))


class Detection(typing.NamedTuple):
  """One image's detection: `faces` above min_confidence (or the exception
  detection raised), the best score below it (None if none), and which pass
  found the faces (FOUND, FOUND_PADDED, FOUND_CONTRAST; None: no face)."""
  faces: "Faces | Exception"
  best_below: float | None
  found_by: str | None


class FaceDetector:
  """MTCNN with davidsandberg's thresholds, batched by image shape.

  retry_padding: an image without a face is tried again inside a grey
    border of this fraction of its longer side (0: no retry).
  retry_contrast: then once more, contrast-stretched, in that border (dark
    or flat images only: the stretch must gain at least _MIN_STRETCH).
  """

  def __init__(self, min_confidence=0.9, batch_size=8, retry_padding=0.3,
               retry_contrast=True, intra_op_threads=None):
    if not 0 <= min_confidence <= 1:
      raise ValueError(f"min_confidence must be in [0, 1], got "
                       f"{min_confidence}")
    self.min_confidence = min_confidence
    self.batch_size = batch_size
    self.retry_padding = retry_padding
    self.retry_contrast = retry_contrast
    self._mtcnn = _build_mtcnn(intra_op_threads)

  def detect(self, images):
    """A `Detection` per [H, W, 3] uint8 image, in order."""
    found = [None] * len(images)
    by_shape = {}
    for index, image in enumerate(images):
      by_shape.setdefault(image.shape, []).append(index)
    for indices in by_shape.values():
      for start in range(0, len(indices), self.batch_size):
        chunk = indices[start:start + self.batch_size]
        for index, faces in zip(chunk, self._detect_each(
            [images[i] for i in chunk])):
          found[index] = (faces, FOUND)
    for index, (faces, _) in enumerate(found):
      if isinstance(faces, Faces) and not self._has_face(faces):
        found[index] = self._retry(images[index], faces)
    return [self._split(*pair) for pair in found]

  def _retry(self, image, faces):
    """(faces, found_by) of the retries of an image without a face; the
    plain pass's faces (scores below the threshold) if none finds one."""
    if not self.retry_padding:
      return faces, FOUND
    for variant, found_by in self._retry_variants(image):
      padded, pad = _pad(variant, self.retry_padding)
      (retry,) = self._detect_each([padded])
      if isinstance(retry, Faces) and self._has_face(retry):
        return retry.shifted(-pad, -pad), found_by
    return faces, FOUND

  def _retry_variants(self, image):
    """The image, then (dark or flat images only) its contrast stretch,
    computed only when the padded pass found nothing."""
    yield image, FOUND_PADDED
    stretched = stretch_contrast(image) if self.retry_contrast else None
    if stretched is not None:
      yield stretched, FOUND_CONTRAST

  def _has_face(self, faces):
    return bool(np.any(faces.scores >= self.min_confidence))

  def _split(self, faces, found_by):
    if isinstance(faces, Exception):
      return Detection(faces, None, None)
    keep = faces.scores >= self.min_confidence
    below = faces.scores[~keep]
    return Detection(faces.select(keep),
                     float(below.max()) if below.size else None,
                     found_by if keep.any() else None)

  def _detect_each(self, images):
    try:
      rows = self._mtcnn.detect_faces(
          [image.astype(np.float32) for image in images], output_type="numpy",
          box_format="xyxy", fit_to_image=False, **MTCNN_SETTINGS)
      rows = np.asarray(rows).reshape(-1, 16)
      return [Faces.from_rows(rows[rows[:, 0] == i, 1:])
              for i in range(len(images))]
    except Exception as error:  # pylint: disable=broad-except
      if len(images) == 1:
        return [error]
      # One by one, so that one bad image does not fail its whole batch.
      return [found for image in images for found in self._detect_each([image])]


def as_detected(image, found_by):
  """The image as the pass that found its faces saw it, to cut them from:
  contrast-stretched for FOUND_CONTRAST, else `image` itself."""
  if found_by == FOUND_CONTRAST:
    stretched = stretch_contrast(image)
    if stretched is not None:
      return stretched
  return image


def stretch_contrast(image):
  """The image with its luminance percentiles stretched to 0..255 (one
  gain and offset for all channels: colours keep their balance), or None
  when the gain would be under _MIN_STRETCH."""
  luminance = image[..., :3].astype(np.float32) @ np.float32([.299, .587, .114])
  low, high = np.percentile(luminance, _STRETCH_PERCENTILES)
  gain = 255.0 / max(float(high - low), 1.0)
  if gain < _MIN_STRETCH:
    return None
  stretched = (image.astype(np.float32) - low) * gain
  return np.clip(np.rint(stretched), 0, 255).astype(np.uint8)


def _pad(image, fraction):
  pad = max(1, round(max(image.shape[:2]) * fraction))
  widths = ((pad, pad), (pad, pad)) + ((0, 0),) * (image.ndim - 2)
  return np.pad(image, widths, constant_values=_GREY), pad


def _build_mtcnn(intra_op_threads):
  os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
  import tensorflow as tf  # pylint: disable=import-outside-toplevel
  if intra_op_threads:
    try:
      # W workers x T threads should not exceed the cores; MTCNN runs its
      # ops one after another, so inter-op parallelism buys nothing.
      tf.config.threading.set_intra_op_parallelism_threads(intra_op_threads)
      tf.config.threading.set_inter_op_parallelism_threads(1)
      tf.config.set_visible_devices([], "GPU")
    except RuntimeError:
      pass  # TF already initialised in this process: keep its settings.
  from mtcnn import MTCNN  # pylint: disable=import-outside-toplevel
  return mtcnn_graph.compile_stages(MTCNN())
