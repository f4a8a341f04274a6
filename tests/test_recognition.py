"""k-NN identification: chunked search vs brute force, closed and open set."""
import numpy as np
import pytest

from facenet_tf.evaluation import recognition


def _brute_force(probes, gallery, k):
  """Distances in float64, sorted by (distance, gallery index)."""
  d = ((probes[:, np.newaxis, :].astype(np.float64) - gallery) ** 2).sum(-1)
  order = np.array([np.lexsort((np.arange(len(row)), row))[:k] for row in d])
  return np.take_along_axis(d, order, axis=1), order


def _unit(rng, n, dim):
  x = rng.standard_normal((n, dim)).astype(np.float32)
  return x / np.linalg.norm(x, axis=1, keepdims=True)


@pytest.mark.unit
@pytest.mark.parametrize("probe_chunk,gallery_chunk", [(8, 100), (1024, 16384),
                                                       (5, 3)])
def test_search_matches_brute_force(probe_chunk, gallery_chunk):
  rng = np.random.default_rng(0)
  probes, gallery = _unit(rng, 37, 16), _unit(rng, 1000, 16)
  d, i = recognition.nearest_neighbours(probes, gallery, 7, probe_chunk,
                                        gallery_chunk)
  want_d, want_i = _brute_force(probes, gallery, 7)
  assert d.dtype == np.float32 and i.dtype == np.int64 and d.shape == (37, 7)
  np.testing.assert_allclose(d, want_d, atol=1e-5)
  np.testing.assert_array_equal(i, want_i)


@pytest.mark.unit
def test_ties_keep_the_lower_gallery_index_across_chunks():
  # Small integers: every distance is exact in float32, so ties are exact.
  # 4 distinct rows repeated 30 times: each probe has blocks of equal
  # distances spread over many gallery chunks of 7.
  rng = np.random.default_rng(1)
  base = rng.integers(-2, 3, size=(4, 6)).astype(np.float32)
  gallery = base[rng.integers(0, 4, size=120)]
  probes = rng.integers(-2, 3, size=(9, 6)).astype(np.float32)
  for k in (1, 5, 40, 120):
    d, i = recognition.nearest_neighbours(probes, gallery, k, 4, 7)
    want_d, want_i = _brute_force(probes, gallery, k)
    np.testing.assert_array_equal(d, want_d)
    np.testing.assert_array_equal(i, want_i)


@pytest.mark.unit
def test_search_argument_errors():
  rng = np.random.default_rng(2)
  gallery = _unit(rng, 5, 4)
  with pytest.raises(ValueError, match="k = 6 .* gallery of 5"):
    recognition.nearest_neighbours(gallery, gallery, 6)
  with pytest.raises(ValueError, match="k = 0"):
    recognition.nearest_neighbours(gallery, gallery, 0)
  with pytest.raises(ValueError, match="same D"):
    recognition.nearest_neighbours(_unit(rng, 2, 3), gallery, 1)


@pytest.mark.unit
def test_identification_rates_by_hand():
  # 1-D points. Gallery: A at 0, B at 1, C at 3. Probes (label, position):
  # A at 0.2 -> nearest A (rank 1); B at 2.2 -> C (0.64) then B (1.44):
  # rank 2; A at 2.9 -> C, B, A: rank 3.
  gallery = np.array([[0.0], [1.0], [3.0]], np.float32)
  probes = np.array([[0.2], [2.2], [2.9]], np.float32)
  rates = recognition.identification_rates(
      gallery, ["A", "B", "C"], probes, ["A", "B", "A"], ranks=(1, 2, 5))
  # Rank 5 > gallery size: every gallery image is counted.
  assert rates == pytest.approx({1: 1 / 3, 2: 2 / 3, 5: 1.0})


@pytest.mark.unit
def test_open_set_dir_far_and_sweep_by_hand():
  known_d = np.array([0.2, 0.5, 0.9, 1.5])
  correct = np.array([True, False, True, True])
  unknown_d = np.array([0.4, 1.0, 1.2, 2.0])
  # Threshold 1.0: known accepted 0.2 (right), 0.5 (wrong), 0.9 (right):
  # DIR = 2/4; unknown accepted 0.4 and 1.0 (<=): FAR = 2/4.
  r = recognition.open_set(known_d, correct, unknown_d, 1.0)
  assert r == {"threshold": 1.0, "dir": 0.5, "far": 0.5}
  assert recognition.open_set(known_d, correct, [], 1.0)["far"] is None
  # FAR <= 0.25 allows 1 of 4 unknowns: threshold below 1.0, so DIR counts
  # right probes < 1.0: 0.2 and 0.9 -> 0.5. FAR 0: below 0.4 -> 0.2 -> 0.25.
  # FAR 1: every right probe -> 0.75.
  assert recognition.dir_at_far(known_d, correct, unknown_d, 0.25) == 0.5
  assert recognition.dir_at_far(known_d, correct, unknown_d, 0.0) == 0.25
  assert recognition.dir_at_far(known_d, correct, unknown_d, 1.0) == 0.75
  # At 1.5: right probes 0.2, 0.9, 1.5; unknowns 0.4, 1.0, 1.2.
  dir_, far = recognition.open_set_sweep(known_d, correct, unknown_d,
                                         [0.1, 1.0, 1.5])
  np.testing.assert_allclose(dir_, [0.0, 0.5, 0.75])
  np.testing.assert_allclose(far, [0.0, 0.5, 0.75])


@pytest.mark.unit
def test_split_gallery_probes():
  # Identity 0: 3 images, 1: 1 image (too few), 2: 4 images, 3: 2 images.
  labels = np.array([0, 0, 0, 1, 2, 2, 2, 2, 3, 3])
  gallery, known, unknown, skipped = recognition.split_gallery_probes(
      labels, gallery_per_identity=2)
  np.testing.assert_array_equal(gallery, [0, 1, 4, 5])
  np.testing.assert_array_equal(known, [2, 6, 7])
  assert unknown.size == 0 and skipped == 2  # identities 1 and 3
  gallery, known, unknown, _ = recognition.split_gallery_probes(
      labels, 1, unknown_fraction=0.5, seed=3)
  unknown_ids = set(labels[unknown])
  assert len(unknown_ids) == 2 and not unknown_ids & set(labels[gallery])
  assert set(labels[known]) <= set(labels[gallery])
  with pytest.raises(ValueError, match="nothing is left to probe"):
    recognition.split_gallery_probes(labels, gallery_per_identity=4)


@pytest.mark.unit
def test_evaluate_on_separable_identities():
  # 6 identities x 5 images tight around far-apart centres: perfect
  # closed set; unknown probes are far from every gallery image.
  rng = np.random.default_rng(4)
  centres = np.eye(6, 16, dtype=np.float32)
  x = np.repeat(centres, 5, axis=0) + 0.01 * rng.standard_normal((30, 16))
  x = (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)
  labels = np.repeat(np.arange(6), 5)
  r = recognition.evaluate(x, labels, unknown_fraction=1 / 3, threshold=1.0)
  assert r["identification_rate"] == {1: 1.0, 5: 1.0}
  assert r["open_set"]["dir"] == 1.0 and r["open_set"]["far"] == 0.0
  assert r["open_set"]["dir_at_far"] == {0.01: 1.0, 0.1: 1.0}
  assert (r["gallery"], r["known_probes"], r["unknown_probes"]) == (4, 16, 10)
  assert r["identities"] == 6 and r["skipped_identities"] == 0
