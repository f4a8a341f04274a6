"""The teacher: dlib's face-recognition ResNet, on the face MTCNN found.

dlib's `dlib_face_recognition_resnet_model_v1` (public domain; trained from
scratch on about 3M faces of 7,485 identities, LFW identities left out)
maps a 150 px face chip to a 128-d descriptor; face_recognition's
`face_encodings` is that network after dlib's HOG detector and 5-point shape
predictor. Here the detector is ours: the face the aligner chose (its MTCNN
box) goes to dlib's shape predictor, then to dlib's own chip extraction
(`get_face_chip`, 150 px, padding 0.25: what `compute_face_descriptor`
does inside) and the network. So the student's crop and the teacher's chip
come from the same photo and the same detected face
(WORKSPACE_NOTES.md, "#30: the teacher's path", measures the box choice).

The mirror target is the descriptor of the horizontally flipped chip: a
training crop flipped by augmentation is paired with it, not with the
unflipped face's descriptor.

The network runs in TensorFlow by default (data_pipelines/dlib_resnet.py:
dlib's own weights, within 3e-7 of dlib's descriptors and about 8x its
speed on 2 cores, as the pip wheel has no BLAS); `network="dlib"` keeps
dlib's own forward pass, to check that equality.

Needs the `teacher` extra (`pip install -e ".[teacher]"`: dlib-bin and
face-recognition-models, which carry the model files: nothing downloads).
Only data preparation uses it; training reads the stored targets.
"""
import numpy as np

TARGET_DIM = 128
CHIP_SIZE = 150  # dlib's face chip: what its ResNet was trained on
CHIP_PADDING = 0.25
INSTALL_HINT = ('the teacher needs dlib: pip install -e ".[teacher]" '
                "(dlib-bin and face-recognition-models)")


class TeacherUnavailable(ImportError):
  """dlib or its model files are not installed."""


class DlibTeacher:
  """dlib's shape predictor and descriptor network, loaded once."""

  def __init__(self, network="tf"):
    """`network`: "tf" (dlib_resnet, the default) or "dlib" (dlib's own)."""
    if network not in ("tf", "dlib"):
      raise ValueError(f'network must be "tf" or "dlib", not {network!r}')
    try:
      import dlib  # pylint: disable=import-outside-toplevel
      import face_recognition_models as models  # pylint: disable=import-outside-toplevel
    except ImportError as error:
      raise TeacherUnavailable(f"{INSTALL_HINT} ({error})") from error
    self._dlib = dlib
    self._shape = dlib.shape_predictor(
        models.pose_predictor_five_point_model_location())
    if network == "tf":
      from data_pipelines import dlib_resnet  # pylint: disable=import-outside-toplevel
      self._network = dlib_resnet.DlibResNet(
          models.face_recognition_model_location())
    else:
      self._network = dlib.face_recognition_model_v1(
          models.face_recognition_model_location())
    self.network = network

  def shape(self, image, box):
    """dlib's 5-point shape of the face in `box` (x1, y1, x2, y2).

    Raises ValueError when the box is empty or outside the image.
    """
    height, width = image.shape[:2]
    x1, y1, x2, y2 = (int(round(v)) for v in box)
    if x2 <= x1 or y2 <= y1 or x2 <= 0 or y2 <= 0 or x1 >= width or (
        y1 >= height):
      raise ValueError(f"box {list(box)} is empty or outside the "
                       f"{width}x{height} image")
    return self._shape(image, self._dlib.rectangle(x1, y1, x2, y2))

  def chip_details(self, shape):
    """dlib's chip_details (where the chip lies in the photo) of a shape."""
    return self._dlib.get_face_chip_details(shape, size=CHIP_SIZE,
                                            padding=CHIP_PADDING)

  def chip(self, image, box):
    """dlib's 150 px aligned chip of the face in `box` (x1, y1, x2, y2)."""
    return np.asarray(self._dlib.get_face_chip(
        image, self.shape(image, box), size=CHIP_SIZE, padding=CHIP_PADDING))

  def describe_chips(self, chips):
    """[N, 128] float32 descriptors of 150 px chips, 64 at a time."""
    if len(chips) == 0:
      return np.zeros((0, TARGET_DIM), np.float32)
    if self.network == "tf":
      return self._network.describe(np.stack(chips), batch_size=64)
    chips = [np.ascontiguousarray(c, np.uint8) for c in chips]
    return np.asarray(self._network.compute_face_descriptor(chips),
                      np.float32).reshape(len(chips), TARGET_DIM)

  def targets(self, image, box):
    """(target, mirror target): the face's descriptor and its mirror's."""
    chip = self.chip(image, box)
    both = self.describe_chips([chip, chip[:, ::-1]])
    return both[0], both[1]
