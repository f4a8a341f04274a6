"""The error for an optional dependency (an extra of setup.py) not installed.

A plain `pip install -e .` runs every console script; a feature that needs
more says which extra to install, in one line (the apps exit 2 on it).
Imports nothing of facenet_tf, so every layer may use it.
"""
import importlib


class MissingExtra(ImportError):
  """`feature` needs `package`, which setup.py's `extra` installs."""

  def __init__(self, feature, package, extra):
    super().__init__(f"{feature} needs {package}, which is not installed: "
                     f'pip install -e ".[{extra}]"')


def require(module, feature, extra, package=None):
  """`module` imported, or MissingExtra: `feature` needs `package` (default:
  the module's top-level name), from setup.py's `extra`."""
  try:
    return importlib.import_module(module)
  except ImportError as error:
    raise MissingExtra(feature, package or module.split(".")[0],
                       extra) from error
