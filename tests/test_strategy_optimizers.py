"""The strategy factory's errors, and optimisers / schedules from the config."""
import keras
import pytest

from facenet_tf import config as config_lib
from facenet_tf.training import optimizers
from facenet_tf.training import strategy as strategy_lib


@pytest.mark.unit
def test_strategy_errors_say_what_is_wrong(monkeypatch):
  with pytest.raises(strategy_lib.StrategyError, match="default, mirrored"):
    strategy_lib.make_strategy("gpus")
  with pytest.raises(strategy_lib.StrategyError, match="--tpu"):
    strategy_lib.make_strategy("tpu")
  with pytest.raises(strategy_lib.StrategyError, match="mirrored"):
    strategy_lib.make_strategy("default", num_cpu_devices=2)
  monkeypatch.delenv("TF_CONFIG", raising=False)
  with pytest.raises(strategy_lib.StrategyError, match="TF_CONFIG"):
    strategy_lib.make_strategy("multiworker")
  monkeypatch.setenv("TF_CONFIG", '{"cluster": {}}')
  with pytest.raises(strategy_lib.StrategyError, match="cluster.worker"):
    strategy_lib.make_strategy("multiworker")


@pytest.mark.unit
def test_tpu_local_without_a_tpu_is_a_one_line_error():
  """#31 item 6: the guide's TPU command off a TPU VM stopped with
  TensorFlow's traceback ("Please provide a TPU Name to connect to.")."""
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  if tf.config.list_physical_devices("TPU"):
    pytest.skip("this machine has a TPU")
  with pytest.raises(strategy_lib.StrategyError,
                     match="found no TPU at --tpu=local") as error:
    strategy_lib.make_strategy("tpu", tpu="local")
  assert "\n" not in str(error.value)


@pytest.mark.unit
def test_default_is_the_papers_adagrad():
  c = config_lib.get_config()
  opt = optimizers.make_optimizer(c.optimizer, c.train.steps)
  assert isinstance(opt, keras.optimizers.Adagrad)
  assert optimizers.current_learning_rate(opt) == pytest.approx(0.05)


@pytest.mark.unit
@pytest.mark.parametrize("name, cls", [("adam", keras.optimizers.Adam),
                                       ("sgd", keras.optimizers.SGD)])
def test_other_optimizers_and_loss_scaling(name, cls):
  c = config_lib.get_config().optimizer
  c.name = name
  assert isinstance(optimizers.make_optimizer(c, 100), cls)
  wrapped = optimizers.make_optimizer(c, 100, "mixed_float16")
  assert isinstance(wrapped, keras.optimizers.LossScaleOptimizer)


@pytest.mark.unit
def test_schedules_follow_the_config():
  c = config_lib.get_config().optimizer
  c.schedule, c.boundaries, c.learning_rates = "piecewise", (10, 20), (0.1, 0.01, 0.001)
  lr = optimizers.learning_rate(c, 100)
  assert [float(lr(s)) for s in (0, 15, 30)] == pytest.approx([0.1, 0.01, 0.001])
  c.schedule, c.learning_rate, c.warmup_steps = "cosine", 0.1, 10
  lr = optimizers.learning_rate(c, 110)
  assert float(lr(0)) == pytest.approx(0.0)
  assert float(lr(10)) == pytest.approx(0.1)
  assert float(lr(110)) == pytest.approx(0.0, abs=1e-6)
  c.schedule, c.warmup_steps, c.decay_steps = "exponential", 0, 50
  lr = optimizers.learning_rate(c, 100)
  assert float(lr(50)) == pytest.approx(0.1 * 0.1)


@pytest.mark.unit
def test_config_refuses_inconsistent_schedules():
  c = config_lib.get_config()
  c.optimizer.schedule = "piecewise"
  with pytest.raises(config_lib.ConfigError, match="boundaries"):
    config_lib.validate(c)
  c.optimizer.schedule, c.optimizer.warmup_steps = "constant", 5
  with pytest.raises(config_lib.ConfigError, match="cosine"):
    config_lib.validate(c)
