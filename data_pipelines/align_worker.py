"""One alignment process: decode, detect with MTCNN in batches, align, write.

TensorFlow is imported only when a detector is built, so the parent process
of a multi-process run (and flag parsing) never loads it. With a detection
cache (`--detections`, the log of an earlier run over the same files), a
file whose detections are cached is aligned without running MTCNN: another
geometry or size costs a warp, not a detection.
"""
import dataclasses
import pathlib

from PIL import Image

from data_pipelines import align_summary
from facenet_tf import atomic_files
from facenet_tf.alignment import detector as detector_lib
from facenet_tf.alignment import geometry as align_geometry
from facenet_tf.alignment import spec as spec_lib
from facenet_tf.alignment import warp
from facenet_tf.data import reading

NO_FACE_MODES = ("skip", "center_crop")
# format name -> (Pillow format, file extension, save arguments)
IMAGE_FORMATS = {"png": ("PNG", ".png", {}),
                 "jpeg": ("JPEG", ".jpg", {"quality": 95})}
# Written crop side when --image_size is not given: davidsandberg's 182 for
# box crops; 128 for landmark crops (the 112 px ArcFace view at 160 / 182).
DEFAULT_IMAGE_SIZE = {"box": 182, "landmarks": 128, "dlib": 128}
# A record's `found_by` when no pass found a face and the centre was cut.
FALLBACK = "fallback"

_detector = None
_job = {}


@dataclasses.dataclass(frozen=True)
class AlignOptions:
  """What the aligner writes; see `python -m data_pipelines.align --help`."""
  geometry: str = "landmarks"
  image_size: int | None = None
  margin: int = 44
  no_face: str = "skip"
  multiple_faces: str = "central"
  min_confidence: float = 0.9
  image_format: str = "png"
  batch_size: int = 8

  def validate(self):
    """Raises ValueError naming the first invalid field."""
    if self.image_size is not None and self.image_size < 8:
      raise ValueError(f"image_size must be >= 8, got {self.image_size}")
    if self.margin < 0:
      raise ValueError(f"margin must be >= 0, got {self.margin}")
    self.spec  # pylint: disable=pointless-statement  (validates geometry)
    if self.no_face not in NO_FACE_MODES:
      raise ValueError(f"no_face must be one of {NO_FACE_MODES}, "
                       f"got {self.no_face!r}")
    if self.multiple_faces not in align_geometry.MULTIPLE_FACE_POLICIES:
      raise ValueError("multiple_faces must be one of "
                       f"{align_geometry.MULTIPLE_FACE_POLICIES}, "
                       f"got {self.multiple_faces!r}")
    if not 0.0 <= self.min_confidence <= 1.0:
      raise ValueError("min_confidence must be in [0, 1], "
                       f"got {self.min_confidence}")
    if self.image_format not in IMAGE_FORMATS:
      raise ValueError(f"format must be one of {tuple(IMAGE_FORMATS)}, "
                       f"got {self.image_format!r}")
    if self.batch_size < 1:
      raise ValueError(f"batch_size must be >= 1, got {self.batch_size}")

  @property
  def spec(self):
    """The AlignmentSpec of the crops these options write."""
    size = self.image_size or DEFAULT_IMAGE_SIZE.get(self.geometry, 128)
    return spec_lib.AlignmentSpec(geometry=self.geometry, image_size=size,
                                  margin=self.margin)

  @property
  def suffix(self):
    """Extension of the written crops."""
    return IMAGE_FORMATS[self.image_format][1]


def init_worker(input_dir, output_dir, options, intra_op_threads,
                detections=None):
  """Sets this process's job and builds its MTCNN once (a Pool initializer).

  `detections` maps input paths to cached `Faces.to_json()` values.
  """
  global _detector
  _job.update(input_dir=pathlib.Path(input_dir),
              output_dir=pathlib.Path(output_dir), options=options,
              spec=options.spec, detections=detections or {})
  if _detector is None:
    _detector = detector_lib.FaceDetector(
        min_confidence=options.min_confidence, batch_size=options.batch_size,
        intra_op_threads=intra_op_threads)


def read_detections(log_path):
  """`path -> faces` of every detection an align log recorded (last wins),
  each with the pass that found it (`found_by`)."""
  return {record["path"]: {**record["detections"],
                            "found_by": record.get("found_by")}
          for record in align_summary.read_records(log_path)
          if "detections" in record}


def align_batch(tasks):
  """Aligns `(relative input path, relative output path)` pairs.

  Returns:
    One log record (a JSON-ready dict) per task, in the same order.
  """
  records, images = [], {}
  for index, (relative, _) in enumerate(tasks):
    records.append({"path": relative})
    try:
      # The one reader: EXIF orientation (phone photos upright for the
      # detector), grey/palette/16-bit to RGB, PGM (ORL), bombs refused.
      images[index] = reading.read_photo(_job["input_dir"] / relative)
    except reading.PhotoError as error:
      records[index].update(status="undecodable", error=str(error))
  cached = {i: _job["detections"].get(tasks[i][0]) for i in images}
  to_detect = [i for i in images if cached[i] is None]
  detected = dict(zip(to_detect,
                      _detector.detect([images[i] for i in to_detect])))
  for index, image in images.items():
    if cached[index] is not None:
      found = detector_lib.Detection(
          detector_lib.Faces.from_json(cached[index]), None,
          cached[index].get("found_by"))
      records[index]["cached"] = True
    else:
      found = detected[index]
    _align_one(records[index], tasks[index][1], image, *found)
  return records


def _align_one(record, output_relative, image, faces, best_below, found_by):
  """Fills `record` and writes the crop, if any, for one decoded image."""
  options, spec = _job["options"], _job["spec"]
  record.update(height=image.shape[0], width=image.shape[1])
  if isinstance(faces, Exception):
    record.update(status="failed", error=_describe(faces))
    return
  record["faces"] = len(faces)
  record["detections"] = faces.to_json()
  if len(faces):
    chosen = align_geometry.choose_face(faces.boxes, image.shape,
                                        options.multiple_faces)
    box, keypoints = faces.boxes[chosen], faces.keypoints[chosen]
    crop = warp.align_face(detector_lib.as_detected(image, found_by), box,
                           keypoints, spec)
    record.update(status="aligned", box=[round(float(v), 1) for v in box],
                  confidence=round(float(faces.scores[chosen]), 5),
                  found_by=found_by or detector_lib.FOUND)
  else:
    if best_below is not None:  # below min_confidence: keep it for the record
      record["best_confidence"] = round(best_below, 5)
    if options.no_face == "skip":
      record.update(status="no_face", found_by=detector_lib.NO_FACE)
      return
    crop, window = warp.center_fallback(image, spec)
    record.update(status="center_crop", crop=list(window), found_by=FALLBACK)
  _write_atomically(crop, _job["output_dir"] / output_relative, options)
  record["output"] = output_relative


def _write_atomically(crop, path, options):
  pillow_format, _, save_args = IMAGE_FORMATS[options.image_format]
  path.parent.mkdir(parents=True, exist_ok=True)
  # A killed run never leaves a partial crop under the final name.
  with atomic_files.open_for_write(path, "wb") as f:
    Image.fromarray(crop).save(f, format=pillow_format, **save_args)


def _describe(error):
  return f"{type(error).__name__}: {error}"
