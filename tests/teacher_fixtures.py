"""A toy aligned tree with teacher targets, without dlib.

Each photo is a 32 x 32 image whose left half has one colour and whose right
half another, drawn per image. `HalvesTeacher` stands in for dlib: its
"descriptor" of a face is (left colour, right colour) / 255 in the first 6
of 128 values, so the descriptor of a mirrored face is (right, left): a test
can read, from any image and target of a batch, whether they belong
together, and whether a flipped image got the mirror's target.
"""
import json
import pathlib

import numpy as np
from PIL import Image

SIZE = 32


def halves(image):
  """[6] floats: the mean colour of the left half, then of the right half."""
  image = np.asarray(image, np.float32)
  middle = image.shape[1] // 2
  return np.concatenate([image[:, :middle].mean((0, 1)),
                         image[:, middle:].mean((0, 1))]) / 255.0


def descriptor(left_right):
  out = np.zeros(128, np.float32)
  out[:6] = left_right
  return out


class HalvesTeacher:
  """DlibTeacher's interface; a face is described by its two halves."""

  def __init__(self, fail_on=()):
    self.fail_on = set(fail_on)  # source image sizes it "cannot describe"

  def targets(self, image, box):
    if image.shape[0] in self.fail_on:
      raise ValueError("no face this teacher can describe")
    x1, y1, x2, y2 = (int(v) for v in box)
    face = image[y1:y2, x1:x2]
    return descriptor(halves(face)), descriptor(halves(face[:, ::-1]))


def write_aligned_tree(root, identities=4, per_identity=5, seed=0,
                       undescribable=0):
  """Photos in root/photos, "aligned" crops + an align log in root/aligned.

  The crop is the photo itself (box = the whole image). The last
  `undescribable` photos of the first identity are 33 px tall, which
  `HalvesTeacher(fail_on={33})` refuses; their crops are still 32 px.
  Returns (photos dir, aligned dir).
  """
  rng = np.random.default_rng(seed)
  root = pathlib.Path(root)
  photos, aligned = root / "photos", root / "aligned"
  records = []
  for i in range(identities):
    for j in range(per_identity):
      colours = rng.integers(0, 256, size=(2, 3), dtype=np.uint8)
      image = np.zeros((SIZE, SIZE, 3), np.uint8)
      image[:, :SIZE // 2], image[:, SIZE // 2:] = colours
      tall = i == 0 and j >= per_identity - undescribable
      photo = np.concatenate([image, image[-1:]]) if tall else image
      # LFW's naming (lfw_protocol.image_path), so pairs files resolve.
      source = crop = f"p{i}/p{i}_{j + 1:04d}.png"
      for directory, pixels in ((photos, photo), (aligned, image)):
        (directory / f"p{i}").mkdir(parents=True, exist_ok=True)
        Image.fromarray(pixels).save(directory / crop)
      records.append({"path": source, "status": "aligned", "output": crop,
                      "box": [0, 0, SIZE, SIZE]})
  with open(aligned / "align_log.jsonl", "w", encoding="utf-8") as log:
    log.writelines(json.dumps(r) + "\n" for r in records)
  return photos, aligned
