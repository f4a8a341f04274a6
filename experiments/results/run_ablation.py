"""Runs one LFW View 1 ablation and writes its table, figures and plot.

    python experiments/results/run_ablation.py \
        --experiment {embedding_dim,mining,batch,image_quality} \
        [--variants a,b] [--workdir_root /tmp/facenet_ablations] [--smoke] \
        [--out_dir experiments/results]

Each variant trains in its own process, `facenet-train
--config=experiments/ablate_<experiment>.py:<variant> --workdir
<root>/<experiment>/<variant>`; a workdir that already has results.json is
not trained again, and one without it resumes from its checkpoint, so an
interrupted sweep continues where it stopped. Then every workdir's
results.json and TensorBoard scalars go into `<out_dir>/<experiment>.md`
(the table, beside the paper's number), `.json` (every figure) and `.png`.
`image_quality` trains one model and verifies it on degraded copies of
pairsDevTest (paper Table 4); `--variants` then picks evaluations
(jpeg10, ..., pixels1600, ...). `--smoke` trains `<variant>,smoke` runs
under `<root>/<experiment>_smoke/` and writes `<experiment>_smoke.*`, so it
never touches a real sweep.
"""
import argparse
import json
import math
import os
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # run as a script from anywhere
  sys.path.insert(0, str(ROOT))

import tensorflow as tf  # noqa: E402

from experiments import ablate_batch  # noqa: E402
from experiments import ablate_embedding_dim  # noqa: E402
from experiments import ablate_image_quality  # noqa: E402
from experiments import ablate_mining  # noqa: E402
from experiments import lfw_ablation_base as base  # noqa: E402
from experiments.results import ablation_plots  # noqa: E402
from facenet_tf import config as config_lib  # noqa: E402

EXPERIMENTS = {"embedding_dim": ablate_embedding_dim, "mining": ablate_mining,
               "batch": ablate_batch, "image_quality": ablate_image_quality}
PAPER_SOURCE = {"embedding_dim": "Table 5 (NN1, hold-out set, VAL at 1e-3)",
                "mining": "§3.2 reports no figure", "batch": "§3.2 reports "
                "no figure", "image_quality": "Table 4"}
PLOTS = {"embedding_dim": "accuracy vs step", "batch": "accuracy vs step",
         "mining": "accuracy, active fraction, mean d(a,n), mean d(a,p) vs "
         "step", "image_quality": "the two tables below as curves"}
METRICS = ("accuracy", "accuracy_std", "val", "far", "auc")


def _stem(experiment, smoke):
  return f"{experiment}_smoke" if smoke else experiment


def command(experiment, variant, workdir, smoke):
  """The facenet-train command line of one variant, as a list."""
  arg = f"{variant},{config_lib.SMOKE}" if smoke else variant
  return ["facenet-train",
          f"--config=experiments/ablate_{experiment}.py:{arg}",
          "--workdir", str(workdir)]


def _finished_twin(config, root):
  """A finished workdir under `root`/*/* trained with exactly `config`.

  The ablations share their base run (128-d, semi-hard, K = 4): a variant
  whose resolved config equals a finished run's is that run, so it is linked,
  not trained again.
  """
  wanted = json.loads(config.to_json())
  for done in sorted(pathlib.Path(root).glob("*/*/results.json")):
    with open(done.parent / "config.json") as f:
      if json.load(f) == wanted:
        return done.parent
  return None


def train(argv, workdir, config_fn=None):
  """Runs facenet-train `argv` unless `workdir` has finished (results.json)
  or a finished twin with the config `config_fn()` exists (then links it)."""
  if os.path.exists(os.path.join(workdir, "results.json")):
    print(f"done already: {workdir}", flush=True)
    return
  twin = (_finished_twin(config_fn(), pathlib.Path(workdir).parents[1])
          if config_fn and not os.path.exists(workdir) else None)
  if twin:
    os.makedirs(os.path.dirname(workdir), exist_ok=True)
    os.symlink(twin, workdir)
    print(f"same config as {twin}: linked", flush=True)
    return
  print("running:", " ".join(argv), flush=True)
  # The same interpreter as this script, whatever `facenet-train` is on PATH.
  run = subprocess.run([sys.executable, "-m", "facenet_tf.apps.train",
                        *argv[1:]], cwd=ROOT, check=False)
  if run.returncode:
    sys.exit(f"run_ablation: {' '.join(argv)} failed with exit code "
             f"{run.returncode}; rerun to resume it.")


def read_scalars(logdir):
  """{tag: {"steps", "values", "wall_times"}} of every scalar in `logdir`.

  A resumed run appends a new event file; a step logged twice keeps the
  value of the later file.
  """
  by_tag, walls = {}, {}
  for path in sorted(pathlib.Path(logdir).glob("events.out.tfevents.*"),
                     key=os.path.getmtime):
    for record in tf.data.TFRecordDataset(str(path)):
      event = tf.compat.v1.Event.FromString(record.numpy())
      for value in event.summary.value:
        array = tf.make_ndarray(value.tensor)
        if array.ndim == 0:  # histograms are [bins, 3]
          by_tag.setdefault(value.tag, {})[event.step] = float(array)
          walls.setdefault(value.tag, {})[event.step] = event.wall_time
  return {tag: {"steps": sorted(points),
                "values": [points[s] for s in sorted(points)],
                "wall_times": [walls[tag][s] for s in sorted(points)]}
          for tag, points in by_tag.items()}


def collect(experiment, variant, workdir, smoke):
  """One variant's row: command, results.json, batch, paper figure, curves."""
  with open(os.path.join(workdir, "results.json")) as f:
    results = json.load(f)
  with open(os.path.join(workdir, "config.json")) as f:
    data = json.load(f)["data"]
  curves = {}
  for sub in ("train", "eval"):
    curves.update(read_scalars(os.path.join(workdir, "tensorboard", sub)))
  return {"variant": variant, "workdir": str(workdir),
          "command": " ".join(command(experiment, variant, workdir, smoke)),
          "batch": f"{data['p']} x {data['k']} + {data['r']}",
          "paper": EXPERIMENTS[experiment].PAPER.get(variant, "-"),
          "results": results, "curves": curves}


def _metrics_cells(m):
  return (f"{m['accuracy']:.3f} ± {m['accuracy_std']:.3f}", f"{m['auc']:.3f}",
          f"{m['val']:.3f} (FAR {m['far']:.4f})")


def _table(header, rows):
  lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
  return lines + ["| " + " | ".join(cells) + " |" for cells in rows] + [""]


def _train_table(rows):
  cells = []
  for row in rows:
    r = row["results"]
    m = {k: r[f"verification_{k}"] for k in METRICS}
    cells.append((row["variant"], *_metrics_cells(m), row["batch"],
                   f"{r['seconds'] / 60:.1f}", str(r["steps"]), row["paper"],
                   f"`{row['command']}`"))
  return _table(("variant", "accuracy ± std (10 folds)", "AUC",
                 "VAL @ FAR=1e-3", "P x K + R", "train min", "steps",
                 "paper VAL @ 1e-3", "command"), cells)


def _preamble(experiment, smoke, argv):
  title = EXPERIMENTS[experiment].__doc__.strip().splitlines()[0]
  steps = base.SMOKE_STEPS if smoke else base.STEPS
  return [
      f"# {experiment}{' (smoke)' if smoke else ''}: {title}", "",
      f"Written by `python experiments/results/run_ablation.py "
      f"{' '.join(argv)}`.",
      f"Base (experiments/lfw_ablation_base.py): `{base.MODEL}` at "
      f"{base.IMAGE_SIZE}x{base.IMAGE_SIZE}, {steps} steps, trained on LFW "
      "peopleDevTrain, verified on pairsDevTest (1,000 pairs dealt into 10 "
      f"folds). The .png beside this file: {PLOTS[experiment]}.",
      f"Paper column: {PAPER_SOURCE[experiment]}. The paper's VAL is on its "
      "own hold-out set of ~1M images with NN1; ours is VAL at FAR 1e-3 on "
      "100 different pairs per fold, i.e. zero false accepts, so accuracy "
      "is the figure to compare variants by.",
      "train min = results.json seconds (the last process of a resumed run; "
      "includes the in-run verifications).", ""]


def _quality_tables(evaluations):
  """Markdown lines of Table 4's two halves, each with the reference row."""
  lines = [f"The model above verified on degraded images. Its input is "
           f"{base.IMAGE_SIZE}x{base.IMAGE_SIZE} = {base.IMAGE_SIZE ** 2:,} "
           "pixels: a pixel count above that leaves the crop as it is (the "
           "row repeats the reference); the paper's NN1 was trained at "
           "220x220. VAL at 1e-3 is coarse here (100 different pairs per "
           "fold): compare accuracy. The reference is eval_lib's (images "
           "rounded to uint8), hence a small difference from the row above.",
           ""]
  for prefix, label, paper in (
      ("jpeg", "JPEG quality", ablate_image_quality.PAPER_JPEG),
      ("pixels", "#pixels", ablate_image_quality.PAPER_PIXELS)):
    rows = [("none (reference)", *_metrics_cells(evaluations["reference"]),
             "-")]
    for value, m in sorted(evaluations[prefix].items()):
      shown = (f"{value:,} ({math.isqrt(value)}²)" if prefix == "pixels"
               else str(value))
      rows.append((shown, *_metrics_cells(m), paper.get(value, "-")))
    lines += _table((label, "accuracy ± std (10 folds)", "AUC",
                     "VAL @ FAR=1e-3", "paper val-rate (NN1)"), rows)
  return lines


def write_report(experiment, rows, out_dir, smoke, argv, evaluations=None):
  """Writes <experiment>.md, .json and .png; returns their paths.

  Args:
    experiment: a key of EXPERIMENTS.
    rows: `collect`'s rows, one per trained variant.
    out_dir: where the three files go.
    smoke: name them <experiment>_smoke.*.
    argv: run_ablation's arguments, quoted in the .md.
    evaluations: image_quality only, ablate_image_quality.evaluate's.
  """
  os.makedirs(out_dir, exist_ok=True)
  stem = os.path.join(out_dir, _stem(experiment, smoke))
  lines = _preamble(experiment, smoke, argv) + _train_table(rows)
  curves = {row["variant"]: row["curves"] for row in rows}
  title = f"{experiment}: LFW View 1 (pairsDevTest)"
  if evaluations is not None:
    lines += _quality_tables(evaluations)
    ablation_plots.plot_image_quality(
        evaluations, ablate_image_quality.PAPER_JPEG,
        ablate_image_quality.PAPER_PIXELS, stem + ".png",
        base.IMAGE_SIZE ** 2)
  elif experiment == "mining":
    ablation_plots.plot_mining(curves, stem + ".png", title)
  else:
    ablation_plots.plot_accuracy(curves, stem + ".png", title)
  with open(stem + ".md", "w") as f:
    f.write("\n".join(lines))
  with open(stem + ".json", "w") as f:
    json.dump({"experiment": experiment, "smoke": smoke, "rows": rows,
               "evaluations": evaluations}, f, indent=1)
  return [stem + ext for ext in (".md", ".json", ".png")]


def main(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
  parser.add_argument("--experiment", required=True, choices=EXPERIMENTS)
  parser.add_argument("--variants", default="",
                      help="comma-separated subset; default: all")
  parser.add_argument("--workdir_root", default="/tmp/facenet_ablations")
  parser.add_argument("--smoke", action="store_true")
  parser.add_argument("--out_dir",
                      default=str(ROOT / "experiments" / "results"))
  argv = sys.argv[1:] if argv is None else argv
  args = parser.parse_args(argv)
  module = EXPERIMENTS[args.experiment]
  quality = args.experiment == "image_quality"
  known = module.eval_variants() if quality else module.VARIANTS
  variants = [v for v in args.variants.split(",") if v] or list(known)
  unknown = sorted(set(variants) - set(known))
  if unknown:
    parser.error(f"unknown variants {', '.join(unknown)} of "
                 f"{args.experiment}; known: {', '.join(known)}")
  root = os.path.join(args.workdir_root, _stem(args.experiment, args.smoke))
  rows = []
  for variant in [module.DEFAULT] if quality else variants:
    workdir = os.path.join(root, variant)
    arg = f"{variant},{config_lib.SMOKE}" if args.smoke else variant
    train(command(args.experiment, variant, workdir, args.smoke), workdir,
          lambda: module.get_config(arg))
    rows.append(collect(args.experiment, variant, workdir, args.smoke))
  evaluations = (module.evaluate(rows[0]["workdir"], variants) if quality
                 else None)
  for path in write_report(args.experiment, rows, args.out_dir, args.smoke,
                           argv, evaluations):
    print("wrote", path)


if __name__ == "__main__":
  main()
