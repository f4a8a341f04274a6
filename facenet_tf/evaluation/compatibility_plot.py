"""The ROC curves of compatibility.MODES in one PNG (arXiv v3 §7, Fig. 8).

matplotlib is the `eval` extra: pairs_outputs.py imports this module only
when facenet-eval writes files. Drawn like plots.py (matplotlib's only
importer), on the Agg canvas without pyplot.
"""
from facenet_tf.evaluation import plots
from facenet_tf.evaluation import roc

# Fig. 8's legend: v1 = NN1, v2 = NN2, and "NN2 compared to NN1".
_LABELS = {"v1_v1": "v1 vs v1", "v2_v2": "v2 vs v2",
           "v1_v2": "v1 gallery vs v2 probes"}


def plot_compatibility_roc(dists, issame, path, target_far=None,
                           title="Compatibility ROC"):
  """Writes the three modes' ROC curves (VAL against a log FAR axis).

  Args:
    dists: {mode: squared L2 distances [num_pairs]}, compatibility's MODES.
    issame: bool [num_pairs].
    path: PNG file to write.
    target_far: the FAR of the reported VAL, drawn as a vertical line.
    title: the figure title.
  """
  figure = plots.Figure(figsize=(6, 4.5))
  axes = figure.add_subplot()
  smallest = 1.0
  for mode, label in _LABELS.items():
    _, far, tpr = roc.roc_curve(dists[mode], issame)
    # A log axis cannot show FAR = 0 (plots.plot_roc leaves it out too).
    shown = far > 0
    axes.plot(far[shown], tpr[shown], lw=1.5,
              label=f"{label} (AUC {roc.auc(far, tpr):.3f})")
    smallest = min(smallest, far[shown].min(initial=1.0))
  if target_far:
    axes.axvline(target_far, color="grey", ls="--", lw=1,
                 label=f"target FAR {target_far:g}")
  axes.set_xscale("log")
  axes.set_xlim(min(smallest, target_far or 1), 1)
  plots.finish_roc(figure, axes, title, path)
