r"""facenet-train: train, evaluate and export one experiment.

    facenet-train --workdir /tmp/facenet_default        # the built-in demo
    facenet-train --config experiments/<name>.py:arg --workdir DIR \
        [--strategy default|mirrored|multiworker|tpu] [--num_cpu_devices N] \
        [--tpu ADDRESS] [--config.train.steps=1000 ...]

Rerunning the same command continues from the last checkpoint. The last
line printed is one JSON object: verification_accuracy, saved_model,
workdir, steps, seconds, ... A config with a `harmonic` section runs the
harmonic-embedding recipe instead (training/harmonic_lib.py, paper §7),
whose JSON has v1_v1, v2_v2, v1_v2 and baseline_v1_init.
"""
import importlib.util
import json
import os
import sys

from absl import flags
from ml_collections import config_flags

from facenet_tf.apps import common

# Loading a config imports TensorFlow, so the default one (the built-in
# demo) is named only when needed: after flag parsing, or in argv before
# --config.KEY=VALUE overrides of it (_default_config_for_overrides).
_DEFAULT_CONFIG = importlib.util.find_spec("facenet_tf.config").origin
# training/strategy.py's STRATEGIES (tests/test_app_startup.py checks).
STRATEGIES = ("default", "mirrored", "multiworker", "tpu")
_CONFIG = config_flags.DEFINE_config_file(
    "config", None,
    "Experiment config file[:arg]; default: the built-in synthetic-face demo.",
    lock_config=True)
_WORKDIR = flags.DEFINE_string("workdir", None, "Directory for the run's "
                               "config, checkpoints, logs and export.",
                               required=True)
_STRATEGY = flags.DEFINE_enum("strategy", "default", STRATEGIES,
                              "tf.distribute strategy.")
_NUM_CPU_DEVICES = flags.DEFINE_integer(
    "num_cpu_devices", 0, "With --strategy=mirrored: split the CPU into this "
    "many logical devices (testing without GPUs).", lower_bound=0)
_TPU = flags.DEFINE_string("tpu", "", "With --strategy=tpu: the TPU address.")


def main(argv):
  del argv
  # pylint: disable=import-outside-toplevel
  from facenet_tf import config as config_lib
  from facenet_tf.training import harmonic_lib
  from facenet_tf.training import strategy as strategy_lib
  from facenet_tf.training import train_lib
  if _CONFIG.value is None:
    config = config_lib.get_config()
    config.lock()
  else:
    config = common.config_value(_CONFIG)
  strategy = strategy_lib.make_strategy(
      _STRATEGY.value, _NUM_CPU_DEVICES.value, _TPU.value)
  train = harmonic_lib.train if "harmonic" in config else train_lib.train
  result = train(config, _WORKDIR.value, strategy)
  print(json.dumps(result), flush=True)


def _importable_config_package(argv):
  """Puts the folder above a --config file's package on sys.path.

  Experiment files import their siblings (`from experiments import
  faces_base`); the console script, unlike `python -m`, does not put the
  working directory on sys.path, so the package above the file is added.
  """
  for i, arg in enumerate(argv):
    value = (arg.split("=", 1)[1] if arg.startswith("--config=") else
             argv[i + 1] if arg == "--config" and i + 1 < len(argv) else None)
    if value:
      folder = os.path.dirname(os.path.abspath(value.split(":", 1)[0]))
      if os.path.exists(os.path.join(folder, "__init__.py")):
        sys.path.insert(0, os.path.dirname(folder))


def _default_config_for_overrides(argv):
  """Puts --config=<the demo> before the first --config.KEY override when
  no --config is given (overrides need a loaded config)."""
  if any(a == "--config" or a.startswith("--config=") for a in argv):
    return
  for i, arg in enumerate(argv):
    if arg.startswith("--config."):
      argv.insert(i, f"--config={_DEFAULT_CONFIG}")
      return


def run():
  _importable_config_package(sys.argv)
  _default_config_for_overrides(sys.argv)
  common.run(main)


if __name__ == "__main__":
  run()
