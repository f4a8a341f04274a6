"""The gradient-cache chunk from a memory budget (training/memory_budget.py)."""
import keras
import pytest

from facenet_tf import config as config_lib
from facenet_tf import workdir as workdir_lib
from facenet_tf.training import memory_budget

MiB = 2**20


def _small_model():
  """8x8x3 -> Conv(4, same) -> ReLU -> global pool -> Dense(2).

  Outputs per image: 8*8*4 (conv) + 8*8*4 (relu) + 4 (pool) + 2 (dense) =
  518 elements; parameters: 3*3*3*4 + 4 + 4*2 + 2 = 122.
  """
  inputs = keras.Input((8, 8, 3))
  x = keras.layers.Conv2D(4, 3, padding="same")(inputs)
  x = keras.layers.ReLU()(x)
  x = keras.layers.GlobalAveragePooling2D()(x)
  return keras.Model(inputs, keras.layers.Dense(2)(x))


@pytest.mark.unit
def test_activation_elements_count_every_layer_output():
  model = _small_model()
  assert memory_budget.activation_elements(model) == 518
  nested = keras.Sequential([keras.Input((8, 8, 3)), model])
  assert memory_budget.activation_elements(nested) == 518


@pytest.mark.unit
def test_training_bytes_follow_the_dtype_and_the_optimizer():
  """Fixed: 122 params x 4 bytes x (weights, gradients, slots): AdaGrad has
  one slot (1,464 B), Adam two (1,952 B). Per image: factor x 518 x 4 bytes
  in float32, x 2 bytes under mixed_bfloat16."""
  model = _small_model()
  fixed, per_image = memory_budget.training_bytes(model)
  assert fixed == 122 * 4 * 3
  assert per_image == pytest.approx(memory_budget.ACTIVATION_FACTOR * 518 * 4)
  fixed, half = memory_budget.training_bytes(model, "mixed_bfloat16", "adam")
  assert fixed == 122 * 4 * 4 and half == pytest.approx(per_image / 2)
  with pytest.raises(config_lib.ConfigError, match="dtype policy"):
    memory_budget.training_bytes(model, "float64")


@pytest.mark.unit
def test_chunk_is_the_largest_divisor_that_fits():
  """Budget 100 MiB, headroom 0.8 -> 80 MiB; minus 8 MiB fixed = 72 MiB.
  At 5 MiB per image 14 images fit: the largest divisor of 225 up to 14 is
  9 (225 = 3^2 x 5^2); of 1,800 it is 12. At 0.25 MiB per image all 225
  fit (56.25 MiB): no cache, chunk 0."""
  budget, fixed = 100 * MiB, 8 * MiB
  assert memory_budget.HEADROOM == 0.8
  assert memory_budget.chunk_for_budget(225, fixed, 5 * MiB, budget) == 9
  assert memory_budget.chunk_for_budget(1800, fixed, 5 * MiB, budget) == 12
  assert memory_budget.chunk_for_budget(225, fixed, MiB / 4, budget) == 0
  with pytest.raises(config_lib.ConfigError, match="not one image"):
    memory_budget.chunk_for_budget(225, fixed, 73 * MiB, budget)


@pytest.mark.unit
def test_resolve_chunk_derives_the_chunk_per_replica():
  """tiny at 64 px, Adagrad, B = 8 x 4 + 4 = 36; the budget is set so that
  exactly 5 images fit per replica: 36 / 2 replicas = 18 -> chunk 3
  (divisors of 18 up to 5: 1, 2, 3); on 1 replica, 36 -> chunk 4."""
  config = config_lib.get_config("smoke")
  model = workdir_lib.build_embedder(config)
  fixed, per_image = memory_budget.training_bytes(model)
  config.train.memory_budget_gb = (fixed + 5.5 * per_image) / 0.8 / 2**30
  assert memory_budget.resolve_chunk(config, model, 2).train.grad_cache_chunk == 3
  assert memory_budget.resolve_chunk(config, model, 1).train.grad_cache_chunk == 4
  assert config.train.grad_cache_chunk == 0  # the input is not changed
  config.train.grad_cache_chunk = 4
  with pytest.raises(config_lib.ConfigError, match="not both"):
    memory_budget.resolve_chunk(config, model, 1)
  with pytest.raises(config_lib.ConfigError, match="memory_budget_gb"):
    config_lib.validate(config)


@pytest.mark.unit
def test_a_budget_runs_config_json_loads_with_its_derived_chunk(tmp_path):
  """#31 item 6: facenet-export --workdir of a paper recipe's run (the
  guide's export step) read config.json, which holds the budget and the
  chunk derived from it, and refused it ("not beside it")."""
  config = config_lib.get_config("smoke")
  config.train.memory_budget_gb = 1.0
  resolved = config.copy_and_resolve_references()
  resolved.train.grad_cache_chunk = 4       # what start_run saves
  workdir_lib.save_config(resolved, str(tmp_path))
  loaded = workdir_lib.load_config(str(tmp_path))
  assert (loaded.train.memory_budget_gb, loaded.train.grad_cache_chunk) == (
      1.0, 4)
  with pytest.raises(config_lib.ConfigError, match="memory_budget_gb"):
    config_lib.validate(resolved)             # a user still sets one of them
