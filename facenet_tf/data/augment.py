"""Decoding, cropping, resizing and training augmentation of one face image.

Outputs are float32 RGB in 0..255: the model scales its input itself
(DESIGN.md, "Inputs are raw pixels").

Geometry, shared by training and evaluation: the output is an `image_size`
crop of the image resized to `image_size + crop_padding`, taken at random in
training and in the centre in evaluation, so both see faces at the same
scale. This is davidsandberg/facenet's recipe (faces aligned at 182 px,
random 160 px crops); `default_crop_padding` keeps his 22/160 ratio at any
size. It is computed the cheap way round: the matching window of the source
(image_size / (image_size + crop_padding) of each side, rounded to whole
pixels) is cut out first, then only that window is resized; a source already
`image_size + crop_padding` is cropped exactly and not resized. Resizing the
whole 250 px LFW image to 182 px, then cropping, took ~16% more CPU per image
(profiled on this project's 2-core machine).

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

# davidsandberg/facenet: aligned at 182 px, randomly cropped to 160 px.
_CROP_PADDING_RATIO = 22 / 160
# Columns of the per-image uniforms: crop top, crop left, flip, brightness,
# contrast, JPEG quality, greyscale.
RANDOM_VALUES = 7
_TOP, _LEFT, _FLIP, _BRIGHTNESS, _CONTRAST, _JPEG, _GREY = range(
    RANDOM_VALUES)


@dataclasses.dataclass(frozen=True)
class AugmentOptions:
  """Random training augmentation; every step is off in evaluation.

  Attributes:
    random_crop: crop at a random offset within the `crop_padding` margin
      (davidsandberg/facenet); False crops centrally.
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


def image_hw(image_size):
  """(height, width) from an int or a pair."""
  if isinstance(image_size, int):
    return image_size, image_size
  height, width = image_size
  return int(height), int(width)


def default_crop_padding(image_size):
  """Padding that keeps davidsandberg's 182 -> 160 ratio: 22 px at 160."""
  return round(_CROP_PADDING_RATIO * min(image_hw(image_size)))


def decode(encoded):
  """uint8 [h, w, 3] from JPEG, PNG, GIF or BMP bytes; grey becomes RGB."""
  return tf.io.decode_image(encoded, channels=3, expand_animations=False)


def resize(image, size):
  """float32 [height, width, 3]; bilinear, skipped when the size matches."""
  height, width = image_hw(size)
  image = tf.cast(image, tf.float32)
  same = tf.reduce_all(tf.shape(image)[:2] == (height, width))
  image = tf.cond(same, lambda: image,
                  lambda: tf.image.resize(image, (height, width)))
  return tf.ensure_shape(image, (height, width, 3))


def crop_windows(heights, widths, image_size, crop_padding, top_left):
  """Source windows [..., 4] = (top, left, height, width), int32.

  The window of a `heights` x `widths` image that, resized to `image_size`,
  equals the `image_size` crop of the image resized to image_size +
  crop_padding. Vectorised: the sampler computes a batch's windows at once
  from the records' sizes, leaving one slice per image.

  Args:
    heights, widths: int tensors of the same shape, the source sizes.
    image_size: output size, int or (height, width).
    crop_padding: pixels added to each side length before cropping.
    top_left: float [..., 2] in [0, 1), broadcastable: where the window lies
      within its margin (0 = top/left, 0.5 = centre).
  """
  source = tf.stack([tf.cast(heights, tf.int32), tf.cast(widths, tf.int32)],
                    axis=-1)
  size = tf.constant(image_hw(image_size), tf.float32)
  window = tf.cast(tf.round(tf.cast(source, tf.float32) * size /
                            (size + crop_padding)), tf.int32)
  window = tf.clip_by_value(window, 1, source)
  margin = source - window
  offset = tf.minimum(tf.cast(tf.cast(margin + 1, tf.float32) * top_left,
                              tf.int32), margin)
  return tf.concat([offset, window], axis=-1)


def training_windows(heights, widths, randoms, image_size, crop_padding,
                     options):
  """crop_windows of a batch: at random positions given by `randoms`
  [..., RANDOM_VALUES] if `options.random_crop`, else centred."""
  random = options is not None and options.random_crop
  top_left = randoms[..., _TOP:_LEFT + 1] if random else 0.5
  return crop_windows(heights, widths, image_size, crop_padding, top_left)


def cut(image, window, image_size):
  """`image` [h, w, 3] sliced to `window` (crop_windows), resized."""
  return resize(tf.slice(image, tf.concat([window[:2], [0]], 0),
                         tf.concat([window[2:], [3]], 0)), image_size)


def eval_image(encoded, image_size, crop_padding=0):
  """Decode, then the centre crop (evaluation geometry)."""
  image = decode(encoded)
  shape = tf.shape(image)
  window = crop_windows(shape[0], shape[1], image_size, crop_padding,
                        (0.5, 0.5))
  return cut(image, window, image_size)


def train_image(encoded, window, randoms, image_size, options):
  """Decode, cut `window`, resize, then augment with `options`.

  Args:
    encoded: encoded image bytes (scalar string).
    window: int32 [4] from crop_windows: random or centred, the caller's
      choice (AugmentOptions.random_crop).
    randoms: float32 [RANDOM_VALUES] uniforms in [0, 1) for this image.
    image_size: output size, int or (height, width).
    options: AugmentOptions, or None for the crop alone (evaluation).

  Returns:
    float32 [height, width, 3] in 0..255.
  """
  image = cut(decode(encoded), window, image_size)
  if options is None:
    return image
  if options.flip:
    image = tf.cond(randoms[_FLIP] < 0.5, lambda: tf.reverse(image, [1]),
                    lambda: image)
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
                    lambda: tf.image.grayscale_to_rgb(
                        tf.image.rgb_to_grayscale(image)),
                    lambda: image)
  if options.brightness_delta or options.contrast:
    # Crops, flips, bilinear resizing and JPEG stay within 0..255 already.
    image = tf.clip_by_value(image, 0.0, 255.0)
  return tf.ensure_shape(image, (*image_hw(image_size), 3))
