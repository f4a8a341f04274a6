"""LFW's protocol files: pair lists and people lists (LFW README §3).

  pairs.txt        View 2: "10 300", then per fold 300 matched `name i j`
                   lines and 300 mismatched `name1 i name2 j` lines.
  pairsDevTrain.txt, pairsDevTest.txt
                   View 1: "N", then N matched and N mismatched lines.
  people.txt       View 2: "10", then per fold a count and `name count` lines.
  peopleDevTrain.txt, peopleDevTest.txt
                   View 1: "N", then N `name count` lines.
View 1 lists get fold 0. Image i of `name` is
`<images_root>/<name>/<name>_NNNN.jpg` (4-digit, 1-based), images_root
defaulting to `images/` beside the list, the layout of ../shared/data/lfw.
A tree written by data_pipelines.align keeps the stems but may change the
extension (`.png`): `read_pairs` finds `<name>_NNNN.<any>` when the `.jpg`
is absent, so aligned trees are read as they are.
"""
import os
import typing

import numpy as np


class Pair(typing.NamedTuple):
  path1: str
  path2: str
  issame: bool
  fold: int


class Person(typing.NamedTuple):
  name: str
  count: int
  fold: int


def image_path(images_root, name, index):
  """`<images_root>/<name>/<name>_NNNN.jpg` for 1-based image `index`."""
  return os.path.join(images_root, name, f"{name}_{int(index):04d}.jpg")


def read_pairs(pairs_file, images_root=None, check_exists=True):
  """The pairs of a View 1 or View 2 pair list, in file order.

  Args:
    pairs_file: pairs.txt, pairsDevTrain.txt or pairsDevTest.txt.
    images_root: folder of `<name>/<name>_NNNN.jpg`; None = `images/` beside
      `pairs_file`.
    check_exists: raise FileNotFoundError naming the first missing image.

  Raises:
    ValueError: a line that does not fit the format, naming file and line.
  """
  lines = _read_lines(pairs_file)
  header = lines[0].split()
  folds, per_class = (1, int(header[0])) if len(header) == 1 else map(
      int, header)
  if len(lines) != 1 + 2 * folds * per_class:
    raise ValueError(f"{pairs_file}: header {lines[0]!r} implies "
                     f"{2 * folds * per_class} pairs, found {len(lines) - 1}")
  root = images_root or os.path.join(os.path.dirname(pairs_file), "images")
  resolve = _StemResolver()
  pairs = []
  for number, line in enumerate(lines[1:], start=2):
    fields = line.split()
    fold, offset = divmod(number - 2, 2 * per_class)
    issame = offset < per_class
    if len(fields) != (3 if issame else 4):
      raise ValueError(f"{pairs_file}:{number}: expected a "
                       f"{'matched' if issame else 'mismatched'} pair, got "
                       f"{line!r}")
    if issame:
      first, second = fields[:2], (fields[0], fields[2])
    else:
      first, second = fields[:2], fields[2:]
    pairs.append(Pair(resolve(image_path(root, *first)),
                      resolve(image_path(root, *second)), issame, fold))
  if check_exists:
    for pair in pairs:
      for path in (pair.path1, pair.path2):
        if not os.path.exists(path):
          raise FileNotFoundError(f"{pairs_file}: image {path} is missing")
  return pairs


class _StemResolver:
  """Maps `<dir>/<stem>.jpg` to the one existing `<dir>/<stem>.<ext>`."""

  def __init__(self):
    self._listings = {}

  def __call__(self, path):
    folder, name = os.path.split(path)
    if folder not in self._listings:
      by_stem = {}
      if os.path.isdir(folder):
        for entry in os.listdir(folder):
          if not entry.startswith("."):
            by_stem.setdefault(os.path.splitext(entry)[0], []).append(entry)
      self._listings[folder] = by_stem
    found = self._listings[folder].get(os.path.splitext(name)[0], [])
    if name in found or len(found) != 1:
      return path  # the exact file, or missing/ambiguous: reported later
    return os.path.join(folder, found[0])


def read_people(people_file):
  """The (name, count, fold) of a View 1 or View 2 people list."""
  lines = _read_lines(people_file)
  # View 2's second line is a fold's count, View 1's a `name count` line.
  view2 = len(lines) > 1 and len(lines[1].split()) == 1
  folds = int(lines[0]) if view2 else 1
  people, position = [], 1 if view2 else 0
  for fold in range(folds):
    count = int(lines[position])
    entries = [line.split()
               for line in lines[position + 1:position + 1 + count]]
    if len(entries) != count or any(len(entry) != 2 for entry in entries):
      raise ValueError(f"{people_file}: fold {fold} (line {position + 1}) "
                       f"should list {count} `name count` lines")
    people += [Person(name, int(images), fold) for name, images in entries]
    position += 1 + count
  if position != len(lines):
    raise ValueError(f"{people_file}: {len(lines) - position} lines after the "
                     "last fold")
  return people


def pair_image_index(pairs):
  """Each image once, so an evaluation embeds it once.

  Returns:
    (paths, index1, index2, issame, fold): the sorted unique image paths;
    per pair the indices of its two images in `paths`; issame bool and fold
    int arrays.
  """
  paths = sorted({p.path1 for p in pairs} | {p.path2 for p in pairs})
  where = {path: i for i, path in enumerate(paths)}
  index1 = np.array([where[p.path1] for p in pairs], np.int64)
  index2 = np.array([where[p.path2] for p in pairs], np.int64)
  issame = np.array([p.issame for p in pairs], bool)
  fold = np.array([p.fold for p in pairs], np.int32)
  return paths, index1, index2, issame, fold


def _read_lines(path):
  """Non-empty, stripped lines of a protocol file."""
  with open(path, encoding="utf-8") as f:
    return [line.strip() for line in f if line.strip()]
