"""What every app shares: flag parsing and user errors as exit code 2.

A wrong flag, a missing file or a config that cannot run is the user's to
fix: it gets one line on stderr naming what is wrong, exit code 2 and no
traceback. Anything else is a bug and keeps its traceback.

Nothing here imports TensorFlow: an app's flags parse (and `--help` or a
wrong flag answers) before its main imports the library.
"""
import os
import sys

from absl import app
from absl import flags

from facenet_tf import export_loaders
from facenet_tf.apps import quiet

_VERBOSE = flags.DEFINE_bool(
    "verbose", False, "Show TensorFlow's start-up lines, warnings and INFO "
    "logging (hidden by default).")


# User errors an app can raise before it imports TensorFlow.
_EARLY_USER_ERRORS = (FileNotFoundError, FileExistsError, NotADirectoryError,
                      export_loaders.ModelPathError)


def user_errors():
  """The exception classes that mean a user error (imports the library)."""
  # pylint: disable=import-outside-toplevel
  from facenet_tf import config as config_lib
  from facenet_tf import extras
  from facenet_tf.data import reading
  from facenet_tf.data import shards
  from facenet_tf.evaluation import eval_lib
  from facenet_tf.photos import gallery
  from facenet_tf.training import strategy as strategy_lib
  return _EARLY_USER_ERRORS + (
      config_lib.ConfigError, strategy_lib.StrategyError, shards.ShardError,
      eval_lib.InputError, reading.PhotoError, gallery.GalleryError,
      extras.MissingExtra)


def fail(message):
  program = os.path.basename(sys.argv[0])
  print(f"{program}: error: {message}", file=sys.stderr)
  sys.exit(2)


def _parse_flags(argv):
  try:
    return flags.FLAGS(argv)
  except flags.Error as e:
    message = str(e)
    if "Traceback" in message:
      # config_flags embeds the traceback of a failing config file's
      # get_config(); its last line says what is wrong (a ConfigError's
      # without its class, which config_flags names after the file).
      message = message.strip().splitlines()[-1]
      message = message.split("ConfigError: ", 1)[-1]
    fail(f"{message}\nPass --helpfull to see the flags.")


def config_value(holder):
  """The --config ConfigDict; a file that failed to load is a user error."""
  from facenet_tf import config as config_lib  # pylint: disable=import-outside-toplevel
  config = holder.value
  try:
    config.keys()  # config_flags defers a load failure to the first access
  except OSError as e:
    raise config_lib.ConfigError(
        f"cannot load --config: {str(e).strip().splitlines()[-1].strip()}"
    ) from None
  return config


def _describe_app(main):
  """Makes `--help` show the app's docstring and all its flags.

  absl prints `__main__`'s docstring and the key flags of sys.argv[0]: the
  app under `python -m facenet_tf.apps.X`, but pip's wrapper script (no
  docstring, no flags) under `facenet-X`; either way the flags the app
  defines through embedding_flags and this module (--verbose) are not key
  flags of sys.argv[0] until registered here.
  """
  app_module = sys.modules[main.__module__]
  if sys.modules["__main__"] is not app_module:
    sys.modules["__main__"].__doc__ = app_module.__doc__
  for module, module_flags in flags.FLAGS.flags_by_module_dict().items():
    if module.startswith("facenet_tf.apps."):
      for flag in module_flags:
        flags.FLAGS.register_key_flag_for_module(sys.argv[0], flag)


def run(main, positional=False):
  """Runs an absl `main(argv)` with the project's error handling.

  With `positional=True`, main gets the arguments left after the flags
  (e.g. facenet-compare's image paths); otherwise any is an error.
  """
  _describe_app(main)
  def guarded(argv):
    if positional:
      argv = argv[1:]
    elif len(argv) > 1:
      fail(f"unexpected arguments: {' '.join(argv[1:])}")
    quiet.quiet_logging(_VERBOSE.value)
    try:
      main(argv)
    except Exception as e:  # pylint: disable=broad-except
      if not (isinstance(e, _EARLY_USER_ERRORS)
              or isinstance(e, user_errors())):
        raise
      fail(str(e))
  app.run(guarded, flags_parser=_parse_flags)
