"""Face verification by k-fold threshold selection (paper §5.1; the LFW protocol).

A pair is predicted "same" when its distance is <= the threshold. For each
fold the threshold is chosen on the other folds, over every distinct distance
(no grid), and applied to the held-out fold: accuracy is the mean over folds.
"""
import numpy as np


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


def kfold_accuracy(dist, issame, folds):
  """Accuracy with thresholds chosen on the other folds (LFW View 2, §5.1).

  Returns a dict: accuracy (mean over folds), accuracy_std, and per fold its
  threshold and accuracy.
  """
  dist, issame, folds = (np.asarray(dist), np.asarray(issame, bool),
                         np.asarray(folds))
  fold_ids = np.unique(folds)
  if fold_ids.size < 2:
    raise ValueError("k-fold verification needs at least 2 folds.")
  per_fold = []
  for f in fold_ids:
    test = folds == f
    t = best_threshold(dist[~test], issame[~test])
    per_fold.append({"fold": int(f), "threshold": t,
                     "accuracy": accuracy(dist[test], issame[test], t)})
  accs = [r["accuracy"] for r in per_fold]
  return {"accuracy": float(np.mean(accs)), "accuracy_std": float(np.std(accs)),
          "folds": per_fold}


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
