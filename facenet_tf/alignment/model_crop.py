"""An aligned face -> the model's input pixels: the one definition.

An aligned crop (data_pipelines.align, `spec.image_size` square) holds what
the model sees in its centre: the central `spec.model_crop_fraction` of each
side (davidsandberg/facenet: aligned at 182 px, 160 px to the model). Every
path cuts that view with this geometry, in one of two forms proven equal by
tests/test_one_crop.py:

  model_crop_tf (TensorFlow)  training augmentation (a random window of the
                              same size, or the centre), the evaluation
                              input, the training-time verifier and
                              calibration, the export's encoded_images;
  here (NumPy / OpenCV)       the photo API, `--aligned` inputs, inputs to
                              the deploy runtimes (LiteRT, ONNX).

Geometry, in whole pixels. For a model input H x W and fraction f, the
margin at model size is `padding` = round(min(H, W) (1 - f) / f) (22 px at
160 for f = 160 / 182). An h x w source's window is round(h H / (H +
padding)) x round(w W / (W + padding)), in float32, rounded half to even,
clipped to 1..h (1..w): a source of exactly H + padding px is cut without
resizing. The centre window starts at int((margin + 1) / 2) of its margin.
The window is then resized to H x W bilinearly (half-pixel centres, no
antialiasing: what training does), skipped when it already has that size.

Channels: the model takes RGB, or grey when exported with one channel.
Grey photos are read as RGB (data/reading.py); an RGB face becomes grey
through `GREY_WEIGHTS` (those of tf.image.rgb_to_grayscale, ITU-R BT.601
luma), rounded half to even: the one grey conversion.
"""
import dataclasses

import cv2
import numpy as np

GREY_WEIGHTS = (0.2989, 0.5870, 0.1140)


def image_hw(image_size):
  """(height, width) from an int or a pair."""
  if isinstance(image_size, (int, np.integer)):
    return int(image_size), int(image_size)
  height, width = image_size
  return int(height), int(width)


def crop_fraction(alignment):
  """The fraction of an aligned image's side a model sees: its spec's; 1
  (the whole image) for a model without one (trained on whole synthetic
  faces, or exported before specs existed)."""
  return 1.0 if alignment is None else alignment.model_crop_fraction


def padding(image_size, fraction):
  """The margin at model size, in whole pixels (module docstring)."""
  if not 0 < fraction <= 1:
    raise ValueError(f"crop_fraction must be in (0, 1], got {fraction}")
  return round(min(image_hw(image_size)) * (1 - fraction) / fraction)


def centre_window(height, width, image_size, fraction):
  """(top, left, window height, window width) of an h x w source's view."""
  size = np.array(image_hw(image_size), np.float32)
  source = np.array((height, width), np.int32)
  window = np.round(source.astype(np.float32) * size /
                    (size + padding(image_size, fraction))).astype(np.int32)
  window = np.clip(window, 1, source)
  margin = source - window
  offset = np.minimum((margin + 1) // 2, margin)
  return (*map(int, offset), *map(int, window))


def model_view(image, image_size, fraction):
  """uint8 [H, W, 3]: the central view of an aligned RGB uint8 image,
  resized with OpenCV's bilinear filter (module docstring)."""
  top, left, window_height, window_width = centre_window(
      *image.shape[:2], image_size, fraction)
  view = image[top:top + window_height, left:left + window_width]
  height, width = image_hw(image_size)
  if view.shape[:2] == (height, width):
    return np.ascontiguousarray(view)
  return cv2.resize(view, (width, height), interpolation=cv2.INTER_LINEAR)


def to_grey(images):
  """uint8 [..., 1]: the luma of uint8 RGB images [..., 3]."""
  luma = np.asarray(images, np.float32) @ np.array(GREY_WEIGHTS, np.float32)
  return np.clip(np.round(luma), 0, 255).astype(np.uint8)[..., None]


def to_channels(images, channels):
  """uint8 RGB images [..., 3] in a model's channels (3, or 1: to_grey)."""
  images = np.asarray(images, np.uint8)
  return to_grey(images) if channels == 1 else images


@dataclasses.dataclass(frozen=True)
class ModelInput:
  """What a model takes from an aligned image: size, channels, the view.

  Attributes:
    image_size: (H, W) of the model's input.
    channels: 3 (RGB) or 1 (grey).
    fraction: the central fraction of each side the model sees.
  """
  image_size: tuple
  channels: int = 3
  fraction: float = 1.0

  @classmethod
  def of(cls, model):
    """The input of an export: anything with image_size, channels and
    alignment (export_loaders' loaders, export_metadata.ExportMetadata)."""
    return cls(tuple(image_hw(model.image_size)), int(model.channels),
               crop_fraction(model.alignment))

  def __call__(self, image):
    """uint8 [H, W, channels] of one aligned RGB uint8 image [h, w, 3]."""
    return to_channels(model_view(image, self.image_size, self.fraction),
                       self.channels)
