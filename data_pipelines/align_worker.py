"""One alignment process: decode, detect with MTCNN in batches, crop, write.

TensorFlow is imported only when a detector is built, so the parent process
of a multi-process run (and flag parsing) never loads it.
"""
import dataclasses
import os
import pathlib

import numpy as np
from PIL import Image, ImageOps

from data_pipelines import align_geometry

NO_FACE_MODES = ("skip", "center_crop")
# format name -> (Pillow format, file extension, save arguments)
IMAGE_FORMATS = {"png": ("PNG", ".png", {}),
                 "jpeg": ("JPEG", ".jpg", {"quality": 95})}
# A crop is written under this hidden name, then renamed: a killed run never
# leaves a partial file under the final name.
TEMP_SUFFIX = ".align-tmp"
# davidsandberg's detect_face settings: minsize 20, threshold [0.6, 0.7, 0.7],
# factor 0.709 (mtcnn 1.0 defaults to 0.8 for the last stage).
_MTCNN_SETTINGS = {"min_face_size": 20, "scale_factor": 0.709,
                   "threshold_pnet": 0.6, "threshold_rnet": 0.7,
                   "threshold_onet": 0.7}

_detector = None
_job = {}


@dataclasses.dataclass(frozen=True)
class AlignOptions:
  """What the aligner writes; see `python -m data_pipelines.align --help`."""
  image_size: int = 182
  margin: int = 44
  no_face: str = "skip"
  multiple_faces: str = "central"
  min_confidence: float = 0.9
  image_format: str = "png"
  batch_size: int = 8

  def validate(self):
    """Raises ValueError naming the first invalid field."""
    if self.image_size < 1:
      raise ValueError(f"image_size must be >= 1, got {self.image_size}")
    if self.margin < 0:
      raise ValueError(f"margin must be >= 0, got {self.margin}")
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
  def suffix(self):
    """Extension of the written crops."""
    return IMAGE_FORMATS[self.image_format][1]


def init_worker(input_dir, output_dir, options, intra_op_threads):
  """Sets this process's job and builds its MTCNN once (a Pool initializer)."""
  global _detector
  _job.update(input_dir=pathlib.Path(input_dir),
              output_dir=pathlib.Path(output_dir), options=options)
  if _detector is None:
    _detector = _build_detector(intra_op_threads)


def _build_detector(intra_op_threads):
  os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
  import tensorflow as tf  # pylint: disable=import-outside-toplevel
  try:
    # W workers x T threads should not exceed the cores; MTCNN runs its ops
    # one after another, so inter-op parallelism buys nothing.
    tf.config.threading.set_intra_op_parallelism_threads(intra_op_threads)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    # mtcnn runs on CPU:0; hiding GPUs stops every worker reserving GPU memory.
    tf.config.set_visible_devices([], "GPU")
  except RuntimeError:
    pass  # TF already initialised in this process (in-process use): keep it.
  from mtcnn import MTCNN  # pylint: disable=import-outside-toplevel
  return MTCNN()


def decode_rgb(path):
  """The image at `path` as an [H, W, 3] uint8 array (grey, palette → RGB).

  Pillow reads PGM (ORL) as well as JPEG and PNG. EXIF orientation is applied
  so that phone photos are upright for the detector.
  """
  with Image.open(path) as image:
    image = ImageOps.exif_transpose(image)
    return np.asarray(image.convert("RGB"), np.uint8)


def align_batch(tasks):
  """Aligns `(relative input path, relative output path)` pairs.

  Args:
    tasks: a list of pairs of POSIX-style paths relative to the job's input
      and output directories.

  Returns:
    One log record (a JSON-ready dict) per task, in the same order.
  """
  records, images = [], {}
  for index, (relative, _) in enumerate(tasks):
    records.append({"path": relative})
    try:
      images[index] = decode_rgb(_job["input_dir"] / relative)
    except Exception as error:  # pylint: disable=broad-except
      # Whatever Pillow raises, the file cannot be used: record why.
      records[index].update(status="undecodable", error=_describe(error))
  # Batch only same-shaped images: mtcnn pads a mixed batch to its largest.
  by_shape = {}
  for index, image in images.items():
    by_shape.setdefault(image.shape, []).append(index)
  batch_size = _job["options"].batch_size
  for indices in by_shape.values():
    for start in range(0, len(indices), batch_size):
      chunk = indices[start:start + batch_size]
      found = _detect_each([images[i] for i in chunk])
      for index, detections in zip(chunk, found):
        _align_one(records[index], tasks[index][1], images[index], detections)
  return records


def _detect_each(images):
  """Per image an [N, 5] array (x1, y1, x2, y2, confidence) or the error."""
  try:
    rows = _detector.detect_faces(
        [image.astype(np.float32) for image in images], output_type="numpy",
        box_format="xyxy", fit_to_image=False, **_MTCNN_SETTINGS)
    return [rows[rows[:, 0] == i, 1:6] for i in range(len(images))]
  except Exception as error:  # pylint: disable=broad-except
    if len(images) == 1:
      return [error]
    # Retry one by one so that one bad image does not fail its whole batch.
    return [found for image in images for found in _detect_each([image])]


def _align_one(record, output_relative, image, detections):
  """Fills `record` and writes the crop, if any, for one decoded image."""
  options = _job["options"]
  record.update(height=image.shape[0], width=image.shape[1])
  if isinstance(detections, Exception):
    record.update(status="failed", error=_describe(detections))
    return
  faces = detections[detections[:, 4] >= options.min_confidence]
  record["faces"] = len(faces)
  if len(faces):
    chosen = faces[align_geometry.choose_face(faces[:, :4], image.shape,
                                              options.multiple_faces)]
    crop = align_geometry.margin_crop_box(chosen[:4], options.margin,
                                          image.shape)
    record.update(status="aligned",
                  box=[round(float(v), 1) for v in chosen[:4]],
                  confidence=round(float(chosen[4]), 5))
  else:
    if len(detections):  # below min_confidence: keep the best for the record
      record["best_confidence"] = round(float(detections[:, 4].max()), 5)
    if options.no_face == "skip":
      record["status"] = "no_face"
      return
    crop = align_geometry.center_crop_box(image.shape)
    record["status"] = "center_crop"
  x0, y0, x1, y1 = crop
  _write_atomically(image[y0:y1, x0:x1], _job["output_dir"] / output_relative,
                    options)
  record.update(crop=list(crop), output=output_relative)


def _write_atomically(crop, path, options):
  pillow_format, _, save_args = IMAGE_FORMATS[options.image_format]
  size = (options.image_size, options.image_size)
  # Pillow's bilinear resize is what davidsandberg's scipy.misc.imresize(...,
  # interp="bilinear") ran underneath.
  resized = Image.fromarray(crop).resize(size, Image.BILINEAR)
  path.parent.mkdir(parents=True, exist_ok=True)
  temporary = path.with_name(f".{path.name}{TEMP_SUFFIX}")
  resized.save(temporary, format=pillow_format, **save_args)
  os.replace(temporary, path)


def _describe(error):
  return f"{type(error).__name__}: {error}"
