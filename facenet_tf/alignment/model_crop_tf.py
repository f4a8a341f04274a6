"""The model crop's TensorFlow form, for tf.data and exported signatures.

The geometry, the resize and the grey conversion are model_crop's (see its
docstring); tests/test_one_crop.py proves the two forms equal. Windows are
computed for a batch at once (`windows`): the P x K sampler computes a
batch's random windows in one op, leaving one slice per image.
"""
import tensorflow as tf

from facenet_tf.alignment import model_crop

CENTRE = (0.5, 0.5)


def windows(heights, widths, image_size, fraction, top_left=CENTRE):
  """Source windows [..., 4] = (top, left, height, width), int32.

  Args:
    heights, widths: int tensors of the same shape, the source sizes.
    image_size: the model's input size, int or (height, width).
    fraction: the central fraction of each side the model sees.
    top_left: float [..., 2] in [0, 1), broadcastable: where the window lies
      within its margin (0 = top/left, CENTRE = the model's view; training
      draws it at random around the same window).
  """
  source = tf.stack([tf.cast(heights, tf.int32), tf.cast(widths, tf.int32)],
                    axis=-1)
  size = tf.constant(model_crop.image_hw(image_size), tf.float32)
  window = tf.cast(tf.round(
      tf.cast(source, tf.float32) * size /
      (size + model_crop.padding(image_size, fraction))), tf.int32)
  window = tf.clip_by_value(window, 1, source)
  margin = source - window
  offset = tf.minimum(tf.cast(tf.cast(margin + 1, tf.float32) * top_left,
                              tf.int32), margin)
  return tf.concat([offset, window], axis=-1)


def resize(image, image_size):
  """float32 [height, width, 3]; bilinear, skipped when the size matches."""
  height, width = model_crop.image_hw(image_size)
  image = tf.cast(image, tf.float32)
  same = tf.reduce_all(tf.shape(image)[:2] == (height, width))
  image = tf.cond(same, lambda: image,
                  lambda: tf.image.resize(image, (height, width)))
  return tf.ensure_shape(image, (height, width, 3))


def cut(image, window, image_size):
  """`image` [h, w, 3] sliced to `window` (see windows), resized."""
  return resize(tf.slice(image, tf.concat([window[:2], [0]], 0),
                         tf.concat([window[2:], [3]], 0)), image_size)


def model_view(image, image_size, fraction):
  """float32 [H, W, 3] in 0..255: the central view of an aligned image."""
  shape = tf.shape(image)
  return cut(image, windows(shape[0], shape[1], image_size, fraction),
             image_size)


def to_uint8(images):
  """float 0..255 -> uint8, rounded half to even and clipped."""
  return tf.cast(tf.clip_by_value(tf.round(images), 0, 255), tf.uint8)


def luma(images):
  """float32 [..., 1]: the grey of RGB images [..., 3] (model_crop.to_grey
  before rounding; augmentation's greyscale step uses it too)."""
  return tf.tensordot(tf.cast(images, tf.float32),
                      tf.constant(model_crop.GREY_WEIGHTS, tf.float32),
                      1)[..., None]


def to_channels(images, channels):
  """uint8 RGB images [..., 3] in a model's channels (model_crop.to_grey)."""
  return to_uint8(luma(images)) if channels == 1 else images


def model_input(image, image_size, channels, fraction):
  """uint8 [H, W, channels]: what an export takes, from an aligned image."""
  return to_channels(to_uint8(model_view(image, image_size, fraction)),
                     channels)
