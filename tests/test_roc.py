"""ROC over every distinct distance, AUC and EER: by hand, against sklearn."""
import numpy as np
import pytest
from sklearn import metrics

from facenet_tf.evaluation import roc


@pytest.mark.unit
def test_roc_auc_eer_by_hand():
  """Sorted: 1 S, 2 D, 3 S, 4 S, 5 D (3 same, 2 different).

  Accepting dist <= 1, 2, 3, 4, 5 gives (FAR, TPR) = (0, 1/3), (1/2, 1/3),
  (1/2, 2/3), (1/2, 1), (1, 1) after (0, 0). AUC: the segment from (0, 1/3)
  to (1/2, 1/3) adds 1/6, the one from (1/2, 1) to (1, 1) adds 1/2: 2/3,
  the fraction of (same, different) couples ordered right (4 of 6).
  EER: FAR + TPR - 1 is -1/6 at (1/2, 1/3) and +1/6 at (1/2, 2/3); halfway
  is (1/2, 1/2), where FAR = 1 - TPR = 1/2.
  """
  thresholds, far, tpr = roc.roc_curve([3, 1, 5, 2, 4],
                                       [True, True, False, False, True])
  np.testing.assert_array_equal(thresholds, [-np.inf, 1, 2, 3, 4, 5])
  np.testing.assert_allclose(far, [0, 0, .5, .5, .5, 1])
  np.testing.assert_allclose(tpr, [0, 1 / 3, 1 / 3, 2 / 3, 1, 1])
  assert roc.auc(far, tpr) == pytest.approx(2 / 3)
  assert roc.equal_error_rate(far, tpr) == pytest.approx(0.5)


@pytest.mark.unit
def test_tied_distances_enter_together():
  """1 S, then a same and a different pair both at 2, then 3 D.

  Points: (0, 0), (0, 1/2), (1/2, 1) (the tie: one diagonal step), (1, 1).
  AUC = 1/2 * 3/4 + 1/2 = 7/8: the tied couple counts half (3.5 of 4).
  EER: on the diagonal step FAR = s/2 and 1 - TPR = (1 - s)/2 meet at
  s = 1/2: EER = 1/4, between the two ROC points, not on either.
  """
  thresholds, far, tpr = roc.roc_curve([1, 2, 2, 3],
                                       [True, True, False, False])
  np.testing.assert_array_equal(thresholds, [-np.inf, 1, 2, 3])
  np.testing.assert_allclose(far, [0, 0, .5, 1])
  np.testing.assert_allclose(tpr, [0, .5, 1, 1])
  assert roc.auc(far, tpr) == pytest.approx(7 / 8)
  assert roc.equal_error_rate(far, tpr) == pytest.approx(0.25)


@pytest.mark.unit
def test_eer_on_a_roc_point():
  """1 S, 2 D, 3 S, 4 D: at dist <= 2, FAR = 1/2 and TPR = 1/2 exactly."""
  _, far, tpr = roc.roc_curve([1, 2, 3, 4], [True, False, True, False])
  assert roc.equal_error_rate(far, tpr) == pytest.approx(0.5)
  assert roc.auc(far, tpr) == pytest.approx(0.75)


@pytest.mark.unit
@pytest.mark.parametrize("decimals", [2, 8])
def test_matches_sklearn_on_random_data(decimals):
  """sklearn takes scores (larger = positive): -dist. 2 decimals makes ties."""
  rng = np.random.default_rng(decimals)
  issame = rng.random(600) < 0.5
  dist = np.round(rng.normal(np.where(issame, 0.8, 1.4), 0.3), decimals)
  thresholds, far, tpr = roc.roc_curve(dist, issame)
  sk_far, sk_tpr, sk_thresholds = metrics.roc_curve(
      issame, -dist, drop_intermediate=False)
  np.testing.assert_allclose(far, sk_far)
  np.testing.assert_allclose(tpr, sk_tpr)
  np.testing.assert_allclose(thresholds, -sk_thresholds)
  assert roc.auc(far, tpr) == pytest.approx(metrics.auc(sk_far, sk_tpr))
  assert roc.auc(far, tpr) == pytest.approx(
      metrics.roc_auc_score(issame, -dist))


@pytest.mark.unit
def test_eer_is_the_minimum_of_the_larger_error_along_the_curve():
  """Independent check: along the piecewise-linear ROC, FAR grows and
  1 - TPR falls, so max(FAR, 1 - TPR) is smallest where they cross."""
  rng = np.random.default_rng(1)
  issame = rng.random(300) < 0.4
  dist = np.round(rng.normal(np.where(issame, 0.8, 1.2), 0.3), 2)
  _, far, tpr = roc.roc_curve(dist, issame)
  s = np.linspace(0, 1, 2001)[:, None]
  dense_far = far[:-1] + s * np.diff(far)
  dense_frr = 1 - (tpr[:-1] + s * np.diff(tpr))
  expected = np.min(np.maximum(dense_far, dense_frr))
  assert roc.equal_error_rate(far, tpr) == pytest.approx(expected, abs=1e-3)


@pytest.mark.unit
def test_perfect_and_reversed_separation():
  issame = [True, True, False, False]
  _, far, tpr = roc.roc_curve([0.1, 0.2, 0.3, 0.4], issame)
  assert roc.auc(far, tpr) == 1.0 and roc.equal_error_rate(far, tpr) == 0.0
  _, far, tpr = roc.roc_curve([0.4, 0.3, 0.2, 0.1], issame)
  assert roc.auc(far, tpr) == 0.0 and roc.equal_error_rate(far, tpr) == 1.0


@pytest.mark.unit
@pytest.mark.parametrize("dist, issame, message", [
    ([0.1, np.nan], [True, False], "not finite"),
    ([0.1, 0.2], [True, True], "same and different"),
    ([0.1, 0.2], [True], "equal-length"),
])
def test_bad_input_is_refused(dist, issame, message):
  with pytest.raises(ValueError, match=message):
    roc.roc_curve(dist, issame)
