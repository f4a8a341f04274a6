"""ROC curve, AUC and equal error rate from pair distances (paper §5.1).

A pair is accepted as "same" when its distance is <= a threshold, so the
ROC is traced by sweeping the threshold over every distinct distance: no
grid, no interpolation of thresholds. TPR is the paper's VAL(d) and FAR its
FAR(d) (§5.1). AUC and EER are threshold-free summaries of the curve, so
they are computed on all pairs at once, not per fold.
"""
import numpy as np


def check_pairs(dist, issame):
  """(dist float64, issame bool) 1-D arrays, with both kinds of pair present.

  Raises:
    ValueError: unequal or non 1-D shapes, a non-finite distance (a NaN
      embedding would otherwise sort silently), or no same or no different
      pair (TPR or FAR would be 0 / 0).
  """
  dist = np.asarray(dist, np.float64)
  issame = np.asarray(issame, bool)
  if dist.shape != issame.shape or dist.ndim != 1:
    raise ValueError(f"dist and issame must be equal-length 1-D arrays, got "
                     f"{dist.shape} and {issame.shape}.")
  if not np.all(np.isfinite(dist)):
    raise ValueError(f"{np.sum(~np.isfinite(dist))} distances are not finite.")
  if issame.all() or not issame.any():
    raise ValueError(f"Need same and different pairs, got {issame.sum()} same "
                     f"and {np.sum(~issame)} different.")
  return dist, issame


def roc_curve(dist, issame):
  """The ROC at every distinct distance.

  Point 0 accepts nothing (threshold -inf: FAR = TPR = 0); point k >= 1
  accepts every pair with distance <= the k-th smallest distinct distance,
  so tied distances enter together and the last point is (1, 1). This is
  scikit-learn's `roc_curve(issame, -dist, drop_intermediate=False)`, with
  thresholds negated.

  Returns:
    (thresholds, far, tpr): float64 arrays of length (distinct distances + 1);
    thresholds ascending, far and tpr non-decreasing.
  """
  dist, issame = check_pairs(dist, issame)
  order = np.argsort(dist, kind="stable")
  d, same = dist[order], issame[order]
  last_of_value = np.append(d[1:] != d[:-1], True)
  true_accepts = np.cumsum(same)[last_of_value]
  false_accepts = np.cumsum(~same)[last_of_value]
  thresholds = np.concatenate([[-np.inf], d[last_of_value]])
  far = np.concatenate([[0.0], false_accepts / np.sum(~same)])
  tpr = np.concatenate([[0.0], true_accepts / np.sum(same)])
  return thresholds, far, tpr


def auc(far, tpr):
  """Area under the ROC (trapezoid rule), the points in curve order.

  A run of tied distances is one straight segment, which counts a tied
  (same, different) couple as half right: the Mann-Whitney statistic.
  """
  far, tpr = np.asarray(far, np.float64), np.asarray(tpr, np.float64)
  return float(np.sum(np.diff(far) * (tpr[1:] + tpr[:-1]) / 2))


def equal_error_rate(far, tpr):
  """The rate where FAR equals the false reject rate 1 - TPR.

  g = FAR - (1 - TPR) never decreases along the curve, from -1 at (0, 0) to
  1 at (1, 1). If a ROC point has g = 0, its FAR is the EER. Otherwise the
  crossing lies on the segment between the last point with g < 0 and the
  first with g > 0, and the EER is read off that segment by linear
  interpolation: the error rate of a randomised choice between the two
  neighbouring thresholds, where FAR and 1 - TPR are exactly equal. It
  needs no root finder on an interpolated FAR -> TPR function (as
  davidsandberg/facenet's `brentq`), which is ill-defined where the curve is
  vertical (several points with the same FAR).
  """
  far, tpr = np.asarray(far, np.float64), np.asarray(tpr, np.float64)
  g = far + tpr - 1
  i = int(np.argmax(g >= 0))
  if g[i] == 0 or i == 0:
    return float(far[i])
  s = -g[i - 1] / (g[i] - g[i - 1])
  return float(far[i - 1] + s * (far[i] - far[i - 1]))
