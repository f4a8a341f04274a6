"""Clustering face embeddings (paper §5.8), its metrics and its outputs.

The paper clusters a personal photo collection agglomeratively and reports
no metric (FACTS §7). Two methods here:

  agglomerative  hierarchical clustering (average linkage by default), cut
                 at a distance threshold or a cluster count (hierarchy.py).
  components     connected components of the graph with an edge between
                 every pair closer than the threshold: no cluster count
                 needed, and it runs in chunks, so N is bounded by time
                 (N^2 distances), not memory. It chains: two faces are in
                 one cluster when a path of close faces joins them.

Both compare the threshold with the squared L2 distance (paper §2), strictly
(d < threshold joins), as scikit-learn's distance_threshold does. NumPy
only: facenet-cluster needs no extra (tests/test_clustering.py checks both
methods and the metrics against SciPy and scikit-learn).
"""
import csv
import os

import numpy as np

from facenet_tf.evaluation import hierarchy

METHODS = ("agglomerative", "components")
METRICS = ("squared_l2", "cosine")
LINKAGES = hierarchy.LINKAGES
_UNIT_NORM_TOLERANCE = 1e-3


def agglomerative(embeddings, threshold=None, num_clusters=None,
                  metric="squared_l2", linkage="average"):
  """Cluster labels [N] of agglomerative clustering.

  Args:
    embeddings: float [N, D].
    threshold: clusters whose linkage distance is >= threshold are not
      merged; in the units of `metric`. Exactly one of threshold and
      num_clusters.
    num_clusters: the number of clusters to cut the tree at.
    metric: "squared_l2" (unit-norm embeddings) or "cosine" (1 - cos).
    linkage: "average", "complete" or "single".

  On unit vectors the squared L2 distance is 2 - 2 cos = 2 x the cosine
  distance, computed so from the normalised embeddings (float64, clipped to
  [0, 4] as SciPy clips cosine distances to [0, 2]). The N x N matrix is
  8 N^2 bytes: 3.2 GB at N = 20,000 (the components method needs none).
  """
  embeddings = np.asarray(embeddings, np.float64)
  if (threshold is None) == (num_clusters is None):
    raise ValueError("Give exactly one of threshold and num_clusters.")
  if metric not in METRICS or linkage not in LINKAGES:
    raise ValueError(f"Unknown metric {metric!r} or linkage {linkage!r}; "
                     f"expected one of {METRICS} and of {LINKAGES}.")
  if num_clusters is not None and not 1 <= num_clusters <= len(embeddings):
    raise ValueError(f"num_clusters = {num_clusters} is outside [1, "
                     f"{len(embeddings)}] (the number of items).")
  norms = np.linalg.norm(embeddings, axis=1, keepdims=True)
  scale = 1.0
  if metric == "squared_l2":
    if np.max(np.abs(norms - 1), initial=0) > _UNIT_NORM_TOLERANCE:
      raise ValueError("squared_l2 agglomerative clustering needs unit-norm "
                       "embeddings; use metric='cosine'.")
    scale = 2.0
  unit = embeddings / norms
  distances = scale * np.clip(1 - unit @ unit.T, 0, 2)
  a, b, heights = hierarchy.merges(distances, linkage)
  return hierarchy.cut(a, b, heights, len(embeddings), threshold,
                       num_clusters)


def connected_components(embeddings, threshold, chunk=4096):
  """Cluster labels [N]: connected components of the graph d < threshold.

  The upper triangle of the squared-L2 distance matrix is scanned in
  chunk x chunk blocks. Whenever the kept edges outnumber twice the items,
  they are replaced by a forest with the same components (each item joined
  to the lowest item of its component), so memory stays O(N + chunk^2).
  """
  x = np.asarray(embeddings, np.float32)
  count = len(x)
  squares = np.einsum("ij,ij->i", x, x)
  edges, kept = [], 0
  for i in range(0, count, chunk):
    for j in range(i, count, chunk):
      block = (squares[i:i + chunk, np.newaxis] + squares[j:j + chunk]
               - 2 * x[i:i + chunk] @ x[j:j + chunk].T)
      a, b = np.nonzero(block < threshold)
      upper = a + i < b + j
      edges.append((a[upper] + i, b[upper] + j))
      kept += int(np.sum(upper))
      # A forest has < N edges, so N more edges come between two of these.
      if kept > 2 * count:
        edges = [_spanning_forest(*_concatenate(edges), count)]
        kept = edges[0][0].size
  return hierarchy.components(*_concatenate(edges), count)


def _concatenate(edges):
  return (np.concatenate([rows for rows, _ in edges]),
          np.concatenate([cols for _, cols in edges]))


def _spanning_forest(rows, cols, count):
  """Edges (item, lowest item of its component) with the same components."""
  lowest = hierarchy.lowest_items(rows, cols, count)
  items = np.flatnonzero(lowest != np.arange(count))
  return items, lowest[items]


def cluster(embeddings, method="agglomerative", threshold=None,
            num_clusters=None, metric="squared_l2", linkage="average"):
  """Cluster labels [N] by `method` (METHODS), renumbered by relabel_by_size.

  `components` takes a squared-L2 threshold only (metric, linkage and
  num_clusters are agglomerative's).
  """
  if method == "components":
    if threshold is None or num_clusters is not None or metric != "squared_l2":
      raise ValueError("The components method takes a squared-L2 threshold "
                       "and no cluster count.")
    labels = connected_components(embeddings, threshold)
  elif method == "agglomerative":
    labels = agglomerative(embeddings, threshold, num_clusters, metric,
                           linkage)
  else:
    raise ValueError(f"Unknown clustering method {method!r}; expected one of "
                     f"{METHODS}.")
  return relabel_by_size(labels)


def relabel_by_size(labels):
  """Labels renumbered 0, 1, ... by decreasing cluster size, then by first
  appearance: the same partition, with cluster 0 the largest."""
  _, first, inverse, sizes = np.unique(labels, return_index=True,
                                       return_inverse=True, return_counts=True)
  order = np.lexsort((first, -sizes))
  new_label = np.empty_like(order)
  new_label[order] = np.arange(order.size)
  return new_label[inverse.reshape(-1)]


def _contingency(true_labels, cluster_labels):
  """The non-zero cells n_ij of the contingency table, as (counts, rows,
  columns), and its row and column sums a_i and b_j."""
  _, rows = np.unique(true_labels, return_inverse=True)
  _, cols = np.unique(cluster_labels, return_inverse=True)
  rows, cols = rows.reshape(-1), cols.reshape(-1)
  width = int(cols.max()) + 1
  cells, counts = np.unique(rows * width + cols, return_counts=True)
  return ((counts, cells // width, cells % width), np.bincount(rows),
          np.bincount(cols))


def pair_counts(true_labels, cluster_labels):
  """(same-cluster same-identity pairs, same-cluster pairs, same-identity
  pairs) over all unordered pairs of items, from the contingency table n_ij:
  sum C(n_ij, 2), sum_j C(b_j, 2) and sum_i C(a_i, 2) (a, b: its row and
  column sums), in O(N) memory rather than O(N^2) pairs."""
  (cells, _, _), row_sums, col_sums = _contingency(true_labels, cluster_labels)
  choose2 = lambda n: int(np.sum(n.astype(np.int64) * (n - 1) // 2))
  return choose2(cells), choose2(col_sums), choose2(row_sums)


def normalized_mutual_info(true_labels, cluster_labels):
  """NMI = I(U; V) / ((H(U) + H(V)) / 2), natural logarithms: scikit-learn's
  normalized_mutual_info_score with its default arithmetic mean, and its
  limits (1 when both labelings are one cluster, 0 when I = 0)."""
  (cells, rows, cols), a, b = _contingency(true_labels, cluster_labels)
  if a.size == b.size == 1:
    return 1.0
  n = a.sum()
  mutual = max(float(np.sum(cells / n * (np.log(cells) + np.log(n)
                                         - np.log(a[rows]) - np.log(b[cols])))),
               0.0)
  if mutual == 0:
    return 0.0
  entropy = lambda sums: -float(np.sum(sums / n * (np.log(sums) - np.log(n))))
  mean = max((entropy(a) + entropy(b)) / 2, np.finfo(np.float64).eps)
  return mutual / mean


def evaluate(true_labels, cluster_labels):
  """Pairwise precision, recall, F1 and NMI of a clustering.

  A pair of items is predicted positive when they share a cluster, and is
  positive when they share an identity. With no predicted (or no positive)
  pair, precision (recall) is 1: no pair was wrongly joined (missed).

  Returns:
    dict: precision, recall, f1, nmi, num_items, num_clusters,
    num_identities.
  """
  true_labels, cluster_labels = np.asarray(true_labels), np.asarray(
      cluster_labels)
  both, predicted, positive = pair_counts(true_labels, cluster_labels)
  precision = both / predicted if predicted else 1.0
  recall = both / positive if positive else 1.0
  f1 = (2 * precision * recall / (precision + recall)
        if precision + recall else 0.0)
  return {"precision": precision, "recall": recall, "f1": f1,
          "nmi": normalized_mutual_info(true_labels, cluster_labels),
          "num_items": int(true_labels.size),
          "num_clusters": int(np.unique(cluster_labels).size),
          "num_identities": int(np.unique(true_labels).size)}


def write_csv(path, image_paths, labels, faces=None):
  """A CSV of (path, cluster) rows, in the order given; with `faces` (rows
  that are faces of photos) also each face's index and box."""
  os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
  with open(path, "w", newline="") as f:
    writer = csv.writer(f)
    if faces is None:
      writer.writerow(("path", "cluster"))
      writer.writerows(zip(image_paths, labels))
      return
    writer.writerow(("path", "face", "x1", "y1", "x2", "y2", "cluster"))
    writer.writerows([p, f["face"], *f["box"], label]
                     for p, f, label in zip(image_paths, faces, labels))


def write_links(links_dir, image_paths, identities, labels):
  """`links_dir/cluster_<k>/<identity>_<file name>` symlinks to the images.

  Raises:
    FileExistsError: `links_dir` exists and is not empty.
  """
  if os.path.isdir(links_dir) and os.listdir(links_dir):
    raise FileExistsError(f"--links_dir {links_dir} is not empty.")
  width = len(str(max(labels)))
  for path, identity, label in zip(image_paths, identities, labels):
    folder = os.path.join(links_dir, f"cluster_{label:0{width}d}")
    os.makedirs(folder, exist_ok=True)
    link = os.path.join(folder, f"{identity}_{os.path.basename(path)}")
    if not os.path.lexists(link):  # a photo's second face, same cluster
      os.symlink(os.path.abspath(path), link)


def describe_clusters(image_paths, labels, faces=None, max_clusters=20,
                      max_members=8):
  """Lines saying which photos landed together, largest cluster first.

  Each line is `cluster K (N): name, name, ...`, names relative to the
  photos' common folder; a face other than its photo's largest is named
  `name[face i]`. At most `max_clusters` lines of `max_members` names
  each, then a line counting what is left out (write_csv lists it all).
  """
  labels = np.asarray(labels)
  if not labels.size:
    return []
  folder = os.path.commonpath([os.path.dirname(os.path.abspath(p))
                               for p in image_paths])
  names = [os.path.relpath(os.path.abspath(p), folder) for p in image_paths]
  if faces is not None:
    names = [n if f["face"] == 0 else f"{n}[face {f['face']}]"
             for n, f in zip(names, faces)]
  count = int(labels.max()) + 1
  lines = []
  for k in range(min(count, max_clusters)):
    members = [names[i] for i in np.flatnonzero(labels == k)]
    more = len(members) - max_members
    lines.append(f"cluster {k} ({len(members)}): "
                 + ", ".join(members[:max_members])
                 + (f", ... and {more} more" if more > 0 else ""))
  if count > max_clusters:
    rest = int(np.sum(labels >= max_clusters))
    lines.append(f"... and {count - max_clusters} more clusters ({rest} "
                 "items)")
  return lines
