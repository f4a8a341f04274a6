"""The spread of real face embeddings, for bench_knn's synthetic gallery.

    python experiments/benchmarks/embedding_statistics.py [--people 300]
        [--per_person 4]

Embeds --per_person photos of each of the first --people LFW people with at
least that many photos (sorted by name) with the packaged reference model
(photos.FaceRecognizer: MTCNN, its alignment, main face), then writes
face_embedding_stats.npz beside this file:
  between  [D, D] covariance of the identity means (the centres);
  within   [D, D] covariance of embeddings around their identity's mean;
  mean     [D]    mean of the identity means;
and prints their effective dimensions (components for 90% of the variance)
and the mean squared distances within and between identities.
"""
import argparse
import os
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
  sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

LFW = ROOT.parent / "shared" / "data" / "lfw" / "images"
OUTPUT = pathlib.Path(__file__).with_name("face_embedding_stats.npz")


def effective_dimension(covariance, share=0.9):
  values = np.sort(np.linalg.eigvalsh(covariance))[::-1]
  return int(np.searchsorted(np.cumsum(values) / values.sum(), share) + 1)


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--people", type=int, default=300)
  parser.add_argument("--per_person", type=int, default=4)
  args = parser.parse_args()
  if not LFW.is_dir():
    sys.exit(f"skipped: {LFW} is absent (the shared LFW images)")
  from facenet_tf import photos  # noqa: E402  (loads TensorFlow)
  people = [p for p in sorted(LFW.iterdir())
            if len(list(p.glob("*.jpg"))) >= args.per_person][:args.people]
  recognizer = photos.FaceRecognizer()
  groups = []
  for person in people:
    files = sorted(str(f) for f in person.glob("*.jpg"))[:args.per_person]
    found = [f.main_face.embedding for f in recognizer.faces(files) if f.faces]
    if len(found) >= 2:
      groups.append(np.stack(found))
  means = np.stack([g.mean(0) for g in groups])
  within = np.concatenate([g - g.mean(0) for g in groups])
  between_cov = np.cov(means, rowvar=False)
  within_cov = within.T @ within / (len(within) - len(groups))
  np.savez(OUTPUT, between=between_cov.astype(np.float32),
           within=within_cov.astype(np.float32),
           mean=means.mean(0).astype(np.float32))
  same = np.mean([np.sum((g[0] - g[1]) ** 2) for g in groups])
  other = np.mean(np.sum((means[:-1] - means[1:]) ** 2, 1))
  print(f"{len(groups)} people, {sum(map(len, groups))} faces; effective "
        f"dimension (90% of variance): between {effective_dimension(between_cov)}"
        f", within {effective_dimension(within_cov)} of {means.shape[1]}; "
        f"mean squared distance: same person {same:.3f}, two people's "
        f"means {other:.3f}; written to {os.path.relpath(OUTPUT, ROOT)}")


if __name__ == "__main__":
  main()
