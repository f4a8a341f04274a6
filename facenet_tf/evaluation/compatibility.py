"""Compatibility of two models' embeddings (arXiv v3 §7, Fig. 8).

§7 trains a v2 model whose embeddings can be compared with an older v1's,
so a gallery embedded by v1 survives a v2 rollout. Fig. 8 compares three
ROC curves on one pair set:

    v1_v1   both images of a pair embedded by v1
    v2_v2   both by v2
    v1_v2   the first image by v1 (the gallery), the second by v2 (the probe)

Every image is embedded once by each model, at the model's own input size;
each mode's squared L2 distances (paper §2) go through
verification.evaluate (10-fold accuracy, VAL at a target FAR, AUC, EER).
Two independently trained models give v1_v2 at chance; §7's harmonic
training should bring it close to v1_v1.

    v1 = eval_lib.load_embedder(workdir=V1_DIR)
    v2 = eval_lib.load_embedder(workdir=V2_DIR)
    result = compatibility.evaluate_pairs(v1, v2, "lfw/pairsDevTest.txt")
"""
import json
import os
import time

import numpy as np

from facenet_tf.data import eval_input
from facenet_tf.evaluation import eval_lib
from facenet_tf.evaluation import verification

MODES = ("v1_v1", "v2_v2", "v1_v2")
# The (gallery, probe) versions of each mode.
_VERSIONS = {"v1_v1": (0, 0), "v2_v2": (1, 1), "v1_v2": (0, 1)}
# The metrics a compact summary keeps (results.json, TensorBoard).
SUMMARY_KEYS = ("accuracy", "accuracy_std", "val", "val_std", "far",
                "target_far", "auc", "eer")


def mode_distances(v1_emb, v2_emb, first, second):
  """Squared L2 distances [num_pairs] of each mode, in a dict by MODES.

  Args:
    v1_emb, v2_emb: float [N, D] embeddings of the same N images.
    first, second: int [num_pairs] indices of each pair's two images.

  Raises:
    ValueError: the two embeddings differ in shape.
  """
  v1_emb, v2_emb = np.asarray(v1_emb), np.asarray(v2_emb)
  if v1_emb.shape != v2_emb.shape:
    raise ValueError(
        f"v1 embeddings {v1_emb.shape} and v2 embeddings {v2_emb.shape} "
        "differ: compatible models embed the same images in the same "
        "dimension.")
  emb = (v1_emb, v2_emb)
  return {mode: np.sum((emb[g][first] - emb[p][second]) ** 2, axis=1)
          for mode, (g, p) in _VERSIONS.items()}


def evaluate_distances(dists, issame, folds, target_far=1e-3):
  """verification.evaluate's dict for each mode of `dists` (mode_distances)."""
  return {mode: verification.evaluate(dists[mode], issame, folds, target_far)
          for mode in MODES}


def evaluate_compatibility(v1_emb, v2_emb, first, second, issame, folds,
                           target_far=1e-3):
  """verification.evaluate's dict for each mode: {v1_v1, v2_v2, v1_v2}.

  Args:
    v1_emb, v2_emb: float [N, D] embeddings of the same N images.
    first, second: int [num_pairs] indices of each pair's two images; in
      v1_v2 the first is embedded by v1 (gallery), the second by v2 (probe).
    issame: bool [num_pairs].
    folds: int [num_pairs] fold ids (thresholds chosen on the other folds).
    target_far: the FAR of the reported VAL (paper §5.1: 1e-3).
  """
  return evaluate_distances(mode_distances(v1_emb, v2_emb, first, second),
                            issame, folds, target_far)


def summary(result):
  """A mode's result reduced to SUMMARY_KEYS."""
  return {key: result[key] for key in SUMMARY_KEYS}


def evaluate_pairs(v1, v2, pairs_file, images_dir=None,
                   crop_fraction=None, flip=False,
                   target_far=1e-3, batch_size=64, output_dir=None,
                   progress=True, jpeg_quality=None, degrade_pixels=None):
  """The three modes on the pairs of an LFW-format `pairs_file`.

  Args:
    v1: the gallery model, an eval_lib.Embedder.
    v2: the probe model, an eval_lib.Embedder.
    pairs_file, images_dir, crop_fraction, flip, target_far, batch_size,
      progress, jpeg_quality, degrade_pixels: as in eval_lib.evaluate_pairs.
    output_dir: if set, writes `<stem>_compatibility.json` and the three
      ROC curves as `<stem>_compatibility_roc.png`.

  Returns:
    {v1_v1, v2_v2, v1_v2}: verification.evaluate dicts; plus v1_model,
    v2_model, pairs_file, fold_source, num_images, crop_fraction, flip,
    jpeg_quality, degrade_pixels, seconds and files (the paths written).

  Raises:
    eval_lib.InputError: a malformed pairs file, an undecodable image, or
      models of different embedding sizes.
    FileNotFoundError: naming the first missing image.
    ValueError: jpeg_quality or degrade_pixels out of range.
  """
  started = time.time()
  eval_input.check_degradation(jpeg_quality, degrade_pixels)
  paths, first, second, issame, folds, fold_source = eval_lib.pair_index(
      pairs_file, images_dir)
  if crop_fraction is None:
    crop_fraction = eval_lib.default_crop_fraction(
        os.path.dirname(os.path.dirname(paths[0])))
  # Each image once per model, at that model's input size.
  emb = [eval_lib.embed_files(m.embed, paths, tuple(m.image_size),
                              crop_fraction, batch_size, flip, progress,
                              jpeg_quality, degrade_pixels) for m in (v1, v2)]
  try:
    dists = mode_distances(emb[0], emb[1], first, second)
  except ValueError as error:
    raise eval_lib.InputError(str(error)) from None
  result = evaluate_distances(dists, issame, folds, target_far)
  result.update({
      "v1_model": v1.source, "v2_model": v2.source,
      "pairs_file": os.path.abspath(pairs_file), "fold_source": fold_source,
      "num_images": len(paths), "crop_fraction": crop_fraction, "flip": flip,
      "jpeg_quality": jpeg_quality, "degrade_pixels": degrade_pixels or None,
      "seconds": round(time.time() - started, 1), "files": []})
  if output_dir:
    result["files"] = _write_outputs(result, dists, issame, output_dir,
                                     os.path.splitext(
                                         os.path.basename(pairs_file))[0])
  return result


def _write_outputs(result, dists, issame, output_dir, stem):
  """Writes the JSON and the Fig. 8-style ROC PNG; returns their paths."""
  # matplotlib is the `eval` extra: training imports this module without it.
  from facenet_tf.evaluation import compatibility_plot  # pylint: disable=g-import-not-at-top
  os.makedirs(output_dir, exist_ok=True)
  json_path = os.path.join(output_dir, f"{stem}_compatibility.json")
  roc_path = os.path.join(output_dir, f"{stem}_compatibility_roc.png")
  compatibility_plot.plot_compatibility_roc(
      dists, issame, roc_path, result["v1_v1"]["target_far"],
      f"{stem}: v1 gallery, v2 probes (FaceNet §7, Fig. 8)")
  files = [json_path, roc_path]
  with open(json_path, "w") as f:
    json.dump({**result, "files": files}, f, indent=2)
  return files
