"""Decoding and training augmentation of one aligned face image.

Outputs are float32 RGB in 0..255: the model scales its input itself
(DESIGN.md, "Inputs are raw pixels").

Geometry: the alignment spec's, through alignment/model_crop_tf. Training
cuts a window of the size of the model's view (the central
`model_crop_fraction` of the aligned image) at a random offset within its
margin, evaluation and serving take the centre, so both see faces at the
same scale (davidsandberg/facenet: 160 px crops of 182 px aligned faces).
Only the window is resized, not the whole image: resizing the whole 250 px
LFW image to 182 px, then cropping, took ~16% more CPU per image (profiled
on this project's 2-core machine).

Randomness comes in as `RANDOM_VALUES` uniforms per image, drawn by the
caller for a whole batch with one stateless op (pk_sampler), so a seed fixes
every image; the crop windows are computed for the batch too. The per-image
map is left with decode, slice, resize and flip: each op in it costs a few
microseconds of dispatch, and a dozen scalar ops per image (per-image random
ops, window arithmetic) had added ~20% to the CPU time per LFW image. The paper
gives no augmentation (FACTS.md §2, "NOT FOUND"); every random step is an
AugmentOptions switch.
"""
import dataclasses

import tensorflow as tf

from facenet_tf.alignment import model_crop
from facenet_tf.alignment import model_crop_tf

# Columns of the per-image uniforms: crop top, crop left, flip, brightness,
# contrast, JPEG quality, greyscale.
RANDOM_VALUES = 7
_TOP, _LEFT, _FLIP, _BRIGHTNESS, _CONTRAST, _JPEG, _GREY = range(
    RANDOM_VALUES)


@dataclasses.dataclass(frozen=True)
class AugmentOptions:
  """Random training augmentation; every step is off in evaluation.

  Attributes:
    random_crop: crop the model's view at a random offset within its margin
      (davidsandberg/facenet); False takes the view itself.
    flip: random horizontal flip (davidsandberg/facenet): faces are roughly
      mirror-symmetric, so a flip is a new view of the same identity.
    brightness_delta: maximum brightness shift in pixel levels (0..255), added
      uniformly at random; 0 = off. Photometric jitter for varied lighting.
    contrast: contrast factor drawn from [1 - contrast, 1 + contrast]; 0 = off.
    jpeg_quality: (min, max) JPEG quality to re-encode the crop at, or None
      = off. FaceNet Table 4: accuracy holds down to quality 20 and drops
      sharply at 10, so (20, 100) teaches robustness to real compression.
    greyscale: probability of turning the crop grey (its luma in all three
      channels); 0 = off. Training sets that mix grey and colour photos
      (CelebA's tight crops are grey) otherwise teach the model that colour
      tells people apart.
  """
  random_crop: bool = True
  flip: bool = True
  brightness_delta: float = 0.0
  contrast: float = 0.0
  jpeg_quality: tuple[int, int] | None = None
  greyscale: float = 0.0

  def __post_init__(self):
    if not 0 <= self.greyscale <= 1:
      raise ValueError(f"greyscale must be a probability, got {self}")
    if self.brightness_delta < 0 or not 0 <= self.contrast < 1:
      raise ValueError(f"Need brightness_delta >= 0 and 0 <= contrast < 1: "
                       f"{self}")
    if self.jpeg_quality is not None:
      low, high = self.jpeg_quality
      if not 0 <= low < high <= 100:
        raise ValueError(f"jpeg_quality must be (min, max) with 0 <= min < max"
                         f" <= 100, got {self.jpeg_quality}")


def decode(encoded):
  """uint8 [h, w, 3] from JPEG, PNG, GIF or BMP bytes; grey becomes RGB.

  JPEGs are decoded with the accurate integer DCT, as Pillow decodes them
  (data/reading.py), so the in-graph pixels are the reader's; TensorFlow's
  default fast DCT differs by up to 5 levels.
  """
  return tf.cond(
      tf.io.is_jpeg(encoded),
      lambda: tf.io.decode_jpeg(encoded, channels=3,
                                dct_method="INTEGER_ACCURATE"),
      lambda: tf.io.decode_image(encoded, channels=3,
                                 expand_animations=False))


def training_windows(heights, widths, randoms, image_size, crop_fraction,
                     options):
  """Windows of a batch (model_crop_tf.windows) of the size of the model's
  view: at random positions within its margin given by `randoms`
  [..., RANDOM_VALUES] if `options.random_crop`, else the view itself."""
  random = options is not None and options.random_crop
  top_left = randoms[..., _TOP:_LEFT + 1] if random else model_crop_tf.CENTRE
  return model_crop_tf.windows(heights, widths, image_size, crop_fraction,
                               top_left)


def flipped(randoms, options):
  """bool scalar: whether `train_image` mirrors this image (a teacher target
  then comes from the mirror image, pk_sampler.py)."""
  if options is None or not options.flip:
    return tf.constant(False)
  return randoms[_FLIP] < 0.5


def train_image(encoded, window, randoms, image_size, options):
  """Decode, cut `window`, resize, then augment with `options`.

  Args:
    encoded: encoded image bytes (scalar string).
    window: int32 [4] from training_windows: random or centred, the
      caller's choice (AugmentOptions.random_crop).
    randoms: float32 [RANDOM_VALUES] uniforms in [0, 1) for this image.
    image_size: output size, int or (height, width).
    options: AugmentOptions, or None for the crop alone (evaluation).

  Returns:
    float32 [height, width, 3] in 0..255.
  """
  image = model_crop_tf.cut(decode(encoded), window, image_size)
  if options is None:
    return image
  if options.flip:
    image = tf.cond(flipped(randoms, options),
                    lambda: tf.reverse(image, [1]), lambda: image)
  if options.jpeg_quality is not None:
    low, high = options.jpeg_quality
    quality = tf.minimum(low + tf.cast(randoms[_JPEG] * (high - low + 1),
                                       tf.int32), high)
    image = 255.0 * tf.image.adjust_jpeg_quality(image / 255.0, quality)
  if options.brightness_delta:
    image += options.brightness_delta * (2 * randoms[_BRIGHTNESS] - 1)
  if options.contrast:
    factor = 1 + options.contrast * (2 * randoms[_CONTRAST] - 1)
    mean = tf.reduce_mean(image, axis=(0, 1), keepdims=True)
    image = (image - mean) * factor + mean
  if options.greyscale:
    image = tf.cond(randoms[_GREY] < options.greyscale,
                    lambda: tf.repeat(model_crop_tf.luma(image), 3, -1),
                    lambda: image)
  if options.brightness_delta or options.contrast:
    # Crops, flips, bilinear resizing and JPEG stay within 0..255 already.
    image = tf.clip_by_value(image, 0.0, 255.0)
  return tf.ensure_shape(image, (*model_crop.image_hw(image_size), 3))
