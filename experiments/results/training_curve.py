"""Accuracy against training minutes of one run, from its TensorBoard logs.

    python experiments/results/training_curve.py --workdir /tmp/lfw_view1_best \
        --name lfw_view1 [--out_dir experiments/results]

Minutes count from the run's first training event (the first `log_every`
steps, graph tracing included, are inside it); the in-training evaluations
are at `train.eval_every` steps and the final one after the last step.
Writes `<name>_curve.md` (a table: step, minutes, accuracy, AUC, VAL@1e-3),
`<name>_curve.json` and `<name>_curve.png`.
"""
import argparse
import json
import os
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # run as a script from anywhere
  sys.path.insert(0, str(ROOT))

from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from experiments.results import run_ablation  # noqa: E402

TAGS = ("verification_accuracy", "verification_auc", "verification_val")


def curve(workdir):
  """[{step, minutes, accuracy, auc, val}] of the run's evaluations."""
  tb = os.path.join(workdir, "tensorboard")
  train = run_ablation.read_scalars(os.path.join(tb, "train"))
  evals = run_ablation.read_scalars(os.path.join(tb, "eval"))
  if "loss" not in train or TAGS[0] not in evals:
    raise FileNotFoundError(f"{tb} has no training or evaluation scalars.")
  # The first logged step's wall time, pushed back to step 0 at its rate.
  steps, walls = train["loss"]["steps"], train["loss"]["wall_times"]
  per_step = ((walls[1] - walls[0]) / (steps[1] - steps[0])
              if len(steps) > 1 else 0.0)
  start = walls[0] - steps[0] * per_step
  acc = evals[TAGS[0]]
  by_step = {tag: dict(zip(evals[tag]["steps"], evals[tag]["values"]))
             for tag in TAGS[1:] if tag in evals}
  return [{"step": step, "minutes": round((wall - start) / 60, 2),
           "accuracy": value,
           "auc": by_step.get(TAGS[1], {}).get(step, float("nan")),
           "val": by_step.get(TAGS[2], {}).get(step, float("nan"))}
          for step, wall, value in zip(acc["steps"], acc["wall_times"],
                                       acc["values"])]


def write(points, name, out_dir, workdir):
  rows = [f"| {p['step']} | {p['minutes']:.1f} | {p['accuracy']:.4f} | "
          f"{p['auc']:.4f} | {p['val']:.3f} |" for p in points]
  os.makedirs(out_dir, exist_ok=True)
  with open(os.path.join(out_dir, f"{name}_curve.md"), "w") as f:
    f.write(f"# {name}: verification against training minutes\n\n"
            f"Workdir `{workdir}`; minutes from the first training step "
            "(in-training evaluations included in the wall time).\n\n"
            "| step | minutes | accuracy | AUC | VAL@1e-3 |\n|---|---|---|---|---|\n"
            + "\n".join(rows) + "\n")
  with open(os.path.join(out_dir, f"{name}_curve.json"), "w") as f:
    json.dump(points, f, indent=1)
  figure = Figure(figsize=(6, 4))
  FigureCanvasAgg(figure)
  ax = figure.add_subplot(1, 1, 1)
  minutes = [p["minutes"] for p in points]
  ax.plot(minutes, [p["accuracy"] for p in points], marker="o", label="accuracy")
  ax.plot(minutes, [p["auc"] for p in points], marker="s", label="AUC")
  ax.set_xlabel("training minutes (2 CPU cores)")
  ax.set_ylabel("pairsDevTest (1,000 pairs)")
  ax.grid(alpha=0.3)
  ax.legend()
  ax.set_title(f"{name}: verification vs training time")
  figure.tight_layout()
  figure.savefig(os.path.join(out_dir, f"{name}_curve.png"), dpi=120)


def main(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--workdir", required=True)
  parser.add_argument("--name", required=True)
  parser.add_argument("--out_dir", default=str(ROOT / "experiments/results"))
  args = parser.parse_args(argv)
  try:
    points = curve(args.workdir)
  except FileNotFoundError as e:
    print(f"training_curve: error: {e}", file=sys.stderr)
    return 2
  write(points, args.name, args.out_dir, args.workdir)
  for p in points:
    print(f"step {p['step']:6d}  {p['minutes']:6.1f} min  accuracy "
          f"{p['accuracy']:.4f}  AUC {p['auc']:.4f}  VAL {p['val']:.3f}")
  return 0


if __name__ == "__main__":
  sys.exit(main())
