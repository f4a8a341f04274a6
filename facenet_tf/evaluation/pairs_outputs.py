"""facenet-eval --output_dir: a pairs result as JSON, with its plots.

    <stem>_verification.json, <stem>_roc.png, <stem>_distances.png
    <stem>_compatibility.json, <stem>_compatibility_roc.png   (§7, Fig. 8)

<stem> is the pairs file's name. matplotlib is the `eval` extra: the pairs
evaluator imports this module only when it writes files, so training and
calibration, which score through the evaluator, do not need it.
"""
import json
import os

import numpy as np

from facenet_tf.evaluation import compatibility_plot
from facenet_tf.evaluation import plots
from facenet_tf.evaluation import roc


def _write_json(result, path, files):
  with open(path, "w") as f:
    json.dump({**result, "files": files}, f, indent=2)


def write_verification(result, dist, issame, output_dir, stem):
  """Writes the JSON, the ROC and the distance histograms; their paths."""
  os.makedirs(output_dir, exist_ok=True)
  json_path = os.path.join(output_dir, f"{stem}_verification.json")
  roc_path = os.path.join(output_dir, f"{stem}_roc.png")
  hist_path = os.path.join(output_dir, f"{stem}_distances.png")
  files = [json_path, roc_path, hist_path]
  _, far, tpr = roc.roc_curve(dist, issame)
  title = (f"{stem}: accuracy {result['accuracy']:.3f}, AUC "
           f"{result['auc']:.3f}, EER {result['eer']:.3f}")
  plots.plot_roc(far, tpr, roc_path, result["target_far"], title)
  # Each fold has its own thresholds; their means summarise them.
  plots.plot_distance_histogram(
      dist, issame, hist_path,
      np.mean([f["threshold"] for f in result["folds"]]),
      np.mean([f["val_threshold"] for f in result["folds"]]), stem)
  _write_json(result, json_path, files)
  return files


def write_compatibility(result, dists, issame, output_dir, stem):
  """Writes the JSON and the three modes' ROC curves; their paths."""
  os.makedirs(output_dir, exist_ok=True)
  json_path = os.path.join(output_dir, f"{stem}_compatibility.json")
  roc_path = os.path.join(output_dir, f"{stem}_compatibility_roc.png")
  compatibility_plot.plot_compatibility_roc(
      dists, issame, roc_path, result["v1_v1"]["target_far"],
      f"{stem}: v1 gallery, v2 probes (FaceNet §7, Fig. 8)")
  files = [json_path, roc_path]
  _write_json(result, json_path, files)
  return files
