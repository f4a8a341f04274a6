"""Seconds before each console script answers `--help` or a wrong flag.

  python experiments/benchmarks/bench_startup.py [--root CHECKOUT] \
      [--repeats 3]

For every app (`python -m facenet_tf.apps.X`, as the console scripts run
it), `data_pipelines.align --help` and `import facenet_tf`: the median
wall-clock seconds of --repeats fresh processes, its exit code and whether
stderr had any line beyond the usage error. --root times another checkout
(e.g. the main branch, for a before/after table); default: this one.
Target (#31 item 8): under 2 s for --help and a wrong flag. The figures
include the interpreter's own start (`python -c pass`, printed first) and
depend on the machine's load.
"""
import argparse
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
APPS = ("train", "eval", "export", "embed", "compare", "recognize", "cluster")


def _timed(root, args, repeats):
  """(median seconds, exit code, stderr lines) of `python args` in root."""
  env = {**os.environ, "PYTHONPATH": root}
  seconds, done = [], None
  for _ in range(repeats):
    start = time.perf_counter()
    done = subprocess.run([sys.executable, *args], cwd=root, env=env,
                          capture_output=True, text=True, check=False)
    seconds.append(time.perf_counter() - start)
  return statistics.median(seconds), done.returncode, len(
      done.stderr.splitlines())


def _commands():
  """(label, python arguments) of every start-up measured."""
  yield "python -c pass", ["-c", "pass"]
  yield "import facenet_tf", ["-c", "import facenet_tf"]
  yield "data_pipelines.align --help", ["-m", "data_pipelines.align",
                                        "--help"]
  for app in APPS:
    module = f"facenet_tf.apps.{app}"
    yield f"facenet-{app} --help", ["-m", module, "--help"]
    yield f"facenet-{app} --no_such_flag", ["-m", module, "--no_such_flag"]


def main():
  parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
  parser.add_argument("--root", default=os.path.join(HERE, "..", ".."),
                      help="The checkout to time.")
  parser.add_argument("--repeats", type=int, default=3)
  args = parser.parse_args()
  root = os.path.abspath(args.root)
  print(f"{root}, median of {args.repeats}")
  print(f"{'command':<36} {'seconds':>8} {'exit':>5} {'stderr lines':>13}")
  for label, command in _commands():
    seconds, code, lines = _timed(root, command, args.repeats)
    print(f"{label:<36} {seconds:8.2f} {code:5d} {lines:13d}", flush=True)


if __name__ == "__main__":
  main()
