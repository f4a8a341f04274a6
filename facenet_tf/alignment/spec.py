"""The alignment spec: one named, versioned description of a face crop.

Every place a face enters a model (training trees, evaluation pairs, the
photo API, exports) uses one spec, so the model always sees faces framed the
way it was trained on. A spec is written beside an aligned tree
(`alignment_spec.json`), copied into the TFRecord manifest, the workdir's
results and the SavedModel's metadata, and compared with `check_compatible`
wherever a model meets data.

Geometries:
  box        davidsandberg/facenet's MTCNN box plus `margin` pixels of the
             source image (half a side), resized to `image_size` square
             without keeping the aspect ratio.
  landmarks  a similarity transform (rotation, uniform scale, translation)
             that maps MTCNN's five keypoints onto `template`, so that the
             eyes land on a fixed horizontal line at a fixed distance. The
             template is the one of ArcFace/InsightFace (112 x 112 px, eyes
             at y = 51.6), the standard of current face recognition models.
  dlib       the same warp onto a template fitted to dlib's face chip
             (150 px, padding 0.25: eyes higher and larger, the forehead
             in, less below the chin), so that a student sees faces framed
             as its teacher, dlib's ResNet, saw them (issue #30).

Each writes an `image_size` square whose central `model_crop_fraction`
(160 / 182, davidsandberg's 182 px crops cut to 160 px) is what a model sees:
training crops it at random around the centre, evaluation and serving take
the centre. The landmarks template is placed inside that central window, so
at serving time the model's view holds the template exactly.
"""
import dataclasses
import json
import os

from facenet_tf import atomic_files

SPEC_FILE = "alignment_spec.json"
# data_pipelines.align's summary beside its crops (counts, files without a face).
ALIGN_SUMMARY_FILE = "align_summary.json"
# davidsandberg/facenet: aligned at 182 px, cropped to 160 px for the model.
MODEL_CROP_FRACTION = 160 / 182
# ArcFace's 5-point template for 112 x 112 crops: image-left eye, image-right
# eye, nose tip, image-left and image-right mouth corners (MTCNN's order).
ARCFACE_TEMPLATE_112 = ((38.2946, 51.6963), (73.5318, 51.5014),
                        (56.0252, 71.7366), (41.5493, 92.3655),
                        (70.7299, 92.2041))
# Where MTCNN's five keypoints fall in dlib's 150 px face chip
# (dlib.get_face_chip_details(shape, 150, 0.25) from dlib's 5-point shape
# of the same MTCNN box): the mean over 300 CelebA and 300 LFW faces, the
# two sets' means averaged (their mouths differ by 3.6 px; eyes and nose by
# < 1 px). experiments/benchmarks/dlib_chip_template.py fits it (its
# sample: each point within 0.3 px) and checks it: dlib's network on LFW
# pairsDevTest faces warped onto it scores 0.990 (AUC 0.999), on its own
# chips 0.987, on our landmarks view 0.873.
DLIB_CHIP_TEMPLATE_150 = ((46.4402, 44.3596), (101.1189, 44.2906),
                          (73.6520, 77.4922), (49.2208, 103.7346),
                          (97.9602, 103.7309))


@dataclasses.dataclass(frozen=True)
class _Geometry:
  """What a geometry adds to a spec's name, and its template if it warps."""
  detail: str                 # str.format'ed with the spec's fields
  template: tuple = None      # five (x, y) keypoint targets, or None
  template_side: int = 0      # the square the template's points are in


# The one table of geometries: name detail, template, template side.
_GEOMETRY = {
    "box": _Geometry("m{margin}"),
    "landmarks": _Geometry("arcface", ARCFACE_TEMPLATE_112, 112),
    "dlib": _Geometry("chip", DLIB_CHIP_TEMPLATE_150, 150),
}
GEOMETRIES = tuple(_GEOMETRY)
# Geometries that warp MTCNN's five keypoints onto a template.
WARPED = tuple(g for g, d in _GEOMETRY.items() if d.template)


class AlignmentMismatch(ValueError):
  """A model meets faces aligned with another spec."""


@dataclasses.dataclass(frozen=True)
class AlignmentSpec:
  """A face crop, fully described.

  Attributes:
    geometry: "box", "landmarks" (ArcFace's template) or "dlib" (dlib's
      chip's).
    image_size: side of the written square crop, pixels.
    margin: box only: pixels of the source image added around the box
      (half a side); 0 for landmarks.
    version: bumped whenever the same fields would give other pixels.
    model_crop_fraction: the central fraction of each side a model sees.
  """
  geometry: str = "landmarks"
  image_size: int = 128
  margin: int = 44
  version: int = 1
  model_crop_fraction: float = MODEL_CROP_FRACTION

  def __post_init__(self):
    if self.geometry not in GEOMETRIES:
      raise ValueError(f"alignment geometry must be one of {GEOMETRIES}, "
                       f"got {self.geometry!r}")
    if self.image_size < 8:
      raise ValueError(f"alignment image_size must be >= 8, got "
                       f"{self.image_size}")
    if self.margin < 0:
      raise ValueError(f"alignment margin must be >= 0, got {self.margin}")
    if not 0 < self.model_crop_fraction <= 1:
      raise ValueError("model_crop_fraction must be in (0, 1], got "
                       f"{self.model_crop_fraction}")
    if self.geometry in WARPED:
      # The margin means nothing here: one landmarks spec, whatever it says.
      object.__setattr__(self, "margin", 0)

  @property
  def name(self):
    """A short name that differs whenever the pixels would."""
    detail = _GEOMETRY[self.geometry].detail.format(margin=self.margin)
    return f"{self.geometry}-{detail}-{self.image_size}px-v{self.version}"

  def template(self, size=None):
    """The 5 keypoints' targets in a `size` square crop (default image_size).

    The geometry's template (ArcFace's, or dlib's chip's) fills the central
    `model_crop_fraction` window, the part of the crop the model sees.
    """
    geometry = _GEOMETRY[self.geometry]
    points, side = geometry.template, geometry.template_side
    size = self.image_size if size is None else size
    window = size * self.model_crop_fraction
    offset = (size - window) / 2
    return tuple((offset + x / side * window, offset + y / side * window)
                 for x, y in points)

  def to_dict(self):
    return {"name": self.name, **dataclasses.asdict(self)}

  @classmethod
  def from_dict(cls, value):
    """The spec of `to_dict` (its `name` is derived, so it is checked)."""
    fields = {f.name for f in dataclasses.fields(cls)}
    unknown = set(value) - fields - {"name"}
    if unknown:
      raise ValueError(f"alignment spec has unknown fields {sorted(unknown)}")
    spec = cls(**{k: v for k, v in value.items() if k in fields})
    if value.get("name", spec.name) != spec.name:
      raise ValueError(f"alignment spec name {value['name']!r} does not "
                       f"match its fields ({spec.name})")
    return spec


def write(spec, directory):
  """Writes `directory/alignment_spec.json`."""
  atomic_files.write_json(os.path.join(directory, SPEC_FILE), spec.to_dict(),
                          indent=1)


def read(directory):
  """The spec written beside a tree, or None when the tree has none."""
  path = os.path.join(directory, SPEC_FILE)
  if not os.path.exists(path):
    return None
  with open(path, encoding="utf-8") as f:
    return AlignmentSpec.from_dict(json.load(f))


def fallback_stems(directory):
  """Stems (relative path without extension) of an aligned tree's files
  where no face was found: their crop, if written, is a fallback. The
  extension may differ between input and crop, hence stems. Empty for a
  tree without an aligner summary."""
  path = os.path.join(directory, ALIGN_SUMMARY_FILE)
  if not os.path.exists(path):
    return set()
  with open(path, encoding="utf-8") as f:
    return {os.path.splitext(p)[0] for p in json.load(f)["no_face_files"]}


def check_compatible(model_spec, data_spec, strict=False):
  """Compares the spec a model was trained on with the data's.

  Args:
    model_spec: the model's AlignmentSpec, or None (trained on unknown crops).
    data_spec: the data's AlignmentSpec, or None (not made by our aligner).
    strict: raise instead of returning the warning.

  Returns:
    None when they agree, else a one-line warning naming both.

  Raises:
    AlignmentMismatch: when `strict` and they differ.
  """
  if model_spec is None or data_spec is None:
    return None  # nothing to compare; callers say what they know
  model_view = dataclasses.replace(model_spec, image_size=128)
  data_view = dataclasses.replace(data_spec, image_size=128)
  # The written size does not change the face's framing, except for box
  # crops, whose margin is in source pixels: compare everything else.
  if model_view == data_view:
    return None
  message = (f"the model was trained on faces aligned as {model_spec.name}, "
             f"these are aligned as {data_spec.name}: accuracy will suffer; "
             "re-align them with the model's spec")
  if strict:
    raise AlignmentMismatch(message)
  return message
