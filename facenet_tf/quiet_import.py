"""TensorFlow without its start-up lines, imported only when first needed.

TensorFlow 2.21 prints lines from C++ while it is imported, before its
logging is set up ("All log messages before absl::InitializeLog()", "Could
not find cuda drivers", oneDNN and CPU-instruction notes), which
TF_CPP_MIN_LOG_LEVEL does not silence, and "failed call to cuInit" when its
devices start, which level 3 does. `install()` (run by `import facenet_tf`)
therefore sets TF_CPP_MIN_LOG_LEVEL=3 unless the user set it, and puts a
finder on sys.meta_path that runs TensorFlow's own import with the
process's stderr (file descriptor 2) pointed at /dev/null, then restores
it. Nothing imports TensorFlow early: a module that never needs it (an
app's flag parsing, `--help`) stays fast. A Python error raised by the
import still surfaces (after the restore). `uninstall()` (the apps'
`--verbose`) undoes both, if TensorFlow is not imported yet.
"""
import contextlib
import importlib.abc
import importlib.util
import os
import sys

_LOG_LEVEL = "TF_CPP_MIN_LOG_LEVEL"
_set_log_level = False


@contextlib.contextmanager
def stderr_to_devnull():
  """Points file descriptor 2 (C++ writes there too) at /dev/null."""
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


class _QuietLoader(importlib.abc.Loader):
  """Runs the wrapped loader of `tensorflow` with stderr silenced."""

  def __init__(self, loader):
    self._loader = loader

  def create_module(self, spec):
    return self._loader.create_module(spec)

  def exec_module(self, module):
    # The module keeps TensorFlow's own loader; only this import is wrapped.
    module.__loader__ = module.__spec__.loader = self._loader
    with stderr_to_devnull():
      self._loader.exec_module(module)


class _QuietTensorFlowFinder(importlib.abc.MetaPathFinder):
  """Finds `tensorflow` as the other finders do, with a _QuietLoader."""

  def find_spec(self, fullname, path, target=None):
    del path, target
    if fullname != "tensorflow":
      return None
    uninstall(keep_log_level=True)  # one import; the finder is done
    spec = importlib.util.find_spec(fullname)
    if spec is not None and spec.loader is not None:
      spec.loader = _QuietLoader(spec.loader)
    return spec


def installed():
  return any(isinstance(f, _QuietTensorFlowFinder) for f in sys.meta_path)


def install():
  """Silences TensorFlow's start-up lines, unless it is already imported."""
  global _set_log_level
  if "tensorflow" in sys.modules or installed():
    return
  if _LOG_LEVEL not in os.environ:
    os.environ[_LOG_LEVEL] = "3"
    _set_log_level = True
  sys.meta_path.insert(0, _QuietTensorFlowFinder())


def uninstall(keep_log_level=False):
  """TensorFlow's start-up lines shown again (when imported after this)."""
  global _set_log_level
  sys.meta_path[:] = [f for f in sys.meta_path
                      if not isinstance(f, _QuietTensorFlowFinder)]
  if _set_log_level and not keep_log_level:
    os.environ.pop(_LOG_LEVEL, None)
    _set_log_level = False
