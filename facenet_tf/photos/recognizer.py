"""Faces in ordinary photos: detect, align, embed, verify.

    from facenet_tf import photos
    recognizer = photos.FaceRecognizer()          # the packaged reference model
    found = recognizer.faces(["a.jpg", "b.jpg"])  # per photo: its faces
    result = recognizer.verify("a.jpg", "b.jpg")  # distance, same, threshold
    print(result)  # Verification(same: distance 0.77 <= threshold 1.095 ...)

Every face is aligned with the model's own alignment spec, read from the
export's metadata, so it reaches the model framed and resampled as in
training: the spec's crop, as data_pipelines.align writes it, then the
model's view of it (alignment/model_crop.py, the geometry training and
evaluation use).
Photos larger than `detect_max_side` are detected on a downscaled copy and
cut from the original. A photo that cannot be read gives a `PhotoFaces`
with its `error`; one without a face gives an empty `faces` list.

A photo's faces come in reading order (results.reading_order: rows top to
bottom, each row left to right); its main face, the one `verify` and
`Gallery.enroll` take, is the largest (`PhotoFaces.main_face`). Verdicts
are made at one operating point (evaluation/calibration.py): by default
the model's best-accuracy threshold, `far=` for its open-set one.
"""
import sys
import warnings

import numpy as np
from PIL import Image
import tqdm

from facenet_tf.alignment import detector as detector_lib
from facenet_tf.alignment import model_crop
from facenet_tf.alignment import spec as spec_lib
from facenet_tf.alignment import warp
from facenet_tf.data import reading
from facenet_tf.evaluation import calibration
from facenet_tf.photos.results import Face
from facenet_tf.photos.results import PhotoFaces
from facenet_tf.photos.results import Verification
from facenet_tf.photos.results import reading_order

# Photos are detected at most this large (longer side): MTCNN's time grows
# with the pixels, and a face of 40 px in a 2,000 px photo is still 20 px
# (MTCNN's minimum) at 1,024.
DEFAULT_DETECT_MAX_SIDE = 1024
_PROGRESS_MIN_PHOTOS = 16


class FaceRecognizer:
  """Detects, aligns and embeds faces with an exported model.

  Args:
    model: a facenet_tf export (facenet-export): a SavedModel directory, a
      LiteRT `.tflite` or an ONNX `.onnx` file; None: the reference model
      inside the package.
    min_confidence: MTCNN score below which a detection is not a face.
    detect_max_side: photos are detected on a copy at most this large.
    batch_size: faces per model call.
    max_pixels: larger photos are refused (decompression bombs).
  """

  def __init__(self, model=None, min_confidence=0.9,
               detect_max_side=DEFAULT_DETECT_MAX_SIDE, batch_size=64,
               max_pixels=reading.DEFAULT_MAX_PIXELS):
    # Imported here: the loaders pull in TensorFlow.
    from facenet_tf import export_loaders  # pylint: disable=import-outside-toplevel
    from facenet_tf import pretrained  # pylint: disable=import-outside-toplevel
    self.model_path = model or pretrained.reference_model_path()
    self.model = export_loaders.load(self.model_path)
    self.metadata = self.model.metadata
    self.alignment = self.model.alignment
    if self.alignment is None:
      warnings.warn(f"{self.model_path} records no alignment spec: its "
                    "training faces had none (synthetic or aligned by "
                    "other tools); aligning with the default landmarks spec")
      self.alignment = spec_lib.AlignmentSpec()
    self.image_size = tuple(self.model.image_size)
    self.detector = detector_lib.FaceDetector(min_confidence=min_confidence)
    self.detect_max_side = detect_max_side
    self.batch_size = batch_size
    self.max_pixels = max_pixels

  def operating_point(self, far=None, threshold=None):
    """The calibration.OperatingPoint of this model's verdicts: the best-
    accuracy threshold by default; `far` (e.g. 1e-3) the open-set one;
    `threshold` one set by hand. Raises ValueError for a FAR the model
    was not calibrated at."""
    return calibration.operating_point(self.metadata, far, threshold)

  def detect(self, photos, progress=None):
    """`PhotoFaces` per photo, faces without embeddings (reading order)."""
    return [found for found, _ in self._detect(_as_list(photos), progress)]

  def faces(self, photos, progress=None):
    """`PhotoFaces` per photo with every face embedded."""
    found_crops = self.face_crops(photos, progress)
    crops = [crops for _, crops in found_crops if crops is not None]
    if crops:
      faces = [face for found, _ in found_crops for face in found.faces]
      embeddings = self.model(np.concatenate(crops),
                              batch_size=self.batch_size)
      for face, embedding in zip(faces, embeddings):
        face.embedding = embedding
    return [found for found, _ in found_crops]

  def face_crops(self, photos, progress=None):
    """Per photo, (`PhotoFaces` without embeddings, the model inputs of its
    faces, uint8 [faces, H, W, C], or None when it has none): what `faces`
    embeds, for an embedder elsewhere (Beam's RunInference)."""
    out = []
    for found, image in self._detect(_as_list(photos), progress):
      crops = [self.align(image, face) for face in found.faces]
      out.append((found, self.model_input(np.stack(crops)) if crops
                  else None))
    return out

  def align(self, image, face):
    """The model's input view of `face` in `image` (uint8 [H, W, 3]): the
    spec's crop, as data_pipelines.align writes it, then `model_view`."""
    return self.model_view(warp.align_face(image, face.box, face.landmarks,
                                           self.alignment))

  def model_view(self, crop):
    """The model's view of a spec-sized crop (uint8 [H, W, 3]): its central
    `model_crop_fraction`, resized to the model's input
    (model_crop.model_view, the geometry of training and evaluation)."""
    return model_crop.model_view(crop, self.image_size,
                                 self.alignment.model_crop_fraction)

  def model_input(self, crops):
    """Model-view crops (uint8 [N, H, W, 3]) in the model's channels."""
    return model_crop.to_channels(crops, self.model.channels)

  def embed_aligned(self, crops):
    """Embeddings [N, D] of model-view crops (uint8 [N, H, W, 3])."""
    return self.model(self.model_input(crops), batch_size=self.batch_size)

  def verify(self, first, second, threshold=None, far=None):
    """Compares the main face (largest) of two photos, or two `Face`s, at
    `operating_point(far, threshold)` (default: best accuracy).

    Raises:
      reading.PhotoError: a photo cannot be read or holds no face.
    """
    point = self.operating_point(far, threshold)
    faces = [self._main_face(x) for x in (first, second)]
    distance = float(np.sum((faces[0].embedding - faces[1].embedding) ** 2))
    return Verification(distance, distance <= point.threshold, point, *faces)

  def _main_face(self, item):
    if isinstance(item, Face):
      if item.embedding is None:
        raise ValueError("this Face has no embedding: get it from faces()")
      return item
    [found] = self.faces([item])
    if found.error:
      raise reading.PhotoError(found.error)
    if not found.faces:
      raise reading.PhotoError(f"{found.photo}: no face found")
    return found.main_face

  def _detect(self, photos, progress):
    """[(PhotoFaces, decoded image or None)] in photo order."""
    show = (len(photos) >= _PROGRESS_MIN_PHOTOS if progress is None
            else progress)
    out = []
    bar = tqdm.tqdm(total=len(photos), unit="photo", desc="faces",
                    disable=not show, file=sys.stderr)
    # Batches of photos, so that same-sized ones share MTCNN calls.
    for start in range(0, len(photos), self.batch_size):
      chunk = photos[start:start + self.batch_size]
      images, small, scales = [], [], []
      for photo in chunk:
        try:
          image = reading.read_photo(photo, self.max_pixels)
        except reading.PhotoError as error:
          image = error
        images.append(image)
        if isinstance(image, np.ndarray):
          copy, scale = _downscaled(image, self.detect_max_side)
          small.append(copy)
          scales.append(scale)
      detections = iter(self.detector.detect(small) if small else [])
      scales = iter(scales)
      for photo, image in zip(chunk, images):
        name = reading.describe(photo)
        if isinstance(image, Exception):
          out.append((PhotoFaces(name, [], None, str(image)), None))
          continue
        faces, _, found_by = next(detections)
        scale = next(scales)
        if isinstance(faces, Exception):
          out.append((PhotoFaces(name, [], image.shape[:2],
                                 f"{name}: detection failed ({faces})"), None))
          continue
        out.append((PhotoFaces(name, _faces(name, faces, scale),
                               image.shape[:2],
                               found_by=found_by or detector_lib.NO_FACE),
                    detector_lib.as_detected(image, found_by)))
      bar.update(len(chunk))
    bar.close()
    return out


def _as_list(photos):
  """A single photo or a sequence of them, as a list."""
  if isinstance(photos, (list, tuple)):
    return list(photos)
  return [photos]


def _downscaled(image, max_side):
  """(copy, scale): the image shrunk (area) so its longer side <= max_side."""
  scale = min(1.0, max_side / max(image.shape[:2]))
  if scale == 1.0:
    return image, 1.0
  height, width = image.shape[:2]
  size = (max(1, round(width * scale)), max(1, round(height * scale)))
  return np.asarray(Image.fromarray(image).resize(size, Image.BOX)), scale


def _faces(name, faces, scale):
  """`Face`s in original-photo pixels, in reading order."""
  return [Face(name, rank, tuple(float(v) for v in faces.boxes[i] / scale),
               faces.keypoints[i] / scale, float(faces.scores[i]))
          for rank, i in enumerate(reading_order(faces.boxes))]
