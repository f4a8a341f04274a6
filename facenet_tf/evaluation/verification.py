"""Face verification by k-fold threshold selection (paper §5.1; the LFW protocol).

A pair is predicted "same" when its distance is <= the threshold. For each
fold the threshold is chosen on the other folds, over every distinct distance
(no grid), and applied to the held-out fold: accuracy and VAL are means over
the held-out folds (LFW README §2c: train on 9 sets, test on the 10th).

VAL at a target FAR (§5.1): on the training folds, the largest threshold
whose FAR is <= the target; its VAL and FAR are then measured on the held-out
fold. The FAR achieved there is reported beside the target because a small
fold cannot hit it exactly: LFW View 2 has 300 different pairs per fold, so
test FAR moves in steps of 1/300 = 3.3e-3, and FAR <= 1e-3 on a test fold
means no false accept at all (while the 2,700 training pairs allow 2).
"""
import numpy as np

from facenet_tf.evaluation import roc


def best_threshold(dist, issame):
  """The threshold with the most correct predictions on (dist, issame).

  Every split between two consecutive distinct distances is tried (and "all
  different"); the threshold is the midpoint of the winning gap, so it does
  not sit on a training distance. Ties go to the smallest threshold.
  """
  dist = np.asarray(dist, np.float64)
  issame = np.asarray(issame, bool)
  if dist.shape != issame.shape or dist.ndim != 1 or not dist.size:
    raise ValueError(f"dist and issame must be equal-length 1-D arrays, got "
                     f"{dist.shape} and {issame.shape}.")
  order = np.argsort(dist, kind="stable")
  d, same = dist[order], issame[order]
  # Correct predictions with the threshold just after position i:
  # same pairs at <= i plus different pairs after i.
  correct = np.cumsum(same) + (np.sum(~same) - np.cumsum(~same))
  last_of_value = np.append(d[1:] != d[:-1], True)  # split only between values
  correct = np.where(last_of_value, correct, -1)
  i = int(np.argmax(correct))
  if np.sum(~same) >= correct[i]:  # predicting "all different" is as good
    return float(d[0]) - 1.0
  return float((d[i] + d[i + 1]) / 2) if i + 1 < d.size else float(d[i]) + 1.0


def accuracy(dist, issame, threshold):
  return float(np.mean((np.asarray(dist) <= threshold) == np.asarray(issame)))


def _fold_arrays(dist, issame, folds):
  """(dist, issame, folds, fold ids) as arrays; at least 2 folds."""
  dist, issame, folds = (np.asarray(dist), np.asarray(issame, bool),
                         np.asarray(folds))
  fold_ids = np.unique(folds)
  if fold_ids.size < 2:
    raise ValueError("k-fold verification needs at least 2 folds.")
  return dist, issame, folds, fold_ids


def check_folds(issame, folds):
  """Raises ValueError unless k-fold verification can score these pairs.

  Each fold's thresholds are chosen on the other folds and its accuracy,
  VAL and FAR measured on it (§5.1), so there must be >= 2 folds and every
  fold needs same pairs (its VAL) and different pairs (its FAR). Pairs
  files are checked with this before any image is embedded
  (pairs_evaluator), so a file too small for its folds is refused at the
  start of a run, not after it.
  """
  issame, folds = np.asarray(issame, bool), np.asarray(folds)
  fold_ids = np.unique(folds)
  if fold_ids.size < 2:
    raise ValueError(f"k-fold verification needs at least 2 folds, got "
                     f"{fold_ids.size}.")
  for f in fold_ids:
    in_fold = issame[folds == f]
    same = int(in_fold.sum())
    if same in (0, in_fold.size):
      raise ValueError(
          f"Fold {f} needs same and different pairs for VAL and FAR; it has "
          f"{same} same of {in_fold.size} (each of the {fold_ids.size} "
          "folds needs both).")


def kfold_accuracy(dist, issame, folds):
  """Accuracy with thresholds chosen on the other folds (LFW View 2, §5.1).

  Returns a dict: accuracy (mean over folds), accuracy_std, and per fold its
  threshold and accuracy.
  """
  dist, issame, folds, fold_ids = _fold_arrays(dist, issame, folds)
  per_fold = []
  for f in fold_ids:
    test = folds == f
    t = best_threshold(dist[~test], issame[~test])
    per_fold.append({"fold": int(f), "threshold": t,
                     "accuracy": accuracy(dist[test], issame[test], t)})
  accs = [r["accuracy"] for r in per_fold]
  return {"accuracy": float(np.mean(accs)), "accuracy_std": float(np.std(accs)),
          "folds": per_fold}


def val_threshold(dist, issame, target_far):
  """The largest threshold whose FAR on (dist, issame) is <= target_far.

  Every distinct distance d is tried (accept dist <= d). FAR only grows with
  d, so the qualifying ones are the smallest few; of the largest, d_k, the
  threshold is the midpoint of the gap to the next distance (as in
  best_threshold: every value in the gap has the same training FAR, and the
  midpoint does not sit on a training distance). When even the smallest
  distance is a different pair with 1 / (different pairs) > target_far,
  nothing qualifies: the threshold lies below every distance and VAL is 0,
  which is then the right answer. (davidsandberg/facenet's `calculate_val`
  interpolated a threshold grid and fell back to threshold 0 whenever the
  grid's largest FAR was below the target, giving VAL ~ 0 for a model that
  separates perfectly: his issue #1111.)
  """
  thresholds, far, _ = roc.roc_curve(dist, issame)
  k = int(np.flatnonzero(far <= target_far)[-1])  # far[0] = 0 qualifies
  if k == 0:
    return float(thresholds[1]) - 1.0
  if k == thresholds.size - 1:
    return float(thresholds[k]) + 1.0
  return float((thresholds[k] + thresholds[k + 1]) / 2)


def val_far(dist, issame, threshold):
  """(VAL, FAR) at `threshold` (§5.1): the accepted fractions of the same and
  of the different pairs; accepted means dist <= threshold."""
  dist, issame = roc.check_pairs(dist, issame)
  accepted = dist <= threshold
  return float(np.mean(accepted[issame])), float(np.mean(accepted[~issame]))


def kfold_val(dist, issame, folds, target_far=1e-3):
  """VAL at `target_far`, thresholds chosen on the other folds (§5.1).

  Returns a dict: val and val_std (over the held-out folds), far and far_std
  (the FAR achieved on them), target_far, and per fold its val_threshold,
  val and far.

  Raises:
    ValueError: a fold without same or without different pairs.
  """
  dist, issame, folds, fold_ids = _fold_arrays(dist, issame, folds)
  check_folds(issame, folds)
  per_fold = []
  for f in fold_ids:
    test = folds == f
    t = val_threshold(dist[~test], issame[~test], target_far)
    val, far = val_far(dist[test], issame[test], t)
    per_fold.append({"fold": int(f), "val_threshold": t, "val": val,
                     "far": far})
  vals = [r["val"] for r in per_fold]
  fars = [r["far"] for r in per_fold]
  return {"val": float(np.mean(vals)), "val_std": float(np.std(vals)),
          "far": float(np.mean(fars)), "far_std": float(np.std(fars)),
          "target_far": float(target_far), "folds": per_fold}


def evaluate(dist, issame, folds, target_far=1e-3):
  """Every verification metric of (dist, issame) under the k-fold protocol.

  Returns one dict: accuracy, accuracy_std (kfold_accuracy); val, val_std,
  far, far_std, target_far (kfold_val); auc, eer (roc, on all pairs);
  num_pairs, num_same, num_different; folds, a list of per-fold dicts with
  fold, threshold, accuracy, val_threshold, val and far.
  """
  dist, issame = roc.check_pairs(dist, issame)
  accuracy_result = kfold_accuracy(dist, issame, folds)
  val_result = kfold_val(dist, issame, folds, target_far)
  _, far, tpr = roc.roc_curve(dist, issame)
  per_fold = [{**a, **v} for a, v in zip(accuracy_result["folds"],
                                          val_result["folds"])]
  return {
      "accuracy": accuracy_result["accuracy"],
      "accuracy_std": accuracy_result["accuracy_std"],
      **{k: val_result[k] for k in ("val", "val_std", "far", "far_std",
                                    "target_far")},
      "auc": roc.auc(far, tpr),
      "eer": roc.equal_error_rate(far, tpr),
      "num_pairs": int(dist.size),
      "num_same": int(issame.sum()),
      "num_different": int(np.sum(~issame)),
      "folds": per_fold,
  }


def make_pairs(labels, num_folds=10, pairs_per_fold=300, seed=0):
  """Same/different pairs from labelled images, LFW-style (folds share no identity).

  Identities are dealt to folds round-robin; each fold gets `pairs_per_fold`
  distinct same-identity pairs and as many different-identity pairs.
  Returns (first, second, issame, fold) index arrays into `labels`.
  """
  labels = np.asarray(labels)
  rng = np.random.default_rng(seed)
  identities = np.unique(labels)
  out = []
  for f in range(num_folds):
    members = np.flatnonzero(np.isin(labels, identities[f::num_folds]))
    i, j = np.triu_indices(members.size, k=1)
    i, j = members[i], members[j]
    same = labels[i] == labels[j]
    for want in (True, False):
      candidates = np.flatnonzero(same == want)
      if candidates.size < pairs_per_fold:
        raise ValueError(
            f"Fold {f} has {candidates.size} {'same' if want else 'different'}"
            f"-identity pairs; {pairs_per_fold} were asked for. Use more "
            "identities or images per identity, or fewer pairs.")
      pick = rng.choice(candidates, pairs_per_fold, replace=False)
      out.append((i[pick], j[pick], np.full(pairs_per_fold, want),
                  np.full(pairs_per_fold, f)))
  return tuple(np.concatenate(col) for col in zip(*out))
