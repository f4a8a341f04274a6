"""Clustering: hand-derived metrics and partitions, brute-force references."""
import csv
import itertools
import os
import subprocess
import sys

import numpy as np
import pytest
from scipy.sparse import csgraph
from sklearn import cluster as sk_cluster
from sklearn import metrics as sk_metrics

from facenet_tf.evaluation import clustering


def _partition(labels):
  """Labels renumbered by first appearance: equal iff the same partition."""
  first = {}
  return [first.setdefault(label, len(first)) for label in labels]


def _unit(rng, n, dim):
  x = rng.standard_normal((n, dim))
  return x / np.linalg.norm(x, axis=1, keepdims=True)


def _squared_distances(x):
  return ((x[:, np.newaxis] - x[np.newaxis]) ** 2).sum(-1)


def _circle(angles):
  return np.stack([np.cos(angles), np.sin(angles)], axis=1)


@pytest.mark.unit
def test_pairwise_scores_by_hand():
  """Identities {0,1,2,3} {4,5}; clusters {0,1,2} {3,4,5}.

  Same-identity pairs: C(4,2) + C(2,2) = 7. Same-cluster pairs: 3 + 3 = 6.
  Both: C(3,2) in {0,1,2} + C(2,2) for {4,5} = 4. Precision 4/6, recall
  4/7, F1 = 2PR / (P + R) = (16/21) / (26/21) = 8/13.
  """
  r = clustering.evaluate([0, 0, 0, 0, 1, 1], [7, 7, 7, 3, 3, 3])
  assert clustering.pair_counts([0, 0, 0, 0, 1, 1], [7, 7, 7, 3, 3, 3]) == (
      4, 6, 7)
  assert r["precision"] == pytest.approx(4 / 6)
  assert r["recall"] == pytest.approx(4 / 7)
  assert r["f1"] == pytest.approx(8 / 13)
  assert (r["num_items"], r["num_clusters"], r["num_identities"]) == (6, 2, 2)


@pytest.mark.unit
def test_nmi_and_degenerate_clusterings_by_hand():
  # The same partition under other names: NMI 1. Clusters independent of
  # identities ([0,0,1,1] vs [0,1,0,1]: each cluster holds half of each
  # identity): mutual information 0, so NMI 0; no same-cluster pair shares
  # an identity, so precision 0 and recall 0.
  assert clustering.evaluate([0, 0, 1, 1, 2], [5, 5, 9, 9, 1])["nmi"] == (
      pytest.approx(1.0))
  r = clustering.evaluate([0, 0, 1, 1], [0, 1, 0, 1])
  assert r["nmi"] == pytest.approx(0.0, abs=1e-12)
  assert (r["precision"], r["recall"], r["f1"]) == (0.0, 0.0, 0.0)
  # All singletons: no predicted pair, so no wrong join (precision 1), but
  # every same-identity pair is missed (recall 0, F1 0).
  r = clustering.evaluate([0, 0, 1], [0, 1, 2])
  assert (r["precision"], r["recall"], r["f1"]) == (1.0, 0.0, 0.0)


@pytest.mark.unit
def test_pair_counts_match_brute_force():
  rng = np.random.default_rng(0)
  truth, found = rng.integers(0, 12, 300), rng.integers(0, 9, 300)
  pairs = list(itertools.combinations(range(300), 2))
  same_id = np.array([truth[i] == truth[j] for i, j in pairs])
  same_cluster = np.array([found[i] == found[j] for i, j in pairs])
  assert clustering.pair_counts(truth, found) == (
      int(np.sum(same_id & same_cluster)), int(same_cluster.sum()),
      int(same_id.sum()))


@pytest.mark.unit
def test_components_chain_where_average_linkage_does_not():
  """Unit vectors at angles 0, 0.9, 1.85, 4.0 rad; d = 2 - 2 cos(gap).

  d(0,1) = 2 - 2 cos 0.9 = 0.757, d(1,2) = 2 - 2 cos 0.95 = 0.837,
  d(0,2) = 2 - 2 cos 1.85 = 2.551, the fourth is > 3 from all. At
  threshold 1: components join 0-1-2 (a chain). Average linkage merges 0
  and 1 (0.757), then {0,1} to 2 is (2.551 + 0.837) / 2 = 1.694 >= 1: stop.
  """
  x = _circle(np.array([0.0, 0.9, 1.85, 4.0]))
  assert _partition(clustering.connected_components(x, 1.0)) == [0, 0, 0, 1]
  assert _partition(clustering.agglomerative(x, 1.0)) == [0, 0, 1, 2]
  assert _partition(clustering.agglomerative(x, num_clusters=2)) == [
      0, 0, 0, 1]


@pytest.mark.unit
@pytest.mark.parametrize("chunk", [7, 16, 4096])
def test_chunked_components_match_the_full_graph(chunk):
  # 300 points in 3-D: many edges at this threshold, so the edge list is
  # compressed to a forest several times when chunked.
  rng = np.random.default_rng(1)
  x = rng.standard_normal((300, 3))
  d = _squared_distances(x)
  _, want = csgraph.connected_components(d < 0.5, directed=False)
  got = clustering.connected_components(x, 0.5, chunk=chunk)
  assert _partition(got) == _partition(want)
  assert 1 < len(set(want)) < 300


@pytest.mark.unit
def test_components_equal_single_linkage():
  # Single linkage cut at t merges exactly along edges d < t. The threshold
  # is the midpoint of a gap in the sorted distances (no float ambiguity).
  rng = np.random.default_rng(2)
  x = _unit(rng, 120, 8)
  d = np.sort(_squared_distances(x)[np.triu_indices(120, 1)])
  t = (d[300] + d[301]) / 2
  single = clustering.agglomerative(x, t, linkage="single")
  assert _partition(clustering.connected_components(x, t)) == _partition(
      single)


@pytest.mark.unit
def test_squared_l2_agglomerative_equals_precomputed_distances():
  rng = np.random.default_rng(3)
  x = _unit(rng, 80, 8)
  want = sk_cluster.AgglomerativeClustering(
      n_clusters=None, distance_threshold=1.6, metric="precomputed",
      linkage="average").fit_predict(_squared_distances(x))
  got = clustering.agglomerative(x, 1.6)
  assert _partition(got) == _partition(want)
  assert 1 < len(set(want)) < 80


@pytest.mark.unit
@pytest.mark.parametrize("linkage", clustering.LINKAGES)
@pytest.mark.parametrize("metric", clustering.METRICS)
def test_agglomerative_equals_scikit_learn(linkage, metric):
  """Two clumpy sets (30 and 150 points in 2-D and 16-D; unit vectors for
  squared_l2): the NumPy nearest-neighbour chain gives scikit-learn's
  partition at three thresholds (quantiles of the pair distances) and at
  three cluster counts."""
  rng = np.random.default_rng(4)
  for count, dim in ((30, 2), (150, 16)):
    centres = rng.standard_normal((8, dim))
    x = centres[rng.integers(0, 8, count)] + 0.4 * rng.standard_normal(
        (count, dim))
    if metric == "squared_l2":
      x /= np.linalg.norm(x, axis=1, keepdims=True)
    unit = x / np.linalg.norm(x, axis=1, keepdims=True)
    pairs = (1 - unit @ unit.T)[np.triu_indices(count, 1)]
    scale = 2 if metric == "squared_l2" else 1
    for q in (0.05, 0.2, 0.5):
      t = scale * np.quantile(pairs, q)
      want = sk_cluster.AgglomerativeClustering(
          n_clusters=None, distance_threshold=t / scale, metric="cosine",
          linkage=linkage).fit_predict(x)
      got = clustering.agglomerative(x, t, metric=metric, linkage=linkage)
      assert _partition(got) == _partition(want), (count, q)
    for k in (1, 5, count // 3):
      want = sk_cluster.AgglomerativeClustering(
          n_clusters=k, metric="cosine", linkage=linkage).fit_predict(x)
      got = clustering.agglomerative(x, num_clusters=k, metric=metric,
                                     linkage=linkage)
      assert _partition(got) == _partition(want), (count, k)


@pytest.mark.unit
def test_metrics_equal_scikit_learn():
  rng = np.random.default_rng(5)
  for items, identities, clusters in ((50, 5, 7), (400, 30, 12), (9, 1, 3),
                                      (9, 3, 1)):
    truth = rng.integers(0, identities, items)
    found = rng.integers(0, clusters, items)
    assert clustering.normalized_mutual_info(truth, found) == pytest.approx(
        sk_metrics.normalized_mutual_info_score(truth, found), abs=1e-12)
  assert clustering.normalized_mutual_info([4, 4], [1, 1]) == 1.0


@pytest.mark.integration
def test_clustering_imports_neither_scipy_nor_scikit_learn():
  """facenet-cluster works after a plain `pip install -e .` (no extra)."""
  code = ("import sys; from facenet_tf.evaluation import clustering; "
          "print(sorted({m.split('.')[0] for m in sys.modules} & "
          "{'scipy', 'sklearn'}))")
  out = subprocess.run([sys.executable, "-c", code], capture_output=True,
                       text=True, check=True)
  assert out.stdout.strip() == "[]"


@pytest.mark.unit
def test_argument_errors():
  x = _circle(np.array([0.0, 1.0]))
  with pytest.raises(ValueError, match="exactly one"):
    clustering.agglomerative(x)
  with pytest.raises(ValueError, match="exactly one"):
    clustering.agglomerative(x, 1.0, 2)
  with pytest.raises(ValueError, match="outside"):
    clustering.agglomerative(x, num_clusters=3)
  with pytest.raises(ValueError, match="unit-norm"):
    clustering.agglomerative(2 * x, 1.0)
  with pytest.raises(ValueError, match="no cluster count"):
    clustering.cluster(x, "components", num_clusters=2)
  with pytest.raises(ValueError, match="Unknown clustering method"):
    clustering.cluster(x, "kmeans", 1.0)
  assert list(clustering.agglomerative(x[:1], 1.0)) == [0]


@pytest.mark.unit
def test_relabel_by_size_and_outputs(tmp_path):
  # Label 2 has 3 items, 5 has 2 and 9 has 1: they become 0, 1 and 2.
  labels = clustering.relabel_by_size([5, 5, 2, 2, 2, 9])
  assert list(labels) == [1, 1, 0, 0, 0, 2]
  images = [tmp_path / "a" / name for name in ("1.pgm", "2.pgm", "3.pgm")]
  for image in images:
    image.parent.mkdir(exist_ok=True)
    image.write_bytes(b"x")
  clustering.write_csv(tmp_path / "out" / "clusters.csv", images, [1, 0, 1])
  with open(tmp_path / "out" / "clusters.csv", newline="") as f:
    assert list(csv.reader(f)) == [["path", "cluster"]] + [
        [str(image), str(c)] for image, c in zip(images, [1, 0, 1])]
  links = tmp_path / "links"
  clustering.write_links(links, images, ["a"] * 3, [1, 0, 1])
  assert sorted(os.listdir(links / "cluster_1")) == ["a_1.pgm", "a_3.pgm"]
  assert os.readlink(links / "cluster_0" / "a_2.pgm") == str(images[1])
  with pytest.raises(FileExistsError, match="not empty"):
    clustering.write_links(links, images, ["a"] * 3, [0, 0, 0])
