"""Decode, resize and augmentation of one image: shapes, ranges, seeds."""
import numpy as np
import pytest
import tensorflow as tf

from facenet_tf.alignment import model_crop_tf
from facenet_tf.data import augment
from tests import record_fixtures

ALL_ON = augment.AugmentOptions(brightness_delta=32, contrast=0.3,
                                jpeg_quality=(20, 100))


def gradient_image(height=40, width=30):
  """An RGB image whose every column and row differ, PNG-encoded."""
  rows, cols = np.mgrid[:height, :width]
  array = np.stack([rows * 5, cols * 7, (rows + cols) * 3], -1) % 256
  return array.astype(np.uint8), record_fixtures.encode(array.astype(np.uint8))


def uniforms(seed):
  return np.random.default_rng(seed).uniform(
      size=augment.RANDOM_VALUES).astype(np.float32)


def train(array, encoded, seed, options, size=24, fraction=0.8):
  """train_image of `encoded` (the image `array`) with seeded uniforms; the
  model's view is 24 px of 30 (fraction 0.8: 6 px of margin at 24 px)."""
  randoms = uniforms(seed)
  window = augment.training_windows(*array.shape[:2], randoms, size, fraction,
                                    options)
  return augment.train_image(encoded, window, randoms, size, options).numpy()


@pytest.mark.unit
def test_decode_grey_and_jpeg_to_rgb():
  grey = record_fixtures.encode(np.full((5, 7), 9, np.uint8))
  assert augment.decode(grey).shape == (5, 7, 3)
  assert (augment.decode(grey).numpy() == 9).all()
  jpeg = record_fixtures.encode(np.zeros((8, 8, 3), np.uint8), "jpeg")
  assert augment.decode(jpeg).dtype == tf.uint8


@pytest.mark.unit
def test_crop_window_matches_resize_then_crop():
  """Cutting the window first approximates resizing first: a 40 x 40 image,
  a 48 px view of fraction 0.8 (12 px of margin at 48 px): window 32 px;
  margins 8 (source) and 12 (resized)."""
  array, encoded = gradient_image(40, 40)
  resized = tf.image.resize(array, (60, 60)).numpy()
  for where, offset in [(0.0, 0), (0.5, 6), (0.99, 12)]:
    window = model_crop_tf.windows(40, 40, 48, 0.8, (where, where))
    assert list(window.numpy()[2:]) == [32, 32]
    image = model_crop_tf.cut(augment.decode(encoded), window, 48).numpy()
    window = resized[offset:offset + 48, offset:offset + 48]
    assert np.abs(image - window).mean() < 0.5, where  # 1 px off: >= 4


@pytest.mark.unit
@pytest.mark.parametrize("options", [None, augment.AugmentOptions(), ALL_ON])
def test_shapes_ranges_and_seeds(options):
  array, encoded = gradient_image()
  image = train(array, encoded, 1, options)
  assert image.shape == (24, 24, 3) and image.dtype == np.float32
  assert 0 <= image.min() and image.max() <= 255
  np.testing.assert_array_equal(image, train(array, encoded, 1, options))
  others = [train(array, encoded, seed, options) for seed in range(2, 8)]
  assert any((o != image).any() for o in others) == (options is not None)


@pytest.mark.unit
def test_crop_and_flip_are_windows_of_the_resized_image():
  """Without photometric steps, every output is a (flipped) crop."""
  array, encoded = gradient_image(30, 30)  # = 24 / 0.8: no resize
  windows = {(top, left, flip) for top in range(7) for left in range(7)
             for flip in (False, True)}
  found = set()
  for seed in range(40):
    image = train(array, encoded, seed, augment.AugmentOptions())
    for top, left, flip in windows:
      window = array[top:top + 24, left:left + 24]
      if (image == (window[:, ::-1] if flip else window)).all():
        found.add((top, left, flip))
        break
    else:
      pytest.fail(f"seed {seed}: not a crop of the input")
  assert {flip for _, _, flip in found} == {False, True}
  assert len({(top, left) for top, left, _ in found}) > 10


@pytest.mark.unit
def test_options_validation():
  with pytest.raises(ValueError, match="jpeg_quality"):
    augment.AugmentOptions(jpeg_quality=(50, 20))
  with pytest.raises(ValueError, match="contrast"):
    augment.AugmentOptions(contrast=1.5)
