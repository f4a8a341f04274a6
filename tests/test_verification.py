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
