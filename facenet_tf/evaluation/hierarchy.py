"""Agglomerative clustering and connected components, in NumPy.

`merges` builds the dendrogram of a distance matrix with the
nearest-neighbour chain (Müllner 2011, "Modern hierarchical, agglomerative
clustering algorithms", §3.2), the algorithm SciPy's `linkage` runs for
average and complete linkage, in O(N^2) time; single linkage is reducible
too, so the chain serves it as well. Each merge replaces the two clusters'
rows by the Lance-Williams update of their linkage. `cut` keeps the merges
below a threshold, or all but the last K - 1, and labels the clusters by
connected components of the kept merges.

`lowest_items` finds connected components by hooking roots and pointer
jumping (Shiloach-Vishkin style), vectorised over all edges.
"""
import numpy as np

LINKAGES = ("average", "complete", "single")


def merges(distances, linkage="average"):
  """The N - 1 merges (a, b, heights) of a symmetric distance matrix [N, N].

  Merge k joins the cluster holding item a[k] with the one holding item
  b[k] at linkage distance heights[k]; merges come in the order the chain
  finds them (sort them by height for the dendrogram). Ties go to the
  chain's previous cluster, then to the lowest index, as in SciPy.
  """
  if linkage not in LINKAGES:
    raise ValueError(f"Unknown linkage {linkage!r}; expected one of "
                     f"{LINKAGES}.")
  d = np.array(distances, np.float64)  # a copy, updated in place
  count = len(d)
  np.fill_diagonal(d, np.inf)
  size = np.ones(count)
  active = np.ones(count, bool)
  out = np.zeros((max(count - 1, 0), 3))
  chain = []
  for k in range(count - 1):
    while True:
      if not chain:
        chain.append(int(np.argmax(active)))
      a = chain[-1]
      b = int(np.argmin(d[a]))
      if len(chain) > 1 and d[a, chain[-2]] <= d[a, b]:
        b = chain[-2]
      if len(chain) > 1 and b == chain[-2]:
        break
      chain.append(b)
    del chain[-2:]
    a, b = min(a, b), max(a, b)  # the merged cluster keeps b's row
    out[k] = a, b, d[a, b]
    if linkage == "average":
      row = (size[a] * d[a] + size[b] * d[b]) / (size[a] + size[b])
    elif linkage == "complete":
      row = np.maximum(d[a], d[b])
    else:
      row = np.minimum(d[a], d[b])
    d[b], d[:, b] = row, row
    d[a], d[:, a] = np.inf, np.inf
    d[b, b] = np.inf
    size[b] += size[a]
    active[a] = False
  return out[:, 0].astype(np.int64), out[:, 1].astype(np.int64), out[:, 2]


def cut(a, b, heights, count, threshold=None, num_clusters=None):
  """Cluster labels [count] of the dendrogram `merges` returned, cut below
  `threshold` (merges at heights >= threshold are undone) or at
  `num_clusters` (the first count - num_clusters merges by height)."""
  order = np.argsort(heights, kind="stable")
  if threshold is not None:
    kept = order[heights[order] < threshold]
  else:
    kept = order[:count - num_clusters]
  return components(a[kept], b[kept], count)


def lowest_items(rows, cols, count):
  """[count]: for every item, the lowest item of its connected component in
  the undirected graph with edges (rows[i], cols[i])."""
  parent = np.arange(count)
  rows, cols = np.asarray(rows, np.int64), np.asarray(cols, np.int64)
  while True:
    while True:  # pointer jumping: every item points at its tree's root
      grand = parent[parent]
      if np.array_equal(grand, parent):
        break
      parent = grand
    root_rows, root_cols = parent[rows], parent[cols]
    apart = root_rows != root_cols
    if not apart.any():
      return parent
    rows, cols = rows[apart], cols[apart]
    # Hook each higher root under the lowest root it has an edge to: parents
    # only decrease, so no cycle forms, and every round removes a root.
    np.minimum.at(parent, np.maximum(root_rows[apart], root_cols[apart]),
                  np.minimum(root_rows[apart], root_cols[apart]))


def components(rows, cols, count):
  """Component labels [count], 0, 1, ... in order of their lowest item."""
  return np.unique(lowest_items(rows, cols, count),
                   return_inverse=True)[1].reshape(-1)
