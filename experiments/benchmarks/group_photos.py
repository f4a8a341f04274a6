"""Synthetic group photos made of real LFW faces, with their ground truth.

`compose(people, rng, ...)` pastes one LFW photo of each person into a
larger canvas: each face scaled to a chosen width (the face spans ~110 of
LFW's 250 px, LFW README: the detector box enlarged 2.2 times), rotated in
plane, placed without overlap, blended in with a soft elliptical mask over
a background of smooth colour noise. It returns the photo and, per face,
the person, centre and width, for detection recall and identification
accuracy (tests/test_group_photos.py, bench_photos.py).
"""
import dataclasses

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

# Of a 250 px deep-funneled LFW photo, the face is about 110 px wide; the
# central 180 px hold the head.
LFW_FACE_WIDTH = 110
_LFW_SIDE = 250
_HEAD_SIDE = 180


@dataclasses.dataclass
class PlacedFace:
  person: str
  centre: tuple   # x, y in the group photo
  width: float    # face width in pixels
  angle: float    # in-plane rotation, degrees (counter-clockwise)


def background(width, height, rng):
  """Smooth colour noise: a 6 x 4 random grid, upsampled and blurred."""
  grid = rng.integers(40, 220, (4, 6, 3), dtype=np.uint8)
  image = Image.fromarray(grid).resize((width, height), Image.BICUBIC)
  return image.filter(ImageFilter.GaussianBlur(radius=max(width, height) / 50))


def _head(photo_path, face_width, angle):
  """The LFW photo scaled so its face is `face_width` px, rotated, with a
  soft elliptical mask around the head (RGBA)."""
  with Image.open(photo_path) as photo:
    offset = (_LFW_SIDE - _HEAD_SIDE) // 2
    photo = photo.convert("RGB").crop((offset, offset, offset + _HEAD_SIDE,
                                       offset + _HEAD_SIDE))
  side = max(8, round(_HEAD_SIDE * face_width / LFW_FACE_WIDTH))
  photo = photo.resize((side, side), Image.BICUBIC if side > _HEAD_SIDE
                       else Image.LANCZOS)
  mask = Image.new("L", (side, side), 0)
  inset = side * 0.04
  ImageDraw.Draw(mask).ellipse((inset, inset, side - inset, side - inset),
                               fill=255)
  mask = mask.filter(ImageFilter.GaussianBlur(radius=side / 30))
  photo.putalpha(mask)
  return photo.rotate(angle, resample=Image.BICUBIC, expand=True)


def compose(faces, size, rng, background_image=None, max_tries=1000):
  """A group photo of `faces` = [(person, LFW photo path, face width,
  angle)], `size` = (width, height). Returns (PIL RGB image, [PlacedFace]).

  Raises:
    ValueError: the faces do not fit the canvas without overlapping.
  """
  width, height = size
  canvas = (background_image.copy() if background_image is not None
            else background(width, height, rng))
  placed, taken = [None] * len(faces), []
  # The largest heads first: the small ones then fit in the gaps.
  for k in sorted(range(len(faces)), key=lambda k: -faces[k][2]):
    person, path, face_width, angle = faces[k]
    head = _head(path, face_width, angle)
    w, h = head.size
    if w >= width or h >= height:
      raise ValueError(f"a {face_width} px face does not fit {size}")
    for _ in range(max_tries):
      x, y = int(rng.integers(0, width - w)), int(rng.integers(0, height - h))
      box = (x, y, x + w, y + h)
      if all(box[2] <= t[0] or box[0] >= t[2] or box[3] <= t[1]
             or box[1] >= t[3] for t in taken):
        break
    else:
      raise ValueError(f"{len(faces)} faces do not fit {size} unoverlapped")
    taken.append(box)
    canvas.paste(head, (x, y), head)
    placed[k] = PlacedFace(person, (x + w / 2, y + h / 2), face_width, angle)
  return canvas, placed


def match(placed, found_faces):
  """Pairs each placed face with the detected face nearest its centre,
  if that face's box centre lies within half the face width of it.

  Returns a list, per placed face, of the matched detected face or None.
  """
  out, used = [], set()
  for truth in placed:
    best, best_distance = None, truth.width * 0.5
    for index, face in enumerate(found_faces):
      x1, y1, x2, y2 = face.box
      distance = np.hypot((x1 + x2) / 2 - truth.centre[0],
                          (y1 + y2) / 2 - truth.centre[1])
      if index not in used and distance < best_distance:
        best, best_distance = index, distance
    if best is not None:
      used.add(best)
    out.append(None if best is None else found_faces[best])
  return out
