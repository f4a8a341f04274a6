"""k-fold verification: thresholds over distinct distances, folds, pairs."""
import numpy as np
import pytest

from facenet_tf.evaluation import verification


@pytest.mark.unit
def test_best_threshold_is_the_midpoint_of_the_best_gap():
  # Sorted: 0.1 S, 0.2 S, 0.3 D, 0.4 S, 0.5 D.
  dist = np.array([0.4, 0.1, 0.5, 0.2, 0.3])
  issame = np.array([True, True, False, True, False])
  # Split after 0.2: 2 same below + 2 different above = 4 of 5 (best);
  # after 0.4: 3 same + 1 different = 4 too; ties go to the smaller one.
  assert verification.best_threshold(dist, issame) == pytest.approx(0.25)
  assert verification.accuracy(dist, issame, 0.25) == pytest.approx(0.8)


@pytest.mark.unit
def test_best_threshold_never_splits_equal_distances():
  dist = np.array([0.2, 0.2, 0.2, 0.9])
  issame = np.array([True, False, True, False])
  t = verification.best_threshold(dist, issame)
  # Splitting inside the three 0.2s is impossible: 0.2 | 0.9 gives 3 of 4.
  assert 0.2 < t < 0.9
  assert verification.accuracy(dist, issame, t) == pytest.approx(0.75)


@pytest.mark.unit
def test_all_different_threshold_below_every_distance():
  t = verification.best_threshold([0.3, 0.6], [False, False])
  assert t < 0.3


@pytest.mark.unit
def test_kfold_chooses_each_threshold_on_the_other_folds():
  # Fold 0 alone would pick a threshold near 0.5; folds 1 and 2 near 1.5.
  dist = np.array([0.4, 0.6, 1.4, 1.6, 1.3, 1.4, 1.6, 1.3])
  issame = np.array([True, False, True, False, True, True, False, True])
  folds = np.array([0, 0, 1, 1, 1, 2, 2, 2])
  r = verification.kfold_accuracy(dist, issame, folds)
  # Fold 0 is tested at 1.5 (folds 1-2: 4 same <= 1.4 < 2 different):
  # 0.4 "same" is right, 0.6 "same" is wrong. Folds 1 and 2 are tested at
  # 1.5 too: on folds {0, 2} the split after 1.4 is right 4 times of 5
  # (after 0.4 or 1.3: 3), and it separates their own pairs perfectly.
  assert [f["threshold"] for f in r["folds"]] == pytest.approx([1.5] * 3)
  assert r["folds"][0]["accuracy"] == pytest.approx(0.5)
  assert [f["accuracy"] for f in r["folds"][1:]] == [1.0, 1.0]
  assert r["accuracy"] == pytest.approx(np.mean([0.5, 1.0, 1.0]))
  assert r["accuracy_std"] == pytest.approx(np.std([0.5, 1.0, 1.0]))


@pytest.mark.unit
def test_make_pairs_lfw_style():
  labels = np.repeat(np.arange(40), 5)
  first, second, issame, fold = verification.make_pairs(labels, 10, 8, seed=1)
  assert len(first) == 10 * 16
  np.testing.assert_array_equal(np.bincount(fold), [16] * 10)
  np.testing.assert_array_equal(labels[first] == labels[second], issame)
  assert issame.sum() == 80 and np.all(first != second)
  # Folds share no identity (LFW View 2's folds are disjoint in people).
  ids_by_fold = [set(labels[np.r_[first[fold == f], second[fold == f]]])
                 for f in range(10)]
  assert all(not (a & b) for i, a in enumerate(ids_by_fold)
             for b in ids_by_fold[i + 1:])
  with pytest.raises(ValueError, match="same-identity pairs"):
    verification.make_pairs(labels, 10, 100)


@pytest.mark.unit
@pytest.mark.parametrize("target_far, expected", [
    (0.0, 0.25),   # FAR 0 up to 0.2 (the first different pair is 0.3)
    (0.5, 0.45),   # FAR 1/2 up to 0.4: the largest, not 0.3
    (1.0, 1.5),    # everything: above the largest distance
])
def test_val_threshold_is_the_largest_within_the_target(target_far, expected):
  # Sorted: 0.1 S, 0.2 S, 0.3 D, 0.4 S, 0.5 D.
  dist = np.array([0.4, 0.1, 0.5, 0.2, 0.3])
  issame = np.array([True, True, False, True, False])
  t = verification.val_threshold(dist, issame, target_far)
  assert t == pytest.approx(expected)


@pytest.mark.unit
def test_val_is_zero_only_when_no_threshold_reaches_the_target():
  """Two ways davidsandberg's fallback to threshold 0 could meet VAL.

  Legitimately 0: the smallest distance is a different pair and there are
  100 different pairs, so any accepted pair already gives FAR 1e-2 > 1e-3:
  the threshold must lie below every distance.
  Must not be 0: same pairs at 0.1..0.3, different pairs at 5..6 (beyond a
  0..4 threshold grid, as with unnormalised embeddings): FAR stays 0 up to
  0.3, so the threshold is (0.3 + 5) / 2 and VAL is 1 on every fold.
  """
  dist = np.r_[0.05, np.linspace(0.1, 0.3, 100), np.linspace(5, 6, 99)]
  issame = np.r_[False, np.ones(100, bool), np.zeros(99, bool)]
  t = verification.val_threshold(dist, issame, 1e-3)
  assert t < 0.05
  assert verification.val_far(dist, issame, t) == (0.0, 0.0)

  rng = np.random.default_rng(0)
  folds = np.repeat(np.arange(10), 60)
  issame = np.tile([True, False], 300)
  dist = np.where(issame, rng.uniform(0.1, 0.3, 600), rng.uniform(5, 6, 600))
  r = verification.kfold_val(dist, issame, folds, 1e-3)
  assert r["val"] == 1.0 and r["far"] == 0.0 and r["val_std"] == 0.0
  assert all(0.3 < f["val_threshold"] < 5 for f in r["folds"])


@pytest.mark.unit
@pytest.mark.parametrize("target_far, vals, fars", [
    (0.0, [1, 0, 0], [1, 0, 0]),
    (0.5, [1, 1, 1], [1, 0, 0]),
])
def test_kfold_val_by_hand(target_far, vals, fars):
  """The data of test_kfold_chooses_each_threshold_on_the_other_folds.

  Fold 0 held out: training pairs 1.3 S, 1.3 S, 1.4 S, 1.4 S, 1.6 D, 1.6 D
  give FAR 0 up to 1.4, so the threshold is 1.5 for both targets; fold 0's
  0.4 S and 0.6 D are both accepted: VAL 1, FAR 1.
  Fold 1 (or 2) held out: training 0.4 S, 0.6 D, 1.3 S, 1.4 S, 1.6 D. For
  FAR 0 only 0.4 qualifies: threshold 0.5, nothing of 1.3/1.4 S, 1.6 D is
  accepted (VAL 0). For FAR <= 1/2 the largest is 1.4: threshold 1.5, both
  same pairs accepted and 1.6 D rejected (VAL 1, FAR 0).
  """
  dist = np.array([0.4, 0.6, 1.4, 1.6, 1.3, 1.4, 1.6, 1.3])
  issame = np.array([True, False, True, False, True, True, False, True])
  folds = np.array([0, 0, 1, 1, 1, 2, 2, 2])
  r = verification.kfold_val(dist, issame, folds, target_far)
  assert [f["val"] for f in r["folds"]] == vals
  assert [f["far"] for f in r["folds"]] == fars
  assert r["val"] == pytest.approx(np.mean(vals))
  assert r["val_std"] == pytest.approx(np.std(vals))
  assert r["far"] == pytest.approx(np.mean(fars))
  assert r["folds"][0]["val_threshold"] == pytest.approx(1.5)


@pytest.mark.unit
def test_kfold_val_threshold_rule_on_lfw_sized_folds():
  """10 folds x (300 same + 300 different), ties from rounding: on its 9
  training folds each threshold has FAR <= 1e-3 (at most 2 of 2,700 false
  accepts), and the next distinct distance above it would exceed that."""
  rng = np.random.default_rng(3)
  issame = np.tile(np.repeat([True, False], 300), 10)
  folds = np.repeat(np.arange(10), 600)
  dist = np.round(rng.normal(np.where(issame, 0.8, 1.6), 0.25), 3)
  r = verification.kfold_val(dist, issame, folds, 1e-3)
  for f in r["folds"]:
    train = folds != f["fold"]
    different = dist[train & ~issame]
    t = f["val_threshold"]
    assert np.sum(different <= t) <= 2
    above = np.min(dist[train][dist[train] > t])
    assert np.sum(different <= above) >= 3
    # A test fold has 300 different pairs: FAR moves in steps of 1/300.
    assert f["far"] * 300 == pytest.approx(round(f["far"] * 300))
  assert 0 < r["val"] < 1


@pytest.mark.unit
def test_evaluate_gathers_every_metric():
  rng = np.random.default_rng(4)
  issame = np.tile([True, False], 100)
  folds = np.repeat(np.arange(10), 20)
  dist = rng.normal(np.where(issame, 1.0, 1.5), 0.3)
  r = verification.evaluate(dist, issame, folds, target_far=0.01)
  accuracy = verification.kfold_accuracy(dist, issame, folds)
  val = verification.kfold_val(dist, issame, folds, 0.01)
  assert r["accuracy"] == accuracy["accuracy"] and r["val"] == val["val"]
  assert r["far"] == val["far"] and r["target_far"] == 0.01
  assert (r["num_pairs"], r["num_same"], r["num_different"]) == (200, 100, 100)
  assert 0.5 < r["auc"] < 1 and 0 < r["eer"] < 0.5
  assert len(r["folds"]) == 10
  assert set(r["folds"][0]) == {"fold", "threshold", "accuracy",
                                "val_threshold", "val", "far"}
  with pytest.raises(ValueError, match="Fold 0 needs same and different"):
    verification.evaluate(dist, issame, np.where(issame, 0, 1 + folds % 9))


@pytest.mark.unit
def test_check_folds_wants_both_kinds_in_every_fold():
  """#31 item 6: what a pairs file is checked against before a run."""
  issame = np.array([True, False] * 10)
  verification.check_folds(issame, np.arange(20) // 2)      # 10 folds of 1 + 1
  with pytest.raises(ValueError, match="at least 2 folds, got 1"):
    verification.check_folds(issame, np.zeros(20))
  # View 1's N same then N different, dealt by position (pair i in fold
  # i mod 10): N = 4 leaves fold 0 with one same pair and no different one.
  small = np.array([True] * 4 + [False] * 4)
  with pytest.raises(ValueError, match=r"Fold 0 needs same and different "
                     r"pairs for VAL and FAR; it has 1 same of 1 \(each of "
                     r"the 8 folds"):
    verification.check_folds(small, np.arange(8) % 10)
