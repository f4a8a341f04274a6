"""Evaluation-time degradation of the crops (paper Table 4): eval_input.degrade,
its threading through eval_lib, and facenet-eval's flags.

Fixture image (`_textured`): 32 x 32 RGB, 128 + 60 sin(x / 5) (stripes ~31
px wide, smooth at 8 x 8) plus uniform noise in [-50, 50] per pixel and
channel (texture at 1 px, which 8 x 8 cannot hold), clipped to 0..255.
"""
import pathlib
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from facenet_tf.data import eval_input
from facenet_tf.evaluation import eval_lib
from facenet_tf.evaluation import lfw_protocol
from facenet_tf.evaluation import pairs_evaluator

ROOT = pathlib.Path(__file__).resolve().parents[1]
NAMES = ("Ann_A", "Bob_B", "Cy_C", "Di_D")


def _textured(seed=0):
  rng = np.random.default_rng(seed)
  x = np.arange(32)[None, :, None]
  image = 128 + 60 * np.sin(x / 5.0) + rng.uniform(-50, 50, (32, 32, 3))
  return tf.constant(np.clip(image, 0, 255), tf.float32)


def _round_trip_8x8(image):
  """`image` reduced to 8 x 8 (area) and resized back (bilinear)."""
  low = tf.image.resize(image, (8, 8), method="area")
  return tf.image.resize(low, image.shape[:2], method="bilinear")


def _mean_abs(a, b):
  return float(tf.reduce_mean(tf.abs(a - b)))


@pytest.mark.unit
@pytest.mark.parametrize("off", [
    {}, {"jpeg_quality": None}, {"degrade_pixels": 0},
    {"jpeg_quality": None, "degrade_pixels": None}])
def test_off_returns_the_image_itself(off):
  image = _textured()
  assert eval_input.degrade(image, **off) is image


@pytest.mark.unit
def test_pixels_at_or_above_the_crop_change_nothing():
  """32 x 32 = 1,024 pixels: 1,024 (32 a side) and 65,536 (256) keep it."""
  image = _textured()
  for pixels in (1024, 65536):
    assert eval_input.degrade(image, degrade_pixels=pixels) is image


@pytest.mark.unit
def test_64_pixels_leave_only_8x8_detail():
  """64 pixels = 8 x 8. Reducing the result to 8 x 8 again and back changes
  it by ~3 levels on average (bilinear is not exactly what area averages
  back), while the original loses its 1 px noise, ~25 levels (the noise's
  mean absolute value is 25)."""
  image = _textured()
  degraded = eval_input.degrade(image, degrade_pixels=64)
  assert degraded.shape == image.shape and degraded.dtype == tf.float32
  assert _mean_abs(_round_trip_8x8(degraded), degraded) < 5
  assert _mean_abs(_round_trip_8x8(image), image) > 20
  # By definition: area to 8 x 8, bilinear back.
  np.testing.assert_array_equal(degraded, _round_trip_8x8(image))
  assert 0 <= float(tf.reduce_min(degraded))
  assert float(tf.reduce_max(degraded)) <= 255


@pytest.mark.unit
def test_jpeg_quality_10_changes_more_than_90():
  image = _textured()
  q10 = eval_input.degrade(image, jpeg_quality=10)
  q90 = eval_input.degrade(image, jpeg_quality=90)
  for out in (q10, q90):
    assert out.shape == image.shape and out.dtype == tf.float32
    assert 0 <= float(tf.reduce_min(out)) and float(tf.reduce_max(out)) <= 255
  assert _mean_abs(q10, image) > _mean_abs(q90, image) > 0


@pytest.mark.unit
def test_both_options_compose():
  image = _textured()
  both = eval_input.degrade(image, jpeg_quality=10, degrade_pixels=64)
  assert both.shape == image.shape
  assert _mean_abs(both, eval_input.degrade(image, degrade_pixels=64)) > 0


@pytest.mark.unit
@pytest.mark.parametrize("bad, match", [
    ({"jpeg_quality": 0}, "jpeg_quality must be an integer in 1..100"),
    ({"jpeg_quality": 101}, "jpeg_quality must be an integer in 1..100"),
    ({"jpeg_quality": 50.0}, "jpeg_quality"),
    ({"jpeg_quality": True}, "jpeg_quality"),
    ({"degrade_pixels": -1}, "degrade_pixels must be a number of pixels"),
    ({"degrade_pixels": 2.5}, "degrade_pixels"),
])
def test_bad_values_raise(bad, match):
  with pytest.raises(ValueError, match=match):
    eval_input.degrade(_textured(), **bad)
  # The pairs evaluator checks before it reads anything.
  with pytest.raises(ValueError, match=match):
    pairs_evaluator.PairsEvaluator("/no/such/pairs.txt", **bad)


@pytest.fixture(scope="module")
def pairs_tree(tmp_path_factory):
  """4 people x 5 textured 64 x 64 JPEGs, and a View 1 list of 10 same pairs
  (person k % 4, images k % 5 + 1 and (k + 1) % 5 + 1) and 10 different
  pairs (persons k % 4 and (k + 1) % 4): 20 pairs, 2 per fold."""
  root = tmp_path_factory.mktemp("lfw")
  rng = np.random.default_rng(5)
  for name in NAMES:
    (root / "images" / name).mkdir(parents=True)
    for i in range(1, 6):
      pixels = rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)
      jpeg = tf.io.encode_jpeg(pixels, quality=95).numpy()
      (root / "images" / name / f"{name}_{i:04d}.jpg").write_bytes(jpeg)
  same = [f"{NAMES[k % 4]}\t{k % 5 + 1}\t{(k + 1) % 5 + 1}" for k in range(10)]
  diff = [f"{NAMES[k % 4]}\t{k % 5 + 1}\t{NAMES[(k + 1) % 4]}\t{k % 5 + 1}"
          for k in range(10)]
  (root / "pairs.txt").write_text("\n".join(["10", *same, *diff]) + "\n")
  return root


def _evaluate(root, **options):
  """The pairs evaluator with a recording embedder: per-block mean colours."""
  seen = []

  def embed(images):
    seen.append(images)
    return images.reshape(len(images), 4, 8, 4, 8, 3).mean(axis=(2, 4)).reshape(
        len(images), -1)

  result = pairs_evaluator.PairsEvaluator(
      str(root / "pairs.txt"), progress=False, **options).evaluate(
          eval_lib.Embedder(embed, (32, 32), "block means"))
  return result, np.concatenate(seen)


@pytest.mark.integration
def test_degradation_off_is_bit_identical(pairs_tree):
  default, images = _evaluate(pairs_tree)
  off, off_images = _evaluate(pairs_tree, jpeg_quality=None, degrade_pixels=0)
  np.testing.assert_array_equal(off_images, images)
  for key in ("accuracy", "val", "far", "auc", "eer", "folds"):
    assert off[key] == default[key], key
  assert default["jpeg_quality"] is None and default["degrade_pixels"] is None


@pytest.mark.integration
def test_the_evaluator_embeds_the_degraded_crops(pairs_tree):
  """The embedder sees exactly image_files_dataset's degraded batches."""
  _, plain = _evaluate(pairs_tree)
  result, seen = _evaluate(pairs_tree, jpeg_quality=30, degrade_pixels=64)
  assert result["jpeg_quality"] == 30 and result["degrade_pixels"] == 64
  paths = lfw_protocol.pair_image_index(
      lfw_protocol.read_pairs(str(pairs_tree / "pairs.txt")))[0]
  want = np.concatenate([b.numpy() for b in eval_input.image_files_dataset(
      paths, 32, 64, eval_lib.DEFAULT_CROP_FRACTION, jpeg_quality=30,
      degrade_pixels=64)])
  np.testing.assert_array_equal(seen, want)
  assert np.abs(seen - plain).mean() > 1


def _run_app(*args):
  return subprocess.run([sys.executable, "-m", "facenet_tf.apps.eval", *args],
                        cwd=ROOT, capture_output=True, text=True, timeout=300)


@pytest.mark.integration
@pytest.mark.parametrize("flag, message", [
    ("--jpeg_quality=0", "--jpeg_quality must be in 1..100"),
    ("--jpeg_quality=101", "--jpeg_quality must be in 1..100"),
    ("--degrade_pixels=-5", "--degrade_pixels must be >= 0"),
])
def test_app_exits_2_on_out_of_range_flags(flag, message, tmp_path):
  out = _run_app("--saved_model", str(tmp_path), "--pairs",
                 str(tmp_path / "pairs.txt"), flag)
  assert out.returncode == 2, out.stderr[-2000:]
  assert message in out.stderr
  assert "Traceback" not in out.stderr
