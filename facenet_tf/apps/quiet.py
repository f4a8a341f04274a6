"""Quiet terminals: the apps show their own lines, not TensorFlow's.

TensorFlow prints start-up lines from C++ before its logging is set up
(oneDNN, CUDA drivers, CPU instructions, "All log messages before
absl::InitializeLog()"), which TF_CPP_MIN_LOG_LEVEL does not silence in TF
2.21. Unless `--verbose` is on the command line, `import_tensorflow()`
therefore imports TensorFlow and initialises its devices with the process's
stderr (file descriptor 2) pointed at /dev/null, then restores it; Python
errors still surface (they are raised after the restore). TF's Python
logger, autograph's retracing warnings and absl's INFO lines are lowered
to errors/warnings too (`quiet_logging`, called once flags are parsed).
"""
import contextlib
import os
import sys
import warnings


def verbose_requested(argv=None):
  """Whether the command line asks for --verbose (before flag parsing)."""
  argv = sys.argv if argv is None else argv
  return any(a in ("--verbose", "--verbose=true", "--verbose=True",
                   "--verbose=1") for a in argv[1:])


@contextlib.contextmanager
def _stderr_to_devnull():
  sys.stderr.flush()
  saved = os.dup(2)
  devnull = os.open(os.devnull, os.O_WRONLY)
  try:
    os.dup2(devnull, 2)
    yield
  finally:
    os.dup2(saved, 2)
    os.close(saved)
    os.close(devnull)


def import_tensorflow():
  """Imports TensorFlow, silently unless --verbose."""
  if verbose_requested():
    import tensorflow  # pylint: disable=import-outside-toplevel,unused-import
    return
  os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
  with _stderr_to_devnull():
    import tensorflow as tf  # pylint: disable=import-outside-toplevel
    tf.config.list_physical_devices()  # CUDA's probing prints here


def quiet_logging(verbose):
  """After flag parsing: absl INFO and TF's Python warnings only if verbose."""
  from absl import logging  # pylint: disable=import-outside-toplevel
  import tensorflow as tf  # pylint: disable=import-outside-toplevel
  if verbose:
    logging.set_verbosity(logging.INFO)
    return
  logging.set_verbosity(logging.WARNING)
  tf.get_logger().setLevel("ERROR")
  tf.autograph.set_verbosity(0)
  # Keras/TF UserWarnings (retracing, deprecations) are not the user's news.
  warnings.filterwarnings("ignore", module="keras")
  warnings.filterwarnings("ignore", module="tensorflow")
