"""LFW pair and people lists (View 1 and View 2) and missing-image errors."""
import collections
import os

import numpy as np
import pytest

from facenet_tf.evaluation import lfw_protocol
from tests.conftest import shared_path


@pytest.mark.unit
def test_view2_pairs_ten_folds_of_300_same_and_300_different():
  pairs = lfw_protocol.read_pairs(str(shared_path("data", "lfw", "pairs.txt")))
  assert len(pairs) == 6000
  per_fold = collections.Counter((p.fold, p.issame) for p in pairs)
  assert per_fold == {(f, s): 300 for f in range(10) for s in (True, False)}
  first = pairs[0]  # "Abel_Pacheco	1	4"
  assert first.issame and first.path1.endswith(
      os.path.join("images", "Abel_Pacheco", "Abel_Pacheco_0001.jpg"))
  assert first.path2.endswith("Abel_Pacheco_0004.jpg")
  assert not pairs[300].issame
  assert all(os.path.basename(os.path.dirname(p.path1)) !=
             os.path.basename(os.path.dirname(p.path2))
             for p in pairs if not p.issame)


@pytest.mark.unit
@pytest.mark.parametrize("name, count", [("pairsDevTrain.txt", 2200),
                                         ("pairsDevTest.txt", 1000)])
def test_view1_pairs(name, count):
  pairs = lfw_protocol.read_pairs(str(shared_path("data", "lfw", name)))
  assert len(pairs) == count and {p.fold for p in pairs} == {0}
  assert [p.issame for p in pairs] == [True] * (count // 2) + [False] * (
      count // 2)


@pytest.mark.unit
def test_people_lists():
  lfw = shared_path("data", "lfw")
  people = lfw_protocol.read_people(str(lfw / "people.txt"))
  assert len(people) == 5749 and sum(p.count for p in people) == 13233
  assert sorted({p.fold for p in people}) == list(range(10))
  assert people[0] == ("Abdel_Madi_Shabneh", 1, 0)
  train = lfw_protocol.read_people(str(lfw / "peopleDevTrain.txt"))
  test = lfw_protocol.read_people(str(lfw / "peopleDevTest.txt"))
  assert (len(train), len(test)) == (4038, 1711)
  assert {p.fold for p in train + test} == {0}
  assert not {p.name for p in train} & {p.name for p in test}


@pytest.mark.unit
def test_missing_image_is_named(tmp_path):
  (tmp_path / "pairs.txt").write_text(
      "1\t1\nAnn\t1\t2\nAnn\t1\tBob\t3\n")
  (tmp_path / "images" / "Ann").mkdir(parents=True)
  for name in ("Ann_0001.jpg", "Ann_0002.jpg"):
    (tmp_path / "images" / "Ann" / name).write_bytes(b"")
  with pytest.raises(FileNotFoundError, match="Bob_0003.jpg"):
    lfw_protocol.read_pairs(str(tmp_path / "pairs.txt"))
  pairs = lfw_protocol.read_pairs(str(tmp_path / "pairs.txt"),
                                  check_exists=False)
  paths, index1, index2, issame, fold = lfw_protocol.pair_image_index(pairs)
  assert [os.path.basename(p) for p in paths] == [
      "Ann_0001.jpg", "Ann_0002.jpg", "Bob_0003.jpg"]
  np.testing.assert_array_equal(index1, [0, 0])
  np.testing.assert_array_equal(index2, [1, 2])
  np.testing.assert_array_equal(issame, [True, False])
  np.testing.assert_array_equal(fold, [0, 0])


@pytest.mark.unit
@pytest.mark.parametrize("text, match", [
    ("1\t1\nAnn\t1\t2\n", "implies 2 pairs, found 1"),
    ("1\t1\nAnn\t1\tBob\t2\nAnn\t1\t2\n", ":2: expected a matched pair"),
])
def test_malformed_pairs(tmp_path, text, match):
  (tmp_path / "pairs.txt").write_text(text)
  with pytest.raises(ValueError, match=match):
    lfw_protocol.read_pairs(str(tmp_path / "pairs.txt"), check_exists=False)


@pytest.mark.unit
def test_malformed_people(tmp_path):
  (tmp_path / "people.txt").write_text("2\n1\nAnn\t2\n2\nBob\t1\n")
  with pytest.raises(ValueError, match="fold 1 .* 2 `name count` lines"):
    lfw_protocol.read_people(str(tmp_path / "people.txt"))
