"""Fits and checks the `dlib` alignment geometry: dlib's face chip from MTCNN.

    python experiments/benchmarks/dlib_chip_template.py [--faces 300]

dlib's network (the teacher of issue #30) was trained on its own 150 px
chips: dlib's 5-point shape (eye corners, nose base) mapped onto its mean
face with padding 0.25. Our crops warp MTCNN's five keypoints (eye centres,
nose tip, mouth corners) onto a template instead. This finds the template
that reproduces dlib's chip: for `--faces` photos of CelebA and of LFW it
runs dlib's shape predictor on the aligner's MTCNN box (as
data_pipelines/teacher.py does), maps MTCNN's keypoints into dlib's chip
(get_face_chip_details) and prints their mean, per source and averaged
(spec.DLIB_CHIP_TEMPLATE_150 holds the average).

Then the check, on LFW pairsDevTest (1,000 pairs, 10 interleaved folds):
dlib's network on the photos' faces cut four ways: its own chip (dlib's
shape predictor; the teacher's path), our `landmarks` crop and its model
view, and the `dlib` geometry's chip (spec at 150 px, whole square) and its
model view at 128 px (what a student sees). Needs the `teacher` extra and
the aligner's logs in /tmp/facenet_faces/aligned/{celeba,lfw}_landmarks
(experiments/prepare_faces.py).
"""
import argparse
import json
import os
import pathlib
import random
import sys

import numpy as np
from PIL import Image

ROOT = pathlib.Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # run as a script from anywhere
  sys.path.insert(0, str(ROOT))

from data_pipelines import align_summary  # noqa: E402
from data_pipelines import teacher as teacher_lib  # noqa: E402
from facenet_tf.alignment import spec as spec_lib  # noqa: E402
from facenet_tf.alignment import warp  # noqa: E402
from facenet_tf.evaluation import lfw_protocol  # noqa: E402
from facenet_tf.evaluation import pairs_evaluator  # noqa: E402
from facenet_tf.evaluation import verification  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
ALIGNED = pathlib.Path("/tmp/facenet_faces/aligned")
SOURCES = {"celeba": DATA / "celeba_train" / "images",
           "lfw": DATA / "lfw" / "images"}


def logged_faces(source):
  """{photo stem: (photo path, MTCNN box, keypoints [5, 2])} of the faces
  the landmarks aligner cut."""
  faces = {}
  log = ALIGNED / f"{source}_landmarks" / align_summary.LOG_NAME
  for record in align_summary.read_outcomes(log).values():
    if record.get("status") != "aligned" or not record.get("detections"):
      continue
    boxes = np.array(record["detections"]["boxes"])
    chosen = int(np.argmin(np.abs(boxes - record["box"]).sum(1)))
    faces[os.path.splitext(record["path"])[0]] = (
        SOURCES[source] / record["path"], boxes[chosen],
        np.array(record["detections"]["keypoints"][chosen]))
  return faces


def chip_mapping(details):
  """The 2 x 3 similarity from photo to chip pixels of dlib chip_details
  (its rect turned by its angle about the centre, onto the chip corners)."""
  rect = details.rect
  centre = np.array([(rect.left() + rect.right()) / 2,
                     (rect.top() + rect.bottom()) / 2])
  turn = np.array([[np.cos(details.angle), -np.sin(details.angle)],
                   [np.sin(details.angle), np.cos(details.angle)]])
  corners = [(rect.left(), rect.top()), (rect.right(), rect.top()),
             (rect.right(), rect.bottom())]
  source = [centre + turn @ (np.array(c) - centre) for c in corners]
  last = details.cols - 1, details.rows - 1
  return warp.similarity_matrix(source, [(0, 0), (last[0], 0), last])


def fit(teacher, faces, count):
  """Mean chip position of MTCNN's keypoints, and the spread of dlib's own
  five points there (small when the mapping is right)."""
  keys = sorted(faces)
  random.Random(0).shuffle(keys)
  ours, theirs = [], []
  for key in keys[:count]:
    path, box, keypoints = faces[key]
    image = np.asarray(Image.open(path).convert("RGB"))
    shape = teacher.shape(image, box)
    mapping = chip_mapping(teacher.chip_details(shape))
    points = np.array([[shape.part(i).x, shape.part(i).y] for i in range(5)])
    theirs.append(points @ mapping[:, :2].T + mapping[:, 2])
    ours.append(keypoints @ mapping[:, :2].T + mapping[:, 2])
  return np.mean(ours, 0), float(np.std(theirs, 0).mean())


def check(teacher, faces):
  """{way: (accuracy, AUC)} of dlib's network on pairsDevTest faces."""
  pairs = lfw_protocol.read_pairs(str(DATA / "lfw" / "pairsDevTest.txt"),
                                  str(SOURCES["lfw"]))
  paths, first, second, issame, fold = lfw_protocol.pair_image_index(pairs)
  folds, _ = pairs_evaluator.pair_folds(fold)
  specs = {"landmarks": spec_lib.AlignmentSpec("landmarks", 128),
           "dlib": spec_lib.AlignmentSpec("dlib", 128),
           "dlib chip": spec_lib.AlignmentSpec("dlib", 150,
                                               model_crop_fraction=1.0)}
  chips = {"own chip": [], **{name: [] for name in specs}}
  for path in paths:
    stem = os.path.relpath(os.path.splitext(path)[0], SOURCES["lfw"])
    _, box, keypoints = faces[stem]
    image = np.asarray(Image.open(path).convert("RGB"))
    chips["own chip"].append(teacher.chip(image, box))
    for name, spec in specs.items():
      chips[name].append(warp.align_face(image, box, keypoints, spec))
  # The central window of the 128 px crops, as a model sees them.
  side = 128 * spec_lib.MODEL_CROP_FRACTION
  low, high = round((128 - side) / 2), round((128 + side) / 2)
  for name in ("landmarks", "dlib"):
    chips[f"{name} view"] = [c[low:high, low:high] for c in chips[name]]
  results = {}
  for name, images in chips.items():
    images = [np.asarray(Image.fromarray(im).resize((150, 150),
                                                    Image.BILINEAR))
              for im in images]
    emb = teacher.describe_chips(images)
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    dist = np.sum((emb[first] - emb[second]) ** 2, axis=1)
    result = verification.evaluate(dist, issame, folds)
    results[name] = (round(result["accuracy"], 4), round(result["auc"], 4))
    print(f"dlib's network on the {name:15s} accuracy {results[name][0]:.4f}"
          f"  AUC {results[name][1]:.4f}", flush=True)
  return results


def main(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--faces", type=int, default=300)
  args = parser.parse_args(argv)
  if not (ALIGNED / "lfw_landmarks" / align_summary.LOG_NAME).exists():
    sys.exit(f"No aligner logs under {ALIGNED}: run "
             "experiments/prepare_faces.py first.")
  teacher = teacher_lib.DlibTeacher()
  faces = {source: logged_faces(source) for source in SOURCES}
  means = []
  for source in SOURCES:
    mean, spread = fit(teacher, faces[source], args.faces)
    means.append(mean)
    print(f"{source}: MTCNN keypoints in dlib's chip "
          f"{np.round(mean, 2).tolist()} (dlib's own points' spread "
          f"{spread:.2f} px)", flush=True)
  print("template (mean of the sources):",
        np.round(np.mean(means, 0), 4).tolist())
  print(json.dumps({"check": check(teacher, faces["lfw"])}))
  return 0


if __name__ == "__main__":
  sys.exit(main())
