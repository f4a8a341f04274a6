"""Start-up (#31 item 8): flags parse before TensorFlow is imported.

Importing an app module, `--help` and a wrong flag must not import
TensorFlow (nor Keras): each app defines its absl flags from TF-free
modules and imports the library inside main. Checked in fresh processes
(sys.modules), not by timing; experiments/benchmarks/bench_startup.py
measures the seconds. The flags that copy a library constant (so as not to
import it) are checked against it.
"""
import json
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
APPS = ("train", "eval", "export", "embed", "compare", "recognize", "cluster")
MODEL_APPS = ("eval", "export", "embed", "compare", "recognize", "cluster")
RUN_APP = """
import runpy, sys
app, args = sys.argv[1], sys.argv[2:]
sys.argv = [f"facenet-{app}", *args]
try:
  runpy.run_module(f"facenet_tf.apps.{app}", run_name="__main__",
                   alter_sys=True)
except SystemExit as e:
  code = e.code
loaded = sorted(m for m in ("tensorflow", "keras") if m in sys.modules)
print("LOADED", code, *loaded, file=sys.stderr)
"""


def _loaded_by(*args):
  """(exit code, TF/Keras modules loaded, stdout, stderr) of an app run
  in a fresh process."""
  done = subprocess.run([sys.executable, "-c", RUN_APP, *args], cwd=ROOT,
                        capture_output=True, text=True, timeout=120)
  last = done.stderr.strip().splitlines()[-1].split()
  assert last[0] == "LOADED", done.stderr[-2000:]
  return int(last[1]), last[2:], done.stdout, done.stderr


@pytest.mark.unit
@pytest.mark.parametrize("app", APPS)
def test_importing_an_app_does_not_import_tensorflow(app):
  code = (f"import sys, facenet_tf.apps.{app}; print(sorted(m for m in "
          "('tensorflow', 'keras') if m in sys.modules))")
  done = subprocess.run([sys.executable, "-c", code], cwd=ROOT,
                        capture_output=True, text=True, timeout=120,
                        check=True)
  assert done.stdout.strip() == "[]"


@pytest.mark.unit
@pytest.mark.parametrize("app", APPS)
def test_help_lists_the_apps_own_flags_without_tensorflow(app):
  code, loaded, out, _ = _loaded_by(app, "--help")
  assert (code, loaded) == (1, [])
  assert out.startswith(f"facenet-{app}: ")
  own = ["verbose"]  # every app's, from apps/common.py
  own += ["model", "workdir"] if app in MODEL_APPS else ["workdir", "config"]
  for name in own:
    described = [line for line in out.splitlines()
                 if line.startswith((f"  --{name}: ", f"  --[no]{name}: "))]
    assert described and len(described[0]) > len(name) + 8, (name, out)
  assert "tpu_" not in out


@pytest.mark.unit
@pytest.mark.parametrize("app", APPS)
def test_a_wrong_flag_is_a_usage_error_without_tensorflow(app):
  code, loaded, out, err = _loaded_by(app, "--no_such_flag")
  assert (code, loaded, out) == (2, [], "")
  assert "Unknown command line flag 'no_such_flag'" in err


def _python(code, *args):
  """stdout of `code` in a fresh process (an app's flags stay out of this
  one's absl FLAGS)."""
  return subprocess.run([sys.executable, "-c", code, *map(str, args)],
                        cwd=ROOT, capture_output=True, text=True,
                        timeout=120, check=True).stdout


@pytest.mark.unit
def test_config_overrides_of_the_default_demo_still_apply(tmp_path):
  """facenet-train loads its default config only when needed; an override
  without --config gets the demo config put before it."""
  code = """
import json, sys
from facenet_tf.apps import train
for argv in (sys.argv[1:4], sys.argv[4:]):
  train._default_config_for_overrides(argv)
  print(json.dumps(argv))
"""
  overridden, given = _python(
      code, "--workdir", tmp_path, "--config.train.steps=3",
      "--config=x.py", "--config.train.steps=3").splitlines()
  default = ROOT / "facenet_tf" / "config.py"
  assert json.loads(overridden) == [
      "--workdir", str(tmp_path), f"--config={default}",
      "--config.train.steps=3"]
  assert json.loads(given) == ["--config=x.py", "--config.train.steps=3"]


@pytest.mark.unit
def test_flag_constants_match_the_library():
  """The values the apps repeat so as not to import TensorFlow."""
  # pylint: disable=import-outside-toplevel
  from facenet_tf.evaluation import eval_lib
  from facenet_tf.evaluation import calibration
  from facenet_tf.evaluation import recognition
  from facenet_tf.training import strategy
  code = "from facenet_tf.apps import train; print(*train.STRATEGIES)"
  assert tuple(_python(code).split()) == strategy.STRATEGIES
  _, _, eval_help, _ = _loaded_by("eval", "--help")
  assert f"else {eval_lib.DEFAULT_CROP_FRACTION} (the face" in " ".join(
      eval_help.split())
  _, _, compare_help, _ = _loaded_by("compare", "--help")
  # The operating-point flags name the paper's threshold (apps/verdicts.py).
  assert calibration.PAPER_THRESHOLD == recognition.DEFAULT_THRESHOLD
  assert f"else the paper's {calibration.PAPER_THRESHOLD}." in " ".join(
      compare_help.split())
