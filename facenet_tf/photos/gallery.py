"""A gallery of known people: enroll from photos, identify faces, save/load.

    gallery = photos.Gallery(recognizer)
    gallery.enroll("Ann", ["ann1.jpg", "ann2.jpg"])     # main face of each
    for found, answers in gallery.identify("party.jpg"):
      for who in answers:                             # faces, reading order
        print(who)  # Identification(Ann: distance 0.61 <= threshold ...)
    gallery.save("people.npz")                          # or people.json
    gallery = photos.Gallery.load("people.npz", recognizer)

Enrolling takes the main (largest) face of each photo; a photo without a
face, or that cannot be read, is not enrolled: `enroll` returns the counts
and photos and warns (GalleryWarning) naming them.

Open set: a face whose nearest enrolled face is farther than the gallery's
threshold is "unknown" (`name` None). The threshold is the operating point
of FaceRecognizer.verify (calibration.operating_point): by default the
model's best-accuracy one, so a pair facenet-compare calls "same" is
recognized here too; `far=1e-3` the open-set one, where a stranger is
rarely taken for someone enrolled (and more enrolled faces are missed).
Every Identification names its threshold. Files are
NumPy `.npz` (no pickle: strings are stored as fixed-width unicode) or JSON;
both record the model they were made with, and loading them with another
model (embedding size or alignment spec) is refused. Search goes through an
`ann_index.NeighbourIndex` (exact up to 100k faces, FAISS IVF above); a
FAISS index is saved beside the gallery file (`<file>.faiss`) and loaded
with it, after checking that it indexes these rows.
"""
import dataclasses
import json
import os
import warnings

import numpy as np

from facenet_tf import atomic_files
from facenet_tf.evaluation import ann_index
from facenet_tf.evaluation import calibration

FORMAT_VERSION = 1
INDEX_SUFFIX = ".faiss"


class GalleryError(ValueError):
  """A gallery file that cannot be used with this model, or bad enrollment."""


class GalleryWarning(UserWarning):
  """Photos given to `enroll` that were not enrolled (no face, unreadable)."""


@dataclasses.dataclass(repr=False)
class Identification:
  """One face of a probe photo: its nearest person, or None (unknown), at
  the gallery's `operating_point`."""
  face: object
  name: str | None
  distance: float
  nearest: str
  operating_point: calibration.OperatingPoint

  def __repr__(self):
    if self.name is None:
      verdict = (f"unknown: nearest {self.nearest} at distance "
                 f"{self.distance:.4g} > {self.operating_point}")
    else:
      verdict = (f"{self.name}: distance {self.distance:.4g} <= "
                 f"{self.operating_point}")
    return f"Identification({verdict}; {self.face.describe()})"

  def to_json(self):
    return {**self.face.to_json(), "name": self.name,
            "nearest": self.nearest, "distance": self.distance,
            **self.operating_point.to_json()}


class Gallery:
  """Enrolled faces (one row per enrolled photo) and their people."""

  def __init__(self, recognizer, threshold=None, far=None):
    """`threshold` or `far` as in FaceRecognizer.operating_point (default:
    the model's best-accuracy threshold)."""
    self.recognizer = recognizer
    try:
      self.operating_point = recognizer.operating_point(far, threshold)
    except ValueError as error:  # a FAR the model has no threshold for
      raise GalleryError(str(error)) from None
    self.names, self.sources = [], []
    self.embeddings = np.zeros((0, recognizer.model.embedding_dim),
                               np.float32)
    self._index = None  # built on the first search after a change

  def __len__(self):
    return len(self.names)

  def __repr__(self):
    return (f"Gallery({len(self.people)} people, {len(self)} faces; "
            f"{self.operating_point})")

  @property
  def threshold(self):
    return self.operating_point.threshold

  @property
  def people(self):
    return sorted(set(self.names))

  def enroll(self, name, photos):
    """Adds the main (largest) face of each photo under `name`.

    Returns:
      {"enrolled": n, "no_face": [photos], "errors": [messages]}: a photo
      without a face or that cannot be read is not enrolled; it is in the
      report and named by a GalleryWarning, never guessed.
    """
    if not name or not isinstance(name, str):
      raise GalleryError(f"a person's name must be a non-empty string, got "
                         f"{name!r}")
    report = {"enrolled": 0, "no_face": [], "errors": []}
    rows = []
    for found in self.recognizer.faces(photos if isinstance(
        photos, (list, tuple)) else [photos]):
      if found.error:
        report["errors"].append(found.error)
      elif not found.faces:
        report["no_face"].append(found.photo)
      else:
        rows.append(found.main_face.embedding)
        self.names.append(name)
        self.sources.append(found.photo)
        report["enrolled"] += 1
    if rows:
      self.embeddings = np.concatenate([self.embeddings,
                                        np.stack(rows).astype(np.float32)])
      self._index = None
    missed = report["errors"] + [f"{photo}: no face found"
                                 for photo in report["no_face"]]
    if missed:
      warnings.warn(f"{name}: {len(missed)} photo(s) not enrolled: "
                    + "; ".join(missed), GalleryWarning, stacklevel=2)
    return report

  def identify(self, photos):
    """Per photo: `(PhotoFaces, [Identification per face])`."""
    if not len(self):
      raise GalleryError("the gallery is empty: enroll people first")
    found = self.recognizer.faces(photos if isinstance(
        photos, (list, tuple)) else [photos])
    faces = [face for item in found for face in item.faces]
    if faces:
      distance, nearest = self.nearest(np.stack([f.embedding for f in faces]))
    out, row = [], 0
    for item in found:
      answers = []
      for face in item.faces:
        name = self.names[nearest[row]]
        answers.append(Identification(
            face, name if distance[row] <= self.threshold else None,
            float(distance[row]), name, self.operating_point))
        row += 1
      out.append((item, answers))
    return out

  def nearest(self, embeddings):
    """(squared L2 distance, gallery row) of each embedding's nearest row
    (the index: exact chunked search, or FAISS for large galleries)."""
    if self._index is None:
      self._index = ann_index.NeighbourIndex(self.embeddings)
    distances, rows = self._index.search(embeddings, k=1)
    return distances[:, 0], rows[:, 0]

  def _model_record(self):
    m = self.recognizer.metadata
    return {"architecture": m.architecture,
            "embedding_dim": m.embedding_dim,
            "alignment": self.recognizer.alignment.name,
            "model_path": str(self.recognizer.model_path)}

  def save(self, path):
    """Writes `.npz` or `.json` (by extension) atomically."""
    path = os.fspath(path)
    record = {"format_version": FORMAT_VERSION, "model": self._model_record(),
              "threshold": self.threshold,
              "threshold_source": self.operating_point.description}
    if path.endswith(".npz"):
      with atomic_files.open_for_write(path, "wb") as f:
        np.savez(f, embeddings=self.embeddings,
                 names=np.array(self.names, dtype=str).reshape(-1),
                 sources=np.array(self.sources, dtype=str).reshape(-1),
                 record=np.array(json.dumps(record)))
    elif path.endswith(".json"):
      atomic_files.write_json(path, {
          **record, "names": self.names, "sources": self.sources,
          "embeddings": self.embeddings.tolist()})
    else:
      raise GalleryError(f"{path}: a gallery is saved as .npz or .json")
    if len(self) and self._index is None:
      self._index = ann_index.NeighbourIndex(self.embeddings)
    if self._index is not None and self._index.kind != "exact":
      self._index.save(f"{path}{INDEX_SUFFIX}")
    else:  # an index left by an earlier, larger save would be refused
      for stale in (f"{path}{INDEX_SUFFIX}", f"{path}{INDEX_SUFFIX}.json"):
        if os.path.exists(stale):
          os.remove(stale)

  @classmethod
  def load(cls, path, recognizer, threshold=None, far=None):
    """A saved gallery, checked against `recognizer`'s model. Its faces are
    matched at `operating_point(far, threshold)` of this recognizer, as a
    new gallery's, whatever it was saved with."""
    path = os.fspath(path)
    if not os.path.exists(path):
      raise FileNotFoundError(f"{path}: no such gallery file")
    try:
      if path.endswith(".npz"):
        with np.load(path, allow_pickle=False) as data:
          record = json.loads(str(data["record"]))
          names, sources = data["names"].tolist(), data["sources"].tolist()
          embeddings = data["embeddings"].astype(np.float32)
      elif path.endswith(".json"):
        with open(path, encoding="utf-8") as f:
          record = json.load(f)
        names, sources = record.pop("names"), record.pop("sources")
        embeddings = np.asarray(record.pop("embeddings"), np.float32)
      else:
        raise ValueError("a gallery file ends in .npz or .json")
    except (OSError, ValueError, KeyError) as error:
      raise GalleryError(f"{path}: not a gallery file ({error})") from None
    gallery = cls(recognizer, threshold, far)
    mine, theirs = gallery._model_record(), record["model"]
    for key in ("embedding_dim", "alignment"):
      if mine[key] != theirs[key]:
        raise GalleryError(f"{path} was enrolled with a model whose {key} is "
                         f"{theirs[key]!r}; this model's is {mine[key]!r}: "
                         "enroll the people again with this model")
    embeddings = embeddings.reshape(-1, mine["embedding_dim"])
    if len(embeddings) != len(names) or len(names) != len(sources):
      raise GalleryError(f"{path}: {len(names)} names for "
                         f"{len(embeddings)} embeddings")
    gallery.names, gallery.sources = list(names), list(sources)
    gallery.embeddings = embeddings
    if os.path.exists(f"{path}{INDEX_SUFFIX}"):
      try:
        gallery._index = ann_index.NeighbourIndex.load(f"{path}{INDEX_SUFFIX}",
                                                       embeddings)
      except ann_index.AnnIndexError as error:
        raise GalleryError(str(error)) from None
    return gallery
