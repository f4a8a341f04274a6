"""PNG plots of a verification result: the ROC and the distance histograms.

Figures are drawn on matplotlib's Agg canvas directly, without pyplot, so
plotting neither needs a display nor switches the backend of a program that
imports this module. matplotlib is the `eval` extra of setup.py, and this
module its only importer: without it, importing this module raises
extras.MissingExtra, which the apps print as one line.
"""
import numpy as np

from facenet_tf import extras

_FEATURE = "Writing plots (--output_dir)"
FigureCanvasAgg = extras.require("matplotlib.backends.backend_agg", _FEATURE,
                                 "eval").FigureCanvasAgg
Figure = extras.require("matplotlib.figure", _FEATURE, "eval").Figure


def _save(figure, path):
  FigureCanvasAgg(figure)
  figure.tight_layout()
  figure.savefig(path, dpi=120)


def plot_roc(far, tpr, path, target_far=None, title="ROC"):
  """Writes the ROC (TPR = VAL against FAR, §5.1) with a log FAR axis.

  The paper plots FAR from 1e-8 up (Figs. 5, 8). A log axis cannot show FAR
  0, so points there are left out; the axis starts at the smallest non-zero
  FAR (one different pair) or at `target_far`, drawn as a vertical line.

  Args:
    far, tpr: the curve, e.g. from roc.roc_curve.
    path: PNG file to write.
    target_far: FAR of the reported VAL, or None.
    title: the figure title.
  """
  far, tpr = np.asarray(far), np.asarray(tpr)
  shown = far > 0
  figure = Figure(figsize=(6, 4.5))
  axes = figure.add_subplot()
  axes.plot(far[shown], tpr[shown], lw=1.5,
            label="ROC over every distinct distance")
  if target_far:
    axes.axvline(target_far, color="grey", ls="--", lw=1,
                 label=f"target FAR {target_far:g}")
  axes.set_xscale("log")
  if shown.any():
    axes.set_xlim(min(far[shown].min(), target_far or 1), 1)
  finish_roc(figure, axes, title, path)


def finish_roc(figure, axes, title, path):
  """Labels a VAL-vs-FAR axes like every ROC of the package and saves it."""
  axes.set_ylim(0, 1.01)
  axes.set_xlabel("FAR (false accept rate)")
  axes.set_ylabel("VAL (true accept rate)")
  axes.set_title(title)
  axes.grid(True, which="both", alpha=0.3)
  axes.legend(loc="lower right")
  _save(figure, path)


def plot_distance_histogram(dist, issame, path, threshold=None,
                            val_threshold=None, title="Pair distances"):
  """Writes histograms of the same-pair and different-pair distances.

  Args:
    dist, issame: the pairs' distances (squared L2) and labels.
    path: PNG file to write.
    threshold: the accuracy threshold to mark (e.g. the mean over folds).
    val_threshold: the VAL-at-target-FAR threshold to mark, or None.
    title: the figure title.
  """
  dist, issame = np.asarray(dist), np.asarray(issame, bool)
  bins = np.histogram_bin_edges(dist, bins=60)
  figure = Figure(figsize=(6, 4.5))
  axes = figure.add_subplot()
  axes.hist(dist[issame], bins=bins, alpha=0.6, color="tab:green",
            label=f"same ({issame.sum()})")
  axes.hist(dist[~issame], bins=bins, alpha=0.6, color="tab:red",
            label=f"different ({np.sum(~issame)})")
  if threshold is not None:
    axes.axvline(threshold, color="black", lw=1.5,
                 label=f"accuracy threshold {threshold:.3f}")
  if val_threshold is not None:
    axes.axvline(val_threshold, color="black", ls="--", lw=1.5,
                 label=f"VAL threshold {val_threshold:.3f}")
  axes.set_xlabel("distance (squared L2)")
  axes.set_ylabel("pairs")
  axes.set_title(title)
  axes.legend()
  _save(figure, path)
