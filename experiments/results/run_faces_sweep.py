"""Runs the geometry comparison or paper Table 6 and writes their tables.

    python experiments/results/run_faces_sweep.py --experiment geometry|table6 \
        [--workdir_root /tmp/facenet_faces/runs] [--out_dir experiments/results]

Each variant trains in its own process (`facenet-train
--config=experiments/faces_<experiment>.py:<variant> --workdir
<root>/<experiment>/<variant>`); a finished workdir is not trained again,
an unfinished one resumes, and a variant whose resolved config equals a
finished run's is linked to it (Table 6's 100% row is the geometry
sweep's landmarks run). Then each run is evaluated on LFW pairsDevTest with
facenet-eval's library (with and without flips), and `<out_dir>/
faces_<experiment>.{md,json,png}` get the table, every figure and the
accuracy-vs-step curves. Table 6 puts the paper's rows beside ours.
Data first: `python experiments/prepare_faces.py`.
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

from experiments import faces_base  # noqa: E402
from experiments import faces_geometry  # noqa: E402
from experiments import faces_table6  # noqa: E402
from experiments.results import run_ablation  # noqa: E402
from facenet_tf.evaluation import eval_lib  # noqa: E402
from facenet_tf.evaluation import pairs_evaluator  # noqa: E402

EXPERIMENTS = {"geometry": (faces_geometry, faces_base.GEOMETRIES),
               "table6": (faces_table6, faces_table6.PERCENTS)}
# FACTS.md Table 6: training images -> VAL at FAR 1e-3 (NN2-like, 96 px).
PAPER_TABLE6 = ((2_600_000, 0.763), (26_000_000, 0.851),
                (52_000_000, 0.851), (260_000_000, 0.862))


def _run(experiment, variant, root):
  module, _ = EXPERIMENTS[experiment]
  workdir = pathlib.Path(root) / experiment / variant
  argv = ["facenet-train",
          f"--config=experiments/faces_{experiment}.py:{variant}",
          "--workdir", str(workdir)]
  run_ablation.train(argv, str(workdir), lambda: module.get_config(variant))
  return workdir, " ".join(argv)


def evaluate(workdir, config):
  """DevTest accuracy, AUC and VAL of a finished run, plain and flipped."""
  embedder = eval_lib.load_embedder(workdir=str(workdir))
  out = {}
  for flip in (False, True):
    r = pairs_evaluator.PairsEvaluator(
        config["eval"]["pairs"], config["eval"]["images_dir"], flip=flip,
        progress=False).evaluate(embedder)
    out["flip" if flip else "plain"] = {
        k: r[k] for k in ("accuracy", "accuracy_std", "auc", "val", "far",
                          "fallback_pairs")}
  return out


def collect(experiment, variant, workdir, command):
  with open(workdir / "config.json") as f:
    config = json.load(f)
  with open(workdir / "results.json") as f:
    results = json.load(f)
  with open(os.path.join(config["data"]["tfrecords"]["dir"],
                         "manifest.json")) as f:
    manifest = json.load(f)
  evals = run_ablation.read_scalars(workdir / "tensorboard" / "eval")
  curve = evals.get("verification_accuracy", {"steps": [], "values": []})
  return {"variant": variant, "workdir": str(workdir), "command": command,
          "identities": manifest["num_identities"],
          "images": manifest["num_images"],
          "alignment": results.get("alignment"),
          "train_minutes": round(results["seconds"] / 60, 1),
          "steps": results["steps"], "eval": evaluate(workdir, config),
          "curve": {"steps": curve["steps"], "accuracy": curve["values"]}}


def write_report(experiment, rows, out_dir):
  stem = os.path.join(out_dir, f"faces_{experiment}")
  lines = [f"# faces_{experiment}: LFW pairsDevTest, "
           f"{rows[0]['steps']} steps each\n",
           "Written by `python experiments/results/run_faces_sweep.py "
           f"--experiment {experiment}`; train minutes are wall time on the "
           "2-core machine, shared with other runs (WORKSPACE_NOTES.md).\n",
           "| variant | alignment | identities | images | accuracy | "
           "accuracy (flip) | AUC (flip) | VAL@1e-3 (flip) | train min |",
           "|---|---|---|---|---|---|---|---|---|"]
  for r in rows:
    p, f = r["eval"]["plain"], r["eval"]["flip"]
    lines.append(
        f"| {r['variant']} | {(r['alignment'] or {}).get('name', '-')} | "
        f"{r['identities']} | {r['images']} | {p['accuracy']:.4f} ± "
        f"{p['accuracy_std']:.4f} | {f['accuracy']:.4f} ± "
        f"{f['accuracy_std']:.4f} | {f['auc']:.4f} | {f['val']:.3f} | "
        f"{r['train_minutes']} |")
  if experiment == "table6":
    lines += ["", "Paper Table 6 (VAL at FAR 1e-3, personal-photos test "
              "set, NN2-like 96 px model, 700 h of training):", "",
              "| training images | VAL |", "|---|---|"]
    lines += [f"| {n:,} | {v:.3f} |" for n, v in PAPER_TABLE6]
  lines += ["", "Commands:", ""] + [f"    {r['command']}" for r in rows]
  with open(stem + ".md", "w") as f:
    f.write("\n".join(lines) + "\n")
  with open(stem + ".json", "w") as f:
    json.dump(rows, f, indent=1)
  _plot(experiment, rows, stem + ".png")
  return stem


def _plot(experiment, rows, path):
  figure = Figure(figsize=(11, 4))
  FigureCanvasAgg(figure)
  left, right = figure.subplots(1, 2)
  for r in rows:
    left.plot(r["curve"]["steps"], r["curve"]["accuracy"], marker="o",
              label=r["variant"])
  left.set(xlabel="step", ylabel="pairsDevTest accuracy (in training)",
           title=f"faces_{experiment}")
  left.legend()
  if experiment == "table6":
    images = [r["images"] for r in rows]
    right.semilogx(images, [r["eval"]["flip"]["val"] for r in rows], "o-",
                   label="ours: VAL@1e-3, LFW DevTest")
    right.semilogx(images, [r["eval"]["flip"]["accuracy"] for r in rows],
                   "s-", label="ours: accuracy, LFW DevTest")
    right.semilogx(*zip(*PAPER_TABLE6), "^--", label="paper: VAL@1e-3")
    right.set(xlabel="training images", title="Table 6: data size")
    right.legend()
  else:
    names = [r["variant"] for r in rows]
    right.bar(names, [r["eval"]["flip"]["accuracy"] for r in rows])
    right.set(ylim=(0.5, 1.0), ylabel="accuracy (flip)",
              title="geometry, same budget")
  figure.tight_layout()
  figure.savefig(path, dpi=100)


def main(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--experiment", choices=sorted(EXPERIMENTS),
                      required=True)
  parser.add_argument("--workdir_root",
                      default=os.path.join(faces_base.ROOT, "runs"))
  parser.add_argument("--out_dir", default=str(ROOT / "experiments" /
                                               "results"))
  args = parser.parse_args(argv)
  _, variants = EXPERIMENTS[args.experiment]
  rows = []
  for variant in variants:
    workdir, command = _run(args.experiment, variant, args.workdir_root)
    rows.append(collect(args.experiment, variant, workdir, command))
  print("wrote", write_report(args.experiment, rows, args.out_dir) + ".md")
  return 0


if __name__ == "__main__":
  sys.exit(main())
