"""What an exported model says about itself: `ExportMetadata` and `Thresholds`.

Every export format carries the same metadata, written by one path
(`facenet_tf.export.export_saved_model`, then `deploy.convert` for LiteRT
and ONNX, which only set `format` and `quantization`):

  SavedModel  assets.extra/facenet_export.json (readable without TensorFlow)
  LiteRT      a flatbuffer metadata entry `facenet_export` (JSON bytes)
  ONNX        a `metadata_props` entry `facenet_export` (JSON)

The JSON layout is format version 1, as written since the first export, so
every earlier export (the packaged reference model included) still reads.
`preprocessing` and `signatures` are descriptions derived from the fields:
written for readers without facenet_tf, not read back.
"""
import dataclasses
import json
import math
import os

import facenet_tf
from facenet_tf.alignment import spec as spec_lib

FORMAT_VERSION = 1
METADATA_DIR = "assets.extra"  # a SavedModel's place for files it never reads
METADATA_FILE = "facenet_export.json"
METADATA_KEY = "facenet_export"  # the LiteRT / ONNX entry
ENCODED_SIGNATURE = "encoded_images"  # the SavedModel's encoded-image entry
FORMATS = ("savedmodel", "litert", "onnx")
QUANTIZATIONS = ("float", "dynamic", "int8")
DISTANCES = ("squared_l2",)  # paper §2: squared L2 between unit embeddings
_DESCRIPTIONS = ("preprocessing", "signatures")
_EMBEDDINGS = "embeddings: float32 [None, D], unit norm"
# Calibration pairs files known by name, described in words.
_KNOWN_PAIRS = {"pairsDevTrain.txt": "LFW DevTrain pairs",
                "pairsDevTest.txt": "LFW DevTest pairs",
                "pairs.txt": "LFW View 2 pairs"}


def _unknown_fields(cls, value, extra=()):
  fields = {f.name for f in dataclasses.fields(cls)}
  unknown = set(value) - fields - set(extra)
  if unknown:
    raise ValueError(f"{cls.__name__} has unknown fields {sorted(unknown)}")
  return fields


def far_words(far):
  """A false-accept rate as people write it: 0.001 -> "1e-3"."""
  mantissa, exponent = f"{far:e}".split("e")
  mantissa = mantissa.rstrip("0").rstrip(".")
  return f"{mantissa}e{int(exponent)}"


def describe_pairs(pairs):
  """Calibration pairs in words, never a path (an export travels to other
  machines): LFW's files by their protocol name ("LFW DevTrain pairs"),
  another file by its name ("the pairs of mine.txt"); words pass through,
  None is "unrecorded pairs"."""
  if not pairs:
    return "unrecorded pairs"
  text = os.fspath(pairs).replace("\\", "/").rstrip("/")
  if text.startswith("the pairs of "):
    return text
  name = text.rsplit("/", 1)[-1]
  if name in _KNOWN_PAIRS:
    return _KNOWN_PAIRS[name]
  if name != text or os.path.splitext(name)[1]:
    return f"the pairs of {name}"
  return text


@dataclasses.dataclass(frozen=True)
class Thresholds:
  """Squared-L2 decision thresholds, calibrated on validation pairs
  (people the model was not trained on; evaluation/calibration.py).

  Attributes:
    accuracy: the threshold with the most correct same/different calls on
      the calibration pairs (the apps' same/different default).
    far: the largest threshold whose false-accept rate there is at most
      `target_far` (the apps' "unknown" default in an open gallery).
    target_far: the FAR `far` was chosen for (paper §5.1: 1e-3).
    pairs: the calibration pairs in words ("LFW DevTrain pairs"): a path
      given here, as older exports hold, is kept as `describe_pairs` says
      it, so no export shows the machine that calibrated it.
    num_pairs: how many pairs they were calibrated on.
    calibration_accuracy: the accuracy of `accuracy` on those pairs.
    calibration_val, calibration_far: VAL and FAR of `far` on those pairs.
    distance: the distance they threshold.
  """
  accuracy: float
  far: float
  target_far: float
  pairs: str | None
  num_pairs: int
  calibration_accuracy: float
  calibration_val: float
  calibration_far: float
  distance: str = "squared_l2"

  def __post_init__(self):
    if self.pairs is not None:
      object.__setattr__(self, "pairs", describe_pairs(self.pairs))
    if not (math.isfinite(self.accuracy) and math.isfinite(self.far)):
      raise ValueError(f"thresholds must be finite, got accuracy "
                       f"{self.accuracy} and far {self.far}")
    if not 0 < self.target_far < 1:
      raise ValueError(f"target_far must be in (0, 1), got {self.target_far}")
    if self.num_pairs < 1:
      raise ValueError(f"num_pairs must be >= 1, got {self.num_pairs}")
    for name in ("calibration_accuracy", "calibration_val", "calibration_far"):
      if not 0 <= getattr(self, name) <= 1:
        raise ValueError(f"{name} must be in [0, 1], got "
                         f"{getattr(self, name)}")
    if self.distance not in DISTANCES:
      raise ValueError(f"thresholds distance must be one of {DISTANCES}, "
                       f"got {self.distance!r}")

  def purpose(self, kind):
    """What the `kind` ("accuracy" or "far") threshold was chosen for, in
    words: "best accuracy" or "FAR 1e-3"."""
    if kind == "accuracy":
      return "best accuracy"
    if kind == "far":
      return f"FAR {far_words(self.target_far)}"
    raise ValueError(f"threshold kind must be 'accuracy' or 'far', got "
                     f"{kind!r}")

  def to_dict(self):
    return dataclasses.asdict(self)

  @classmethod
  def from_dict(cls, value):
    _unknown_fields(cls, value)
    return cls(**value)


@dataclasses.dataclass(frozen=True)
class ExportMetadata:
  """An export's model, input, faces and thresholds.

  Attributes:
    architecture: the models registry name (models.build).
    image_size: (height, width) of the uint8 input.
    channels: 3 (RGB) or 1 (grey).
    embedding_dim: D of the float32 unit-norm output.
    dtype_policy: the Keras dtype policy it was trained with (any policy
      exports float32 embeddings).
    alignment: the AlignmentSpec of the faces it was trained on; None when
      its training faces had none (synthetic faces, data aligned by other
      tools, or an export older than alignment specs).
    thresholds: calibrated Thresholds, or None.
    format: "savedmodel", "litert" or "onnx".
    quantization: "float"; LiteRT also "dynamic" or "int8".
    encoded_resize: how the SavedModel's `encoded_images` signature brings
      a decoded image to image_size (export.py says it in its own words).
    distance: how embeddings compare.
    facenet_tf_version: the version that wrote the export.
    format_version: the JSON layout's version (FORMAT_VERSION).
  """
  architecture: str
  image_size: tuple[int, int]
  channels: int
  embedding_dim: int
  dtype_policy: str = "float32"
  alignment: spec_lib.AlignmentSpec | None = None
  thresholds: Thresholds | None = None
  format: str = "savedmodel"
  quantization: str = "float"
  encoded_resize: str = ""
  distance: str = "squared_l2"
  facenet_tf_version: str = facenet_tf.__version__
  format_version: int = FORMAT_VERSION

  def __post_init__(self):
    if (len(self.image_size) != 2
        or not all(s == int(s) > 0 for s in self.image_size)):
      raise ValueError(f"image_size must be two positive ints, got "
                       f"{self.image_size}")
    object.__setattr__(self, "image_size",
                       tuple(int(s) for s in self.image_size))
    if self.channels not in (1, 3):
      raise ValueError(f"channels must be 1 or 3, got {self.channels}")
    if self.embedding_dim < 1:
      raise ValueError(f"embedding_dim must be >= 1, got "
                       f"{self.embedding_dim}")
    if self.format not in FORMATS:
      raise ValueError(f"format must be one of {FORMATS}, got "
                       f"{self.format!r}")
    if (self.quantization not in QUANTIZATIONS
        or (self.quantization != "float" and self.format != "litert")):
      raise ValueError(f"quantization {self.quantization!r} does not apply "
                       f"to format {self.format!r}")
    if self.distance not in DISTANCES:
      raise ValueError(f"distance must be one of {DISTANCES}, got "
                       f"{self.distance!r}")
    if not isinstance(self.format_version, int) or not (
        1 <= self.format_version <= FORMAT_VERSION):
      raise ValueError(f"export format version {self.format_version!r}; "
                       f"this facenet_tf reads versions 1 to "
                       f"{FORMAT_VERSION}")

  @property
  def preprocessing(self):
    colour = "RGB" if self.channels == 3 else "grey"
    return f"{colour} uint8 0..255, scaled inside the model as x/127.5 - 1"

  @property
  def signatures(self):
    """The entry points of this format, described."""
    described = {"serving_default": "images: uint8 [None, H, W, C] -> "
                                    + _EMBEDDINGS}
    if self.format == "savedmodel":
      described[ENCODED_SIGNATURE] = ("images: string [None] encoded "
                                     "JPEG/PNG -> " + _EMBEDDINGS)
    return described

  def converted(self, format_, quantization="float"):
    """This metadata for the same model converted to `format_`."""
    return dataclasses.replace(self, format=format_, quantization=quantization)

  def to_dict(self):
    out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
    out["image_size"] = list(self.image_size)
    out["alignment"] = self.alignment.to_dict() if self.alignment else None
    out["thresholds"] = self.thresholds.to_dict() if self.thresholds else None
    return {**out, "preprocessing": self.preprocessing,
            "signatures": self.signatures}

  def to_json(self):
    return json.dumps(self.to_dict(), indent=2, sort_keys=True)

  @classmethod
  def from_dict(cls, value):
    """The metadata of `to_dict`, or of any format-1 dict written before
    this class (no `format` key: a SavedModel)."""
    version = value.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
      raise ValueError(f"export format version {version!r}; this facenet_tf "
                       f"reads versions 1 to {FORMAT_VERSION}")
    fields = _unknown_fields(cls, value, _DESCRIPTIONS)
    kept = {k: v for k, v in value.items() if k in fields}
    if kept.get("alignment") is not None:
      kept["alignment"] = spec_lib.AlignmentSpec.from_dict(kept["alignment"])
    if kept.get("thresholds") is not None:
      kept["thresholds"] = Thresholds.from_dict(kept["thresholds"])
    return cls(**kept)

  @classmethod
  def from_json(cls, text):
    return cls.from_dict(json.loads(text))


def saved_model_metadata_path(path):
  return os.path.join(os.fspath(path), METADATA_DIR, METADATA_FILE)


def read(path):
  """The ExportMetadata of the SavedModel export at `path` (no TensorFlow).

  Raises:
    ValueError: `path` is not a facenet_tf export, or of a newer format.
  """
  metadata_path = saved_model_metadata_path(path)
  if not os.path.isfile(metadata_path):
    raise ValueError(
        f"{os.fspath(path)} is not a facenet_tf export: {metadata_path} is "
        "missing. Write one with facenet_tf.export.export_saved_model.")
  with open(metadata_path, encoding="utf-8") as f:
    text = f.read()
  try:
    return ExportMetadata.from_json(text)
  except ValueError as error:
    raise ValueError(f"{os.fspath(path)}: {error}") from None
