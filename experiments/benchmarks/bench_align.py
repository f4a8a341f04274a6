"""Images/s of data_pipelines.align: the local runner against Beam's
DirectRunner, on the same LFW images.

    python experiments/benchmarks/bench_align.py [--images 1000]
        [--geometry landmarks]

The first N LFW photos (sorted by path, symlinked into a temporary tree) are
aligned three times, each into a fresh output directory, 2 cores:
  local      --num_workers 2 (two spawned processes, 1 MTCNN thread each);
  beam x1    the DirectRunner in this process (one worker, 2 threads);
  beam x2    -- --direct_num_workers=2 --direct_running_mode=multi_processing
Seconds are align_dataset's own (start-up of the pool or pipeline included).
Each Beam run's crops are compared with the local run's: the same files and
the largest pixel difference, and the same summary counts.
"""
import argparse
import os
import pathlib
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # run as a script from anywhere
  sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from data_pipelines import align  # noqa: E402
from data_pipelines.align_worker import AlignOptions  # noqa: E402

LFW = ROOT.parent / "shared" / "data" / "lfw" / "images"
RUNS = {
    "local": {"num_workers": 2},
    "beam x1": {"num_workers": None, "runner": "beam"},
    "beam x2": {"num_workers": None, "runner": "beam", "pipeline_args": [
        "--direct_num_workers=2", "--direct_running_mode=multi_processing"]},
}


def crops(directory):
  return sorted(p.relative_to(directory) for p in directory.rglob("*.png"))


def largest_difference(first, second):
  """(same file list, largest absolute pixel difference over all crops)."""
  files = crops(first)
  if files != crops(second):
    return False, None
  return True, max(int(np.abs(
      np.asarray(Image.open(first / f), np.int16)
      - np.asarray(Image.open(second / f), np.int16)).max()) for f in files)


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--images", type=int, default=1000)
  parser.add_argument("--geometry", default="landmarks")
  args = parser.parse_args()
  if not LFW.is_dir():
    sys.exit(f"skipped: {LFW} is absent (the shared LFW images)")
  files = sorted(p.relative_to(LFW) for p in LFW.glob("*/*.jpg"))
  files = files[:args.images]
  options = AlignOptions(geometry=args.geometry)
  print(f"{len(files)} LFW images, geometry {args.geometry}, "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
  with tempfile.TemporaryDirectory() as scratch:
    tree = pathlib.Path(scratch) / "input"
    for relative in files:
      (tree / relative).parent.mkdir(parents=True, exist_ok=True)
      os.symlink(LFW / relative, tree / relative)
    print(f"{'runner':>8}{'seconds':>9}{'images/s':>10}{'aligned':>9}"
          f"{'no face':>9}{'same files':>12}{'max diff':>10}{'same counts':>13}")
    summaries = {}
    for name, run in RUNS.items():
      output = pathlib.Path(scratch) / name.replace(" ", "_")
      summary = align.align_dataset(tree, output, options, **run)
      summaries[name] = (output, summary)
      same, diff = largest_difference(summaries["local"][0], output)
      counts = summary["counts"] == summaries["local"][1]["counts"]
      print(f"{name:>8}{summary['seconds']:>9.1f}"
            f"{summary['images_per_second']:>10.2f}"
            f"{summary['counts']['aligned']:>9}{summary['counts']['no_face']:>9}"
            f"{str(same):>12}{str(diff):>10}{str(counts):>13}")


if __name__ == "__main__":
  main()
