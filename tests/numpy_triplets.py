"""NumPy brute-force triplet losses, written from the definitions, for tests.

Loops over every (anchor, positive, negative) explicitly: O(B^3) time, no
vectorised tricks, so it shares no code path with `facenet_tf.losses`.
Semantics (paper §3.1-3.2 and tensorflow-addons' documented rules):
- semi-hard: per (a, p), a != p, same label: the negative with the smallest
  d(a, n) that is > d(a, p); if none, the largest d(a, n). Mean over pairs.
- hard: per anchor, largest d(a, p) (0 when the anchor has no positive, the
  anchor then being its own positive) and smallest d(a, n). Mean over anchors.
- batch-all: mean of the hinge over all (a, p, n) whose hinge is > 0.
- hardest-negative: per (a, p), the smallest d(a, n). Mean over pairs.
"""
import numpy as np


def distances(emb, metric):
  emb = np.asarray(emb, np.float64)
  b = len(emb)
  d = np.zeros((b, b))
  for i in range(b):
    for j in range(b):
      if metric == "angular":
        u = emb[i] / np.linalg.norm(emb[i])
        v = emb[j] / np.linalg.norm(emb[j])
        d[i, j] = max(1.0 - float(u @ v), 0.0)
      else:
        sq = float(np.sum((emb[i] - emb[j]) ** 2))
        d[i, j] = sq if metric == "squared_l2" else np.sqrt(sq)
  return d


def _pairs(labels):
  b = len(labels)
  return [(a, p) for a in range(b) for p in range(b)
          if a != p and labels[a] == labels[p]]


def _negatives(labels, a):
  return [n for n in range(len(labels)) if labels[n] != labels[a]]


def semihard(labels, emb, margin=0.2, metric="squared_l2"):
  d = distances(emb, metric)
  terms = []
  for a, p in _pairs(labels):
    negs = [d[a, n] for n in _negatives(labels, a)]
    if not negs:
      continue
    farther = [x for x in negs if x > d[a, p]]
    d_an = min(farther) if farther else max(negs)
    terms.append(max(d[a, p] - d_an + margin, 0.0))
  return float(np.mean(terms)) if terms else 0.0


def hard(labels, emb, margin=0.2, soft=False, metric="squared_l2"):
  d = distances(emb, metric)
  terms = []
  for a in range(len(labels)):
    negs = [d[a, n] for n in _negatives(labels, a)]
    if not negs:
      continue
    poss = [d[a, p] for p in range(len(labels))
            if p != a and labels[p] == labels[a]]
    x = (max(poss) if poss else 0.0) - min(negs)
    terms.append(np.log1p(np.exp(x)) if soft else max(x + margin, 0.0))
  return float(np.mean(terms)) if terms else 0.0


def batch_all(labels, emb, margin=0.2, metric="squared_l2"):
  d = distances(emb, metric)
  active = []
  for a, p in _pairs(labels):
    for n in _negatives(labels, a):
      h = d[a, p] - d[a, n] + margin
      if h > 0:
        active.append(h)
  return float(np.mean(active)) if active else 0.0


def hardest_negative(labels, emb, margin=0.2, metric="squared_l2"):
  d = distances(emb, metric)
  terms = []
  for a, p in _pairs(labels):
    negs = [d[a, n] for n in _negatives(labels, a)]
    if negs:
      terms.append(max(d[a, p] - min(negs) + margin, 0.0))
  return float(np.mean(terms)) if terms else 0.0
