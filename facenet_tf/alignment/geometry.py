"""Pure geometry of face alignment: which face to keep and what to crop.

Follows davidsandberg/facenet's `src/align/align_dataset_mtcnn.py`, whose
crops the published FaceNet models were trained on: the MTCNN box (not made
square), `margin / 2` pixels added on each side, clipped to the image, then
resized to `image_size` x `image_size` without keeping the aspect ratio.
"""
import numpy as np

MULTIPLE_FACE_POLICIES = ("largest", "central")

# davidsandberg weighs the squared distance of a box centre from the image
# centre twice against the box area when an image holds several faces.
_CENTRE_OFFSET_WEIGHT = 2.0


def choose_face(boxes, image_shape, policy):
  """Index of the face to keep among several detections.

  Args:
    boxes: [N, 4] float array of `x1, y1, x2, y2` boxes, N >= 1.
    image_shape: `(height, width, ...)` of the image the boxes come from.
    policy: "largest" keeps the box of largest area. "central" is
      davidsandberg's rule (area minus twice the squared distance of the box
      centre from the image centre), so a large face near the centre wins
      over both a small face at the centre and a large one at the edge.

  Returns:
    The index into `boxes` of the chosen face.

  Raises:
    ValueError: for an unknown policy.
  """
  boxes = np.asarray(boxes, np.float64)
  areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
  if policy == "largest":
    return int(np.argmax(areas))
  if policy == "central":
    height, width = image_shape[:2]
    offset_x = (boxes[:, 0] + boxes[:, 2]) / 2 - width / 2
    offset_y = (boxes[:, 1] + boxes[:, 3]) / 2 - height / 2
    offsets_squared = offset_x**2 + offset_y**2
    return int(np.argmax(areas - _CENTRE_OFFSET_WEIGHT * offsets_squared))
  raise ValueError(f"multiple_faces must be one of {MULTIPLE_FACE_POLICIES}, "
                   f"got {policy!r}")


def margin_crop_box(box, margin, image_shape):
  """The integer crop `x0, y0, x1, y1` around a face box, clipped to the image.

  Args:
    box: `x1, y1, x2, y2` of the face, floats, possibly outside the image.
    margin: total margin in pixels; half goes on each side, as in
      davidsandberg (`det[0] - margin / 2`, ...).
    image_shape: `(height, width, ...)` of the image.

  Returns:
    A tuple of 4 ints with `0 <= x0 < x1 <= width`, `0 <= y0 < y1 <= height`.
  """
  height, width = image_shape[:2]
  x1, y1, x2, y2 = (float(v) for v in box)
  half = margin / 2
  # int() truncates like davidsandberg's int32 bounding-box array.
  x0 = int(np.clip(x1 - half, 0, width - 1))
  y0 = int(np.clip(y1 - half, 0, height - 1))
  x_end = int(np.clip(x2 + half, x0 + 1, width))
  y_end = int(np.clip(y2 + half, y0 + 1, height))
  return x0, y0, x_end, y_end


def center_crop_box(image_shape):
  """The central square `x0, y0, x1, y1` whose side is the image's shorter side.

  Used for images without a detected face under `--no_face=center_crop`:
  face datasets (LFW deep-funneled, ORL) centre their subject.

  Args:
    image_shape: `(height, width, ...)` of the image.

  Returns:
    A tuple of 4 ints.
  """
  height, width = image_shape[:2]
  side = min(height, width)
  x0 = (width - side) // 2
  y0 = (height - side) // 2
  return x0, y0, x0 + side, y0 + side
