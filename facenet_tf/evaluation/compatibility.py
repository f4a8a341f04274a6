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
    evaluator = pairs_evaluator.PairsEvaluator("lfw/pairsDevTest.txt")
    result = evaluator.evaluate(v2, gallery=v1)   # this module's modes

This module scores embeddings (NumPy only); the pairs evaluator embeds.
"""
import numpy as np

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
