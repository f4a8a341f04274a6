"""The PNG figures of run_ablation: training curves and image-quality plots.

Figures are drawn on matplotlib's Agg canvas without pyplot (as
facenet_tf/evaluation/plots.py), so no display is needed. A curve is a dict
{"steps": [...], "values": [...]}, one per TensorBoard tag and variant.
"""
import math

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

ACCURACY = "verification_accuracy"
# Paper §3.2: hardest negatives can collapse the model (f(x) = 0). These four
# curves show it: accuracy near chance, every triplet active, and d(a,n)
# falling with d(a,p) as all embeddings gather at one point. (Each miner
# averages d(a,n) over its own negatives: hardest ones are the closest.)
MINING_PANELS = (
    (ACCURACY, "verification accuracy (pairsDevTest)"),
    ("active_fraction", "active triplet fraction"),
    ("mean_d_an", "mean d(a,n) of the negatives used (spread)"),
    ("mean_d_ap", "mean d(a,p) of the triplets used"),
)


def _save(figure, path):
  FigureCanvasAgg(figure)
  figure.tight_layout()
  figure.savefig(path, dpi=120)


def _draw_curves(ax, curves, tag, ylabel):
  """One line per variant of `curves` {variant: {tag: curve}}."""
  for variant, tags in curves.items():
    curve = tags.get(tag)
    if curve and curve["steps"]:
      ax.plot(curve["steps"], curve["values"], marker="o", markersize=3,
              label=variant)
  if tag == ACCURACY:
    ax.axhline(0.5, color="grey", linestyle=":", linewidth=1)  # chance
  ax.set_xlabel("training step")
  ax.set_ylabel(ylabel)
  ax.grid(alpha=0.3)
  ax.legend(fontsize=8)


def plot_accuracy(curves, path, title):
  """Verification accuracy against the training step, one line per variant.

  Args:
    curves: {variant: {tag: {"steps", "values"}}}; uses verification_accuracy.
    path: the PNG to write.
    title: the figure title.
  """
  figure = Figure(figsize=(7, 4.5))
  ax = figure.add_subplot(1, 1, 1)
  _draw_curves(ax, curves, ACCURACY, "verification accuracy (pairsDevTest)")
  ax.set_title(title)
  _save(figure, path)


def plot_mining(curves, path, title):
  """2 x 2 over steps: accuracy, active fraction, mean d(a,n), mean d(a,p)."""
  figure = Figure(figsize=(11, 8))
  for index, (tag, ylabel) in enumerate(MINING_PANELS):
    _draw_curves(figure.add_subplot(2, 2, index + 1), curves, tag, ylabel)
  figure.suptitle(title)
  _save(figure, path)


def _percent(text):
  """0.673 from the paper's "67.3%"."""
  return float(text.rstrip("%")) / 100


def _quality_panel(ax, xs, rows, reference, paper, xlabel):
  """Our accuracy and VAL against a degradation, the paper's VAL beside."""
  ax.plot(xs, [r["accuracy"] for r in rows], marker="o", label="accuracy")
  ax.plot(xs, [r["val"] for r in rows], marker="s", label="VAL @ FAR 1e-3")
  shown = [x for x in xs if x in paper]  # extra grid points have no paper row
  ax.plot(shown, [_percent(paper[x]) for x in shown], marker="^",
          linestyle="--", color="black", label="paper VAL @ 1e-3 (NN1, Table 4)")
  for key, style in (("accuracy", "C0"), ("val", "C1")):
    ax.axhline(reference[key], color=style, linestyle=":", linewidth=1)
  ax.set_xlabel(xlabel)
  ax.set_ylim(0, 1)
  ax.grid(alpha=0.3)
  ax.legend(fontsize=8)


def plot_image_quality(evaluations, paper_jpeg, paper_pixels, path,
                       input_pixels):
  """Two panels: metrics against JPEG quality and against pixel count.

  Args:
    evaluations: {"reference": metrics of undegraded images (dotted lines),
      "jpeg": {quality: metrics}, "pixels": {pixel count: metrics}}, with
      metrics holding accuracy and val.
    paper_jpeg, paper_pixels: Table 4's val-rates, e.g. {10: "67.3%"}.
    path: the PNG to write.
    input_pixels: the model's input size in pixels (a vertical line: from
      there on the crop is left as it is).
  """
  figure = Figure(figsize=(11, 4.5))
  reference = evaluations["reference"]
  for index, (key, paper, xlabel) in enumerate((
      ("jpeg", paper_jpeg, "JPEG quality"),
      ("pixels", paper_pixels, "#pixels (log)"))):
    ax = figure.add_subplot(1, 2, index + 1)
    xs = sorted(evaluations[key])
    _quality_panel(ax, xs, [evaluations[key][x] for x in xs], reference,
                   paper, xlabel)
  ax.set_xscale("log")
  ax.axvline(input_pixels, color="grey", linestyle="-.", linewidth=1)
  ax.set_xticks(xs, [f"{math.isqrt(n)}²" for n in xs])
  ax.minorticks_off()  # the log axis' own labels would overlap these
  figure.suptitle("Image quality (dotted: undegraded images; dash-dot: the "
                  "model's input size)")
  _save(figure, path)
