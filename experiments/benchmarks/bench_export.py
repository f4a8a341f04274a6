"""Every deployment format against its SavedModel: size, speed, accuracy.

  python experiments/benchmarks/bench_export.py [--models reference,nns2] \
      [--images_dir /tmp/facenet_faces/aligned/lfw_landmarks] \
      [--representative_dir /tmp/facenet_faces/aligned/celeba_landmarks] \
      [--nns2_workdir /tmp/facenet_faces/runs/nns2_s8]

For the reference model (facenet_tf/pretrained) and `nns2` (the paper's
phone model, §4: the SavedModel of --nns2_workdir, a trained run; without
it random weights, whose accuracy rows only show parity), each format (SavedModel; LiteRT float, dynamic-range, int8; ONNX):
file size; single-image latency (median of 30 calls after 3) and batch-32
throughput on this machine's 2 cores (--num_threads for LiteRT and ONNX
Runtime); LFW pairsDevTest accuracy on the
aligned tree (the SavedModel's crop and protocol); and the embedding
cosine against the SavedModel on the first 200 pair faces. int8 calibrates
on 200 aligned CelebA faces (no LFW person). Targets (issue #17): accuracy
within 0.5 points of the SavedModel (float, dynamic) and 1 point (int8);
cosine >= 0.999 (float).
"""
import argparse
import os
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", ".."))

from facenet_tf import export  # pylint: disable=wrong-import-position
from facenet_tf import export_loaders  # pylint: disable=wrong-import-position
from facenet_tf import export_metadata  # pylint: disable=wrong-import-position
from facenet_tf import models  # pylint: disable=wrong-import-position
from facenet_tf import pretrained  # pylint: disable=wrong-import-position
from facenet_tf.deploy import convert  # pylint: disable=wrong-import-position
from facenet_tf.deploy import faces  # pylint: disable=wrong-import-position
from facenet_tf.evaluation import eval_lib  # pylint: disable=wrong-import-position
from facenet_tf.evaluation import pairs_evaluator  # pylint: disable=wrong-import-position

PAIRS = os.path.join(HERE, "..", "..", "..", "shared", "data", "lfw",
                     "pairsDevTest.txt")
FORMATS = (("savedmodel", None), ("litert", "float"), ("litert", "dynamic"),
           ("litert", "int8"), ("onnx", None))


def _size_mb(path):
  if os.path.isfile(path):
    return os.path.getsize(path) / 2**20
  return sum(os.path.getsize(os.path.join(root, name))
             for root, _, names in os.walk(path) for name in names) / 2**20


def _speed(model, image):
  """(median single-image ms, batch-32 images/s)."""
  single = image[None]
  for _ in range(3):
    model(single)
  times = []
  for _ in range(30):
    started = time.perf_counter()
    model(single)
    times.append(time.perf_counter() - started)
  batch = np.repeat(single, 32, axis=0)
  model(batch, batch_size=32)
  started = time.perf_counter()
  for _ in range(5):
    model(batch, batch_size=32)
  return 1e3 * float(np.median(times)), 160 / (time.perf_counter() - started)


def _export(name, tmp, representative, trained=None):
  """{(format, quantization): path} of every format of model `name`."""
  if name == "reference":
    saved_model = pretrained.reference_model_path()
  elif trained:
    saved_model = os.path.join(trained, "saved_model")
  else:
    saved_model = export.export_saved_model(
        models.build(name), os.path.join(tmp, name), alignment=None,
        thresholds=None)
  meta = export_metadata.read(saved_model)
  calibration = faces.aligned_faces(representative, meta.image_size,
                                    meta.channels)
  paths = {("savedmodel", None): saved_model}
  for kind, quantization in FORMATS[1:]:
    out = os.path.join(tmp, f"{name}_{kind}_{quantization}")
    paths[kind, quantization] = (
        convert.to_onnx(saved_model, out + ".onnx")[0] if kind == "onnx"
        else convert.to_litert(saved_model, out + ".tflite", quantization,
                               calibration)[0])
  return paths


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--models", default="reference,nns2")
  parser.add_argument("--images_dir",
                      default="/tmp/facenet_faces/aligned/lfw_landmarks")
  parser.add_argument("--num_threads", type=int, default=2,
                      help="LiteRT / ONNX Runtime threads (TF uses all cores)")
  parser.add_argument("--nns2_workdir", default="",
                      help="a trained nns2 run (default: random weights)")
  parser.add_argument("--representative_dir",
                      default="/tmp/facenet_faces/aligned/celeba_landmarks")
  args = parser.parse_args()
  for needed in (args.images_dir, args.representative_dir, PAIRS):
    if not os.path.exists(needed):
      raise SystemExit(f"SKIP: {needed} is missing (align LFW and CelebA "
                       "with experiments/prepare_faces.py; ../shared).")
  print(f"{'model':<10}{'format':<18}{'MB':>7}{'ms/img':>8}{'img/s@32':>10}"
        f"{'accuracy':>10}{'AUC':>8}{'min cos':>9}{'mean cos':>9}")
  with tempfile.TemporaryDirectory() as tmp:
    for name in args.models.split(","):
      paths = _export(name, tmp, args.representative_dir,
                      args.nns2_workdir if name == "nns2" else None)
      reference = None
      for key, path in paths.items():
        model = export_loaders.load(path, num_threads=args.num_threads)
        probe = faces.aligned_faces(args.images_dir, model.image_size,
                                    model.channels, limit=200)
        emb = model(probe)
        reference = emb if reference is None else reference
        cosine = np.sum(emb * reference, axis=1)
        ms, rate = _speed(model, probe[0])
        result = pairs_evaluator.PairsEvaluator(
            PAIRS, args.images_dir, progress=False).evaluate(
                eval_lib.of_exported(model, path))
        label = key[0] + (f" {key[1]}" if key[1] else "")
        print(f"{name:<10}{label:<18}{_size_mb(path):>7.2f}{ms:>8.2f}"
              f"{rate:>10.0f}{result['accuracy']:>10.4f}{result['auc']:>8.4f}"
              f"{cosine.min():>9.5f}{cosine.mean():>9.5f}", flush=True)


if __name__ == "__main__":
  main()
