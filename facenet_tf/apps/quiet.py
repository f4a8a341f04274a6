"""Quiet terminals: the apps show their own lines, not TensorFlow's.

`import facenet_tf` already hides TensorFlow's C++ start-up lines
(facenet_tf/quiet_import.py) without importing it, so flags parse before
TensorFlow loads (`--help` and a wrong flag answer at once). Once flags are
parsed, `quiet_logging` lowers TF's Python logger, Keras/TF UserWarnings
(retracing, deprecations) and absl's INFO lines; with `--verbose` it
instead shows all of them, start-up lines included.
"""
import logging as std_logging
import warnings

from absl import logging

from facenet_tf import quiet_import


def quiet_logging(verbose):
  """After flag parsing, before TensorFlow is imported: what to show."""
  if verbose:
    quiet_import.uninstall()
    logging.set_verbosity(logging.INFO)
    return
  logging.set_verbosity(logging.WARNING)
  std_logging.getLogger("tensorflow").setLevel(std_logging.ERROR)
  warnings.filterwarnings("ignore", module="keras")
  warnings.filterwarnings("ignore", module="tensorflow")
