"""The error for an optional dependency (an extra of setup.py) not installed.

A plain `pip install -e .` runs every console script; a feature that needs
more says which extra to install, in one line (the apps exit 2 on it).
Imports nothing, so every layer may raise it.
"""


class MissingExtra(ImportError):
  """`feature` needs `package`, which setup.py's `extra` installs."""

  def __init__(self, feature, package, extra):
    super().__init__(f"{feature} needs {package}, which is not installed: "
                     f'pip install -e ".[{extra}]"')
