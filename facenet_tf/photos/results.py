"""What the photo API returns: `Face`, `PhotoFaces` and `Verification`,
each printed as one short line (no embedding arrays), and the reading
order of a photo's faces.
"""
import dataclasses

import numpy as np

from facenet_tf.evaluation import calibration


@dataclasses.dataclass(repr=False)
class Face:
  """One face of a photo.

  box: x1, y1, x2, y2 in the photo's pixels (after EXIF rotation);
  landmarks: [5, 2] eyes, nose, mouth corners (image-left first);
  score: MTCNN's detection score; embedding: unit-norm float32 [D];
  index: the face's position in its photo, in reading order.
  """
  photo: str
  index: int
  box: tuple
  landmarks: np.ndarray
  score: float
  embedding: np.ndarray | None = None

  @property
  def area(self):
    return (self.box[2] - self.box[0]) * (self.box[3] - self.box[1])

  def describe(self):
    """'a.jpg face 0 box (94, 65, 176, 182)'."""
    box = ", ".join(f"{v:.0f}" for v in self.box)
    return f"{self.photo} face {self.index} box ({box})"

  def __repr__(self):
    embedded = ("not embedded" if self.embedding is None
                else f"{len(self.embedding)}-d embedding")
    return f"Face({self.describe()}, score {self.score:.3f}, {embedded})"

  def to_json(self):
    return {"photo": self.photo, "face": self.index,
            "box": [round(float(v), 1) for v in self.box],
            "landmarks": np.round(self.landmarks, 1).tolist(),
            "score": round(float(self.score), 4)}


@dataclasses.dataclass(repr=False)
class PhotoFaces:
  """The faces of one photo (reading order), or why it could not be read."""
  photo: str
  faces: list
  size: tuple | None = None   # (height, width) after EXIF rotation
  error: str | None = None
  # How its faces were found: detector.FOUND, FOUND_PADDED, FOUND_CONTRAST
  # (a retry of a tight or dark crop) or NO_FACE; None when not detected.
  found_by: str | None = None

  @property
  def main_face(self):
    """The largest face (the first of equals in reading order), or None."""
    return max(self.faces, key=lambda face: face.area, default=None)

  def __repr__(self):
    if self.error:
      return f"PhotoFaces({self.photo}: {self.error})"
    size = "" if self.size is None else f", {self.size[1]}x{self.size[0]}"
    return f"PhotoFaces({self.photo}, {len(self.faces)} faces{size})"


@dataclasses.dataclass(repr=False)
class Verification:
  """Two faces compared: squared L2 distance and the call at an
  `operating_point` (calibration.OperatingPoint: threshold, what it was
  chosen for and on which data)."""
  distance: float
  same: bool
  operating_point: calibration.OperatingPoint
  first: Face
  second: Face

  @property
  def threshold(self):
    return self.operating_point.threshold

  def __repr__(self):
    verdict, sign = ("same", "<=") if self.same else ("different", ">")
    return (f"Verification({verdict}: distance {self.distance:.4g} {sign} "
            f"{self.operating_point}; {self.first.describe()} vs "
            f"{self.second.describe()})")

  def to_json(self):
    return {"distance": self.distance, "same": self.same,
            **self.operating_point.to_json(),
            "first": self.first.to_json(), "second": self.second.to_json()}


def reading_order(boxes):
  """Indices of `boxes` [N, 4] (x1, y1, x2, y2) in reading order.

  Rows: walking the boxes by the y of their centres, a box joins the
  current row while its centre is above the lowest bottom edge (y2) of the
  boxes already in it, else it starts the next row. Rows are read top to
  bottom, the boxes of a row by the x of their centres, left to right
  (ties keep detection order).
  """
  boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
  centre_x = (boxes[:, 0] + boxes[:, 2]) / 2
  centre_y = (boxes[:, 1] + boxes[:, 3]) / 2
  rows, row_bottom = [], -np.inf
  for i in np.argsort(centre_y, kind="stable"):
    if rows and centre_y[i] < row_bottom:
      rows[-1].append(i)
      row_bottom = max(row_bottom, boxes[i, 3])
    else:
      rows.append([i])
      row_bottom = boxes[i, 3]
  return [int(i) for row in rows
          for i in sorted(row, key=lambda j: centre_x[j])]
