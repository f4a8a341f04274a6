"""An optional dependency that is not installed is named in one line.

A plain `pip install -e .` runs every console script; the features behind
setup.py's extras raise extras.MissingExtra, which the apps print as one
line with exit code 2 (apps/common.py). Each case hides the dependency (a
None entry in sys.modules makes its import fail) and imports afresh.
"""
import importlib
import sys

import pytest

from facenet_tf import extras
from facenet_tf.apps import common


@pytest.mark.unit
@pytest.mark.parametrize("module, dependency, extra", [
    ("facenet_tf.data.tfds_folder", "tensorflow_datasets", "tfds"),
    ("facenet_tf.evaluation.plots", "matplotlib", "eval"),
])
def test_a_missing_extra_names_its_install_command(module, dependency, extra,
                                                   monkeypatch):
  for name in list(sys.modules):
    if name == dependency or name.startswith(f"{dependency}."):
      monkeypatch.setitem(sys.modules, name, None)
  monkeypatch.setitem(sys.modules, dependency, None)
  monkeypatch.delitem(sys.modules, module, raising=False)
  with pytest.raises(extras.MissingExtra) as error:
    importlib.import_module(module)
  message = str(error.value)
  assert "\n" not in message, message
  assert message.endswith(f'which is not installed: pip install -e ".[{extra}]"')
  assert extras.MissingExtra in common.USER_ERRORS  # exit 2, one line
