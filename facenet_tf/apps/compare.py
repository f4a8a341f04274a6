"""facenet-compare: squared L2 distances between face images.

    facenet-compare (--saved_model PATH | --workdir DIR) IMAGE IMAGE ... \
        [--threshold T] [--json]

Prints the distance matrix, then each pair as "same" (distance <= threshold)
or "different". The default threshold is the model's own, calibrated on its
validation pairs and stored in its export (evaluation/calibration.py); for
a model without one, the paper's 1.1 (Fig. 1).
--json adds a last line: images, threshold, distances, pairs.
"""
import json

from absl import flags
import numpy as np

from facenet_tf import export
from facenet_tf.apps import common
from facenet_tf.apps import embedding_flags
from facenet_tf.evaluation import calibration
from facenet_tf.evaluation import embedding_io
from facenet_tf.evaluation import recognition

_saved_model_path = embedding_flags.define_model_flags()
_THRESHOLD = flags.DEFINE_float(
    "threshold", None, "Pairs at a squared L2 distance <= threshold are the "
    "same identity; default: the model's calibrated threshold, else "
    f"{recognition.DEFAULT_THRESHOLD}.")
_JSON = flags.DEFINE_bool("json", False, "End with one JSON line.")


def main(images):
  if len(images) < 2:
    common.fail("give at least two image paths after the flags.")
  embedder = export.load_exported(_saved_model_path())
  pixels = embedding_io.load_images(images, embedder.image_size,
                                    embedder.channels)
  embeddings = embedder(pixels).astype(np.float64)
  squares = np.sum(embeddings ** 2, axis=1)
  distances = np.maximum(squares[:, np.newaxis] + squares
                         - 2 * embeddings @ embeddings.T, 0)
  np.fill_diagonal(distances, 0)
  threshold, source = (_THRESHOLD.value, "--threshold")
  if threshold is None:
    threshold, source = calibration.default_threshold(
        embedder.metadata, "accuracy", recognition.DEFAULT_THRESHOLD)
  pairs = [{"first": i, "second": j, "distance": float(distances[i, j]),
            "same": bool(distances[i, j] <= threshold)}
           for i in range(len(images)) for j in range(i + 1, len(images))]
  print(f"Squared L2 distances (same identity when <= {threshold:g}, "
        f"{source}):")
  print("      " + "".join(f"{f'[{j}]':>8}" for j in range(len(images))))
  for i, row in enumerate(distances):
    print(f"{f'[{i}]':>6}" + "".join(f"{d:8.3f}" for d in row)
          + f"  {images[i]}")
  for pair in pairs:
    print(f"[{pair['first']}] vs [{pair['second']}]: {pair['distance']:.3f} "
          f"{'same' if pair['same'] else 'different'}")
  if _JSON.value:
    print(json.dumps({"images": images, "threshold": threshold,
                      "distances": distances.tolist(), "pairs": pairs}),
          flush=True)


def run():
  common.run(main, positional=True)


if __name__ == "__main__":
  run()
