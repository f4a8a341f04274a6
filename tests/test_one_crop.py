"""The alignment spec is the only owner of the crop (issue #29, item 1).

One aligned face reaches the model as the same pixels through every path:
training's sampler with augmentation off, the training-time verifier,
facenet-eval, the deploy formats' calibration set, the export's
`encoded_images` and uint8 signatures, `--aligned` input and the photo API.

Tolerance, stated once: the TensorFlow paths (alignment/model_crop_tf) give
the same pixels bit for bit, float32 where training feeds floats (the
sampler), uint8 where a path rounds (every other one); the NumPy paths
(alignment/model_crop: the photo API, `--aligned`) cut the same window
(checked exactly) and are within ONE grey level, because OpenCV's bilinear resize of uint8 images uses 11-bit
fixed-point weights where TensorFlow's uses float32 (about 12% of the
pixels of a noisy face differ by 1 when the window is resized; none when it
is not). The grey conversion is exact in both forms.

The model is a probe whose "embedding" is its input pixels, flattened, so
each path's model input is read back from its embeddings. The spec keeps
0.8 of each side (not the default 160/182, nor facenet-eval's 0.56 for raw
LFW), so a path that ignores the spec fails: at 64 px the view is 80 px of
the 100 px aligned face (padding round(64 x 0.2 / 0.8) = 16 px; window
round(100 x 64 / 80) = 80 px, at offset (20 + 1) // 2 = 10).
"""
import dataclasses
import importlib

import numpy as np
from PIL import Image
import pytest
import tensorflow as tf

from data_pipelines import build_tfrecords
from experiments import faces_base
from facenet_tf import config as config_lib
from facenet_tf import export
from facenet_tf import export_loaders
from facenet_tf import photos
from facenet_tf.alignment import model_crop
from facenet_tf.alignment import model_crop_tf
from facenet_tf.alignment import spec as spec_lib
from facenet_tf.alignment import warp
from facenet_tf.data import augment
from facenet_tf.data import reading
from facenet_tf.deploy import faces as deploy_faces
from facenet_tf.evaluation import embedding_io
from facenet_tf.evaluation import eval_lib
from facenet_tf.evaluation import pairs_evaluator
from facenet_tf.training import evaluators
from facenet_tf.training import inputs

SPEC = spec_lib.AlignmentSpec(image_size=100, model_crop_fraction=0.8)
SIZE = 64
VIEW = (10, 10, 80, 80)  # top, left, height, width: the docstring's window
# The probe's identities and images; ANN_1 is the face every path embeds.
PEOPLE = {"Ann": 2, "Bob": 2}
ANN_1 = "Ann/Ann_0001.png"


class PixelProbe:
  """A stand-in model: its embedding of an image is the image's pixels."""
  architecture = "tiny"
  dtype_policy_name = "float32"
  variables = ()
  channels = 3

  def __init__(self, size):
    self.image_size = (size, size)
    self.embedding_dim = size * size * 3

  def __call__(self, images, training=False):
    del training
    return tf.reshape(tf.cast(images, tf.float32), (-1, self.embedding_dim))


def _pixels(embeddings, size=SIZE):
  return np.asarray(embeddings).reshape(-1, size, size, 3)


def _photo_and_keypoints(seed):
  """A noisy 'photo' and five keypoints: the spec's template, turned 10
  degrees, scaled 1.7 and moved, so the warp resamples."""
  rng = np.random.default_rng(seed)
  rows, cols = np.mgrid[:240, :200]
  photo = np.stack([rows, cols, rows + cols], -1) + rng.integers(0, 80, (
      240, 200, 3))
  angle = np.radians(10)
  turn = np.array([[np.cos(angle), -np.sin(angle)],
                   [np.sin(angle), np.cos(angle)]])
  keypoints = np.array(SPEC.template()) @ turn.T * 1.7 + (30, 40)
  return (photo % 256).astype(np.uint8), keypoints


@pytest.fixture(scope="module")
def aligned(tmp_path_factory):
  """An aligned tree (as data_pipelines.align writes it: PNG crops and the
  spec), its View 1 pairs, its shards, the probe's export, and Ann_0001's
  photo and keypoints."""
  root = tmp_path_factory.mktemp("one_crop")
  tree = root / "aligned"
  photos = {}
  for seed, (name, count) in enumerate(PEOPLE.items()):
    (tree / name).mkdir(parents=True)
    for i in range(1, count + 1):
      photo, keypoints = _photo_and_keypoints(10 * seed + i)
      photos[f"{name}/{name}_{i:04d}.png"] = (photo, keypoints)
      crop = warp.align_face(photo, None, keypoints, SPEC)
      Image.fromarray(crop).save(tree / name / f"{name}_{i:04d}.png")
  spec_lib.write(SPEC, str(tree))
  pairs = root / "pairs.txt"
  pairs.write_text("10\n" + "Ann\t1\t2\n" * 10 + "Ann\t1\tBob\t1\n" * 10)
  shards = root / "shards"
  build_tfrecords.build(str(tree), str(shards), name="faces", num_shards=1,
                        num_workers=1)
  probe = export.export_saved_model(PixelProbe(SIZE), root / "probe",
                                    alignment=SPEC, thresholds=None)
  return {"tree": tree, "pairs": pairs, "shards": shards, "probe": probe,
          "photo": photos[ANN_1]}


@pytest.fixture(scope="module")
def reference(aligned):
  """Ann_0001's model input by the TF form: float32, and rounded to uint8."""
  image = augment.decode(tf.io.read_file(str(aligned["tree"] / ANN_1)))
  view = model_crop_tf.model_view(image, SIZE, SPEC.model_crop_fraction)
  return view.numpy(), model_crop_tf.to_uint8(view).numpy()


def _config(aligned):
  c = config_lib.get_config()
  c.data.source = "tfrecords"
  c.data.tfrecords.dir = str(aligned["shards"])
  c.data.tfrecords.random_crop = False
  c.data.flip = False
  c.data.p, c.data.k, c.data.r = 2, 2, 0
  c.eval.pairs = str(aligned["pairs"])
  c.eval.images_dir = str(aligned["tree"])
  return config_lib.validate(c)


def _row_of(paths, relative):
  return [str(p).endswith(relative) for p in paths].index(True)


@pytest.mark.unit
def test_the_two_forms_cut_the_same_window_within_one_grey_level():
  """Windows exact, pixels within 1 level (module docstring), over sizes,
  fractions and shapes, including the paper's 182 -> 160 px crop."""
  rng = np.random.default_rng(0)
  resized = 0
  for height, width in [(128, 128), (182, 182), (250, 250), (112, 92),
                        (40, 30)]:
    for size in [64, 160, (64, 48)]:
      for fraction in [160 / 182, 0.8, 0.56, 1.0]:
        image = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
        window = model_crop.centre_window(height, width, size, fraction)
        assert tuple(model_crop_tf.windows(height, width, size, fraction)
                     .numpy()) == window
        numpy_form = model_crop.model_view(image, size, fraction)
        tf_form = model_crop_tf.to_uint8(
            model_crop_tf.model_view(image, size, fraction)).numpy()
        difference = np.abs(numpy_form.astype(int) - tf_form)
        assert difference.max() <= 1, (height, width, size, fraction)
        if window[2:] == model_crop.image_hw(size):  # cut, not resized
          assert difference.max() == 0
        resized += difference.any()
  assert resized  # the sweep does reach OpenCV's fixed point
  grey = rng.integers(0, 256, (50, 40, 3), dtype=np.uint8)
  np.testing.assert_array_equal(
      model_crop.to_channels(grey, 1),
      model_crop_tf.to_channels(tf.constant(grey), 1).numpy())


@pytest.mark.unit
def test_the_geometry_of_the_docstrings():
  """davidsandberg's 182 -> 160 px: 22 px of padding, a 182 px source cut
  without resizing at offset 11; here, 80 px of the 100 px face."""
  assert model_crop.padding(160, spec_lib.MODEL_CROP_FRACTION) == 22
  assert model_crop.padding((96, 80), spec_lib.MODEL_CROP_FRACTION) == 11
  assert model_crop.centre_window(182, 182, 160, 160 / 182) == (11, 11, 160,
                                                                160)
  assert model_crop.centre_window(100, 100, SIZE, 0.8) == VIEW
  image = np.arange(182 * 182 * 3, dtype=np.uint32).reshape(182, 182, 3)
  np.testing.assert_array_equal(
      model_crop.model_view(image.astype(np.uint8), 160, 160 / 182),
      image[11:171, 11:171].astype(np.uint8))
  with pytest.raises(ValueError, match="crop_fraction"):
    model_crop.padding(SIZE, 0)
  assert model_crop.crop_fraction(None) == 1.0
  assert model_crop.crop_fraction(SPEC) == 0.8


@pytest.mark.integration
def test_one_aligned_face_gives_the_same_model_input_everywhere(aligned,
                                                                reference):
  expected_float, expected = reference
  tree, paths = aligned["tree"], {}
  # The sampler, augmentation off: the shards' spec (manifest) sets the view.
  config = _config(aligned)
  strategy = tf.distribute.get_strategy()
  images, _ = next(inputs.train_iterator(config, strategy, (SIZE, SIZE), 0))
  images = images.numpy()
  nearest = np.argmin(np.abs(images - expected_float).mean(axis=(1, 2, 3)))
  paths["sampler (float32)"] = images[nearest]
  # The training-time verifier.
  verifier = evaluators.verifier(config, (SIZE, SIZE))
  _, embeddings, _ = verifier(PixelProbe(SIZE))
  paths["verifier"] = _pixels(embeddings)[
      _row_of(verifier.evaluator.paths, ANN_1)]
  # facenet-eval: the pairs through the exported probe.
  embedder = eval_lib.load_embedder(saved_model=aligned["probe"])
  seen = []

  def embed(images):
    seen.append(embedder.embed(images))
    return seen[-1]

  evaluator = pairs_evaluator.PairsEvaluator(str(aligned["pairs"]),
                                             str(tree), progress=False)
  result = evaluator.evaluate(dataclasses.replace(embedder, embed=embed))
  assert result["crop_fraction"] == 0.8 and not result["alignment_warning"]
  paths["facenet-eval"] = _pixels(np.concatenate(seen))[
      _row_of(evaluator.paths, ANN_1)]
  # The deploy formats' int8 calibration faces.
  representative = deploy_faces.aligned_faces(str(tree), (SIZE, SIZE))
  tree_paths = deploy_faces.image_paths(str(tree))
  paths["deploy calibration set"] = representative[_row_of(tree_paths,
                                                           ANN_1)]
  # The export's encoded_images signature, given the aligned file's bytes.
  model = export_loaders.load(aligned["probe"])
  paths["encoded_images"] = _pixels(model.embed_encoded(
      [(tree / ANN_1).read_bytes()]))[0]
  # --aligned (facenet-embed, -compare, -cluster): the NumPy form.
  embedded = embedding_io.embed_files(model, [str(tree / ANN_1)], ["Ann"],
                                      progress=False)
  numpy_paths = {"--aligned": _pixels(embedded.embeddings)[0]}
  # The uint8 signature, fed the NumPy form's pixels: taken as they are.
  model_input = model_crop.ModelInput.of(model)
  pixels = model_input(reading.read_photo(tree / ANN_1))
  np.testing.assert_array_equal(_pixels(model(pixels[None]))[0], pixels)
  # The photo API: align the photo (the aligner's warp), then the view.
  recognizer = photos.FaceRecognizer(aligned["probe"])
  photo, keypoints = aligned["photo"]
  face = photos.Face("photo", 0, (0, 0, 1, 1), keypoints, 1.0)
  numpy_paths["photo API"] = _pixels(recognizer.embed_aligned(
      recognizer.align(photo, face)[None]))[0]
  numpy_paths["uint8 signature"] = pixels

  for name, got in paths.items():
    want = expected_float if "float32" in name else expected
    np.testing.assert_array_equal(got, want, err_msg=name)
  for name, got in numpy_paths.items():
    difference = np.abs(got.astype(int) - expected)
    assert difference.max() <= 1, name
  # Not the whole image, not the default fraction: the spec's view.
  whole = model_crop_tf.to_uint8(model_crop_tf.model_view(
      reading.read_photo(tree / ANN_1), SIZE, 1.0)).numpy()
  assert np.abs(whole.astype(int) - expected).mean() > 5


@pytest.mark.integration
@pytest.mark.parametrize("arch", ["nn2", "nn4"])
def test_paper_recipes_verify_on_the_specs_crop(arch, aligned):
  """Issue #29: paper_base never set eval.crop_fraction, so the verifier
  used 0.56, meant for raw LFW. Now 0 (unset) means the spec's, for paper
  and faces recipes alike; a recipe that sets it (lfw_view1, raw LFW)
  keeps its own."""
  c = importlib.import_module(f"experiments.paper_{arch}").get_config("smoke")
  assert c.eval.crop_fraction == 0
  c.data.source = "tfrecords"  # :smoke alone trains synthetic faces
  c.data.tfrecords.dir = str(aligned["shards"])
  c.eval.pairs, c.eval.images_dir = str(aligned["pairs"]), str(
      aligned["tree"])
  size = c.model.image_size
  verifier = evaluators.verifier(c, (size, size))
  assert verifier.evaluator.crop_fraction == SPEC.model_crop_fraction
  _, embeddings, _ = verifier(PixelProbe(size))
  image = reading.read_photo(aligned["tree"] / ANN_1)
  np.testing.assert_array_equal(
      _pixels(embeddings, size)[_row_of(verifier.evaluator.paths, ANN_1)],
      model_crop_tf.to_uint8(model_crop_tf.model_view(image, size,
                                                      0.8)).numpy())
  assert faces_base.base("view1_landmarks", "landmarks",
                         10).eval.crop_fraction == 0
  c.eval.crop_fraction = 0.55  # as lfw_view1 sets it for raw LFW
  assert evaluators.verifier(
      c, (size, size)).evaluator.crop_fraction == 0.55


@pytest.mark.unit
@pytest.mark.parametrize("fraction", [-0.1, 1.5])
def test_config_refuses_a_fraction_out_of_range(fraction):
  c = config_lib.get_config()
  c.eval.crop_fraction = fraction
  with pytest.raises(config_lib.ConfigError, match="crop_fraction"):
    config_lib.validate(c)
