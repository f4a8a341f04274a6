"""The floor on LFW View 2 that a trained model must beat.

    python experiments/benchmarks/lfw_baselines.py [--lfw_dir DIR] [--seed 0]

Both baselines go through the pairs evaluator: LFW's 6,000 pairs of
pairs.txt in its 10 folds, the central 140 x 140 of each 250 x 250 image
(crop fraction 0.56, eval_lib.DEFAULT_CROP_FRACTION), squared L2 distances.

  raw pixels   the crop resized to 32 x 32, grey (channel mean), each
               image's 1,024 pixels standardised (zero mean, unit variance)
               and L2-normalised: squared L2 = 2 - 2 x correlation, which
               ignores brightness and contrast.
  tiny, random `models.build("tiny")` as initialised with seed 0 (64 x 64
               input, 128-D unit embeddings), never trained.

Prints a table: accuracy (mean +- std over the folds), VAL at FAR 1e-3 with
the FAR achieved on the test folds, AUC, EER, and seconds.
"""
import argparse
import pathlib

import keras
import numpy as np
import tensorflow as tf

from facenet_tf import models
from facenet_tf.evaluation import eval_lib
from facenet_tf.evaluation import pairs_evaluator

_DEFAULT_LFW = pathlib.Path(__file__).resolve().parents[3] / "shared/data/lfw"


def raw_pixels(images):
  """float32 [b, 32, 32, 3] in 0..255 -> standardised grey vectors [b, 1024],
  unit norm."""
  grey = images.mean(axis=3).reshape(len(images), -1)
  grey = grey - grey.mean(axis=1, keepdims=True)
  return grey / np.maximum(np.linalg.norm(grey, axis=1, keepdims=True), 1e-12)


def random_tiny(seed):
  """The untrained `tiny` model as an embed function, and its input size."""
  keras.utils.set_random_seed(seed)
  model = models.build("tiny")
  forward = tf.function(lambda x: model(x, training=False))
  return lambda images: forward(tf.constant(images)).numpy(), model.image_size


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--lfw_dir", default=str(_DEFAULT_LFW))
  parser.add_argument("--seed", type=int, default=0)
  parser.add_argument("--target_far", type=float, default=1e-3)
  args = parser.parse_args()
  pairs = str(pathlib.Path(args.lfw_dir) / "pairs.txt")
  tiny, tiny_size = random_tiny(args.seed)
  baselines = [("raw pixels, grey 32x32", raw_pixels, (32, 32)),
               (f"tiny, random init (seed {args.seed})", tiny, tiny_size)]
  print(f"LFW View 2 ({pairs}): 10-fold, centre crop "
        f"{eval_lib.DEFAULT_CROP_FRACTION} of each side, squared L2")
  print(f"| method | input | accuracy | VAL @ FAR {args.target_far:g} | "
        "FAR achieved | AUC | EER | seconds |")
  print("|---|---|---|---|---|---|---|---|")
  for name, embed_fn, size in baselines:
    r = pairs_evaluator.PairsEvaluator(
        pairs, target_far=args.target_far, progress=False).evaluate(
            eval_lib.Embedder(embed_fn, size, name))
    print(f"| {name} | {size[0]}x{size[1]} | {r['accuracy']:.4f} +- "
          f"{r['accuracy_std']:.4f} | {r['val']:.4f} +- {r['val_std']:.4f} | "
          f"{r['far']:.5f} | {r['auc']:.4f} | {r['eer']:.4f} | "
          f"{r['seconds']:.0f} |", flush=True)


if __name__ == "__main__":
  main()
