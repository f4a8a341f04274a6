"""MTCNN face detection (the `mtcnn` 1.0 package, which ships its weights).

`FaceDetector.detect(images)` returns, per image, a `Faces` of every face
found: boxes, detection scores and the five keypoints, or the exception that
image raised, so one bad image never fails a batch. Images of one shape are
batched together (mtcnn pads a mixed batch to its largest image).

A tight face crop (the face fills the frame, as in many face datasets and
cropped profile photos) often gives no detection: MTCNN's proposal network
needs some context around the face. An image without a face is therefore
tried once more inside a grey border of `retry_padding` of its side, and the
coordinates are moved back into the original image.
"""
import dataclasses
import os

import numpy as np

from facenet_tf.alignment import mtcnn_graph

# davidsandberg's detect_face settings: minsize 20, threshold [0.6, 0.7, 0.7],
# factor 0.709 (mtcnn 1.0 defaults to 0.8 for the last stage).
MTCNN_SETTINGS = {"min_face_size": 20, "scale_factor": 0.709,
                  "threshold_pnet": 0.6, "threshold_rnet": 0.7,
                  "threshold_onet": 0.7}
_GREY = 127


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


class FaceDetector:
  """MTCNN with davidsandberg's thresholds, batched by image shape."""

  def __init__(self, min_confidence=0.9, batch_size=8, retry_padding=0.3,
               intra_op_threads=None):
    if not 0 <= min_confidence <= 1:
      raise ValueError(f"min_confidence must be in [0, 1], got "
                       f"{min_confidence}")
    self.min_confidence = min_confidence
    self.batch_size = batch_size
    self.retry_padding = retry_padding
    self._mtcnn = _build_mtcnn(intra_op_threads)

  def detect(self, images):
    """Per [H, W, 3] uint8 image: its `Faces` above min_confidence, or the
    exception detection raised on it. Also returns, per image, the best
    score below the threshold (None if there was none)."""
    found = [None] * len(images)
    by_shape = {}
    for index, image in enumerate(images):
      by_shape.setdefault(image.shape, []).append(index)
    for indices in by_shape.values():
      for start in range(0, len(indices), self.batch_size):
        chunk = indices[start:start + self.batch_size]
        for index, faces in zip(chunk, self._detect_each(
            [images[i] for i in chunk])):
          found[index] = faces
    for index, faces in enumerate(found):
      if (self.retry_padding and isinstance(faces, Faces)
          and not np.any(faces.scores >= self.min_confidence)):
        padded, pad = _pad(images[index], self.retry_padding)
        (retry,) = self._detect_each([padded])
        if isinstance(retry, Faces) and np.any(
            retry.scores >= self.min_confidence):
          found[index] = retry.shifted(-pad, -pad)
    return [self._split(faces) for faces in found]

  def _split(self, faces):
    if isinstance(faces, Exception):
      return faces, None
    keep = faces.scores >= self.min_confidence
    below = faces.scores[~keep]
    return faces.select(keep), (float(below.max()) if below.size else None)

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
