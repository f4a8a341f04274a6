"""Every registered model: builds, counts, round-trips, saves, trains a step."""
import keras
import numpy as np
import pytest

from facenet_tf import models
from tests import model_checks

ALL = ["inception_resnet_v1", "nn1", "nn2", "nn3", "nn4", "nns1", "nns2",
       "resnet_small", "resnet_small_flat", "tiny"]
# A gradient step is cheap for these.
SMALL = ["tiny", "nns2", "nn4", "resnet_small", "resnet_small_flat"]


@pytest.mark.unit
def test_registry_names_and_unknown_name():
  assert models.names() == ALL
  with pytest.raises(ValueError, match="nn2.*tiny"):
    models.build("nn9")


@pytest.mark.integration
@pytest.mark.parametrize("name", ALL)
def test_build_and_count_against_paper(name):
  """Input size, and params / multiply-adds within ±10% of FACTS.md §3."""
  arch = models.get(name)
  model = models.build(name)
  assert tuple(model.inputs[0].shape[1:]) == (*arch.image_size, 3)
  params, madds = model.count_params(), models.count_multiply_adds(model)
  if arch.paper_params:
    assert abs(params / arch.paper_params - 1) <= 0.10, params
  if arch.paper_madds:
    assert abs(madds / arch.paper_madds - 1) <= 0.10, madds
  assert params > 0 and madds > 0


@pytest.mark.integration
@pytest.mark.parametrize("name", SMALL)
def test_small_model_checks(name, tmp_path):
  model_checks.check_model(models.build(name), tmp_path)


# 46 s for all five on 2 CPU cores: cheap enough for the default suite.
@pytest.mark.integration
@pytest.mark.parametrize("name", sorted(set(ALL) - set(SMALL)))
def test_full_size_model_checks(name, tmp_path):
  """nn1's gradient step (140M parameters) is left out; its forward, config
  round trip and save/load are checked."""
  model_checks.check_model(models.build(name), tmp_path,
                           gradient_step=name != "nn1")


@pytest.mark.integration
def test_constructor_overrides(tmp_path):
  model = models.build("tiny", embedding_dim=64, image_size=(48, 40),
                       channels=1, weight_decay=1e-4)
  assert tuple(model.inputs[0].shape) == (None, 48, 40, 1)
  assert model.losses, "weight decay adds regularisation losses"
  model_checks.check_model(model, tmp_path, gradient_step=False)
  with pytest.raises(ValueError, match="channels"):
    models.build("tiny", channels=2)


@pytest.mark.integration
@pytest.mark.parametrize("policy", ["mixed_bfloat16", "mixed_float16"])
def test_mixed_precision_keeps_float32_embeddings(policy, tmp_path):
  full = models.build("tiny")
  mixed = models.build("tiny", dtype_policy=policy)
  mixed.set_weights(full.get_weights())
  assert mixed.get_layer("block1_conv").compute_dtype == policy.split("_")[1]
  images = model_checks.random_images(full, 4)
  out = mixed(images, training=False).numpy()
  assert out.dtype == np.float32
  # Half precision keeps ~3 significant digits: the embeddings agree to that.
  np.testing.assert_allclose(out, full(images, training=False), atol=0.05)
  model_checks.check_config_round_trip(mixed)


@pytest.mark.integration
def test_resnet_small_flat_keeps_positions():
  """resnet_small ends on a [4, 4, 256] map at 64 px and pools it away
  (1,262,176 params). resnet_small_flat adds the BatchNorm (1,024) and
  widens the embedding layer from 256 to 4*4*256 = 4,096 inputs
  ((4,096 - 256) * 128 = 491,520): 1,754,720. Pooling is blind to where a
  feature is: swapping two cells of the map leaves resnet_small's output as
  it is, and changes flat's."""
  counts = {"resnet_small": 1262176, "resnet_small_flat": 1754720}
  for name, params in counts.items():
    model = models.build(name)
    assert model.count_params() == params, name
    images = model_checks.random_images(model, 2)
    last = model.get_layer("stage4_block1_out")
    body = keras.Model(model.inputs[0], last.output)
    head = keras.Model(last.output, model.outputs)
    maps = body(images, training=False).numpy()
    swapped = maps.copy()
    swapped[:, [0, 3], [0, 3]] = maps[:, [3, 0], [3, 0]]
    out, out_swapped = head(maps).numpy(), head(swapped).numpy()
    if name == "resnet_small":
      np.testing.assert_allclose(out_swapped, out, atol=1e-6)
    else:
      assert np.abs(out_swapped - out).max() > 1e-3, name


@pytest.mark.unit
def test_multiply_add_counter_on_hand_derived_model():
  """Conv 3x3, 3 -> 8 channels on 10x10 'same': 10*10*3*3*3*8 = 21,600;
  depthwise 3x3 on 5x5x8 (stride 2): 5*5*9*8 = 1,800; Dense 8 -> 4: 32.
  Pooling and BatchNorm count 0. Total 23,432."""
  inputs = keras.Input((10, 10, 3))
  x = keras.layers.Conv2D(8, 3, padding="same")(inputs)
  x = keras.layers.BatchNormalization()(x)
  x = keras.layers.DepthwiseConv2D(3, strides=2, padding="same")(x)
  x = keras.layers.GlobalAveragePooling2D()(x)
  outputs = keras.layers.Dense(4)(x)
  assert models.count_multiply_adds(keras.Model(inputs, outputs)) == 23432


@pytest.mark.unit
def test_l2_pooling_is_sqrt_of_window_sum_of_squares():
  """3x3 'same' L2 pool on a 4x4 map equals sqrt(sum x^2) over the
  zero-padded window, borders included (paper Table 2, "L2")."""
  from facenet_tf.models.layers import L2Pooling2D
  x = np.random.default_rng(0).uniform(size=(1, 4, 4, 2)).astype(np.float32)
  padded = np.pad(x[0], ((1, 1), (1, 1), (0, 0)))
  want = np.sqrt([[np.sum(padded[i:i + 3, j:j + 3] ** 2, axis=(0, 1))
                   for j in range(4)] for i in range(4)])
  got = L2Pooling2D(3, 1, "same")(x).numpy()[0]
  np.testing.assert_allclose(got, want, rtol=1e-5)
  # Stride 2, 'same' on 4 pixels pads only after: windows centred on 1 and 3.
  strided = L2Pooling2D(3, 2, "same")(x).numpy()[0]
  np.testing.assert_allclose(strided, got[1::2, 1::2], rtol=1e-5)
