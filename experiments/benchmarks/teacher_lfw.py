"""The teacher on LFW View 2: its own whole path, on our faces, against a student.

    python experiments/benchmarks/teacher_lfw.py \
        [--pairs ../shared/data/lfw/pairs.txt] [--student MODEL] [--flip] \
        [--center SHARDS_DIR]

Rows, all on the 6,000 pairs of pairs.txt with the project's 10-fold
protocol (evaluation/verification.py; squared L2 ranks pairs as face_recognition's
L2 does):
- `teacher, its own path`: what a face_recognition user gets. dlib's HOG
  detector on the uncropped photo (one upsample, face_recognition's
  default), the face nearest the photo's centre (LFW centres its person),
  dlib's 5-point shape, chip and descriptor, compared raw. A photo where HOG
  finds no face is described from the median HOG box of the others
  (counted).
- `teacher, our faces`: the stored targets (data_pipelines.teacher_targets:
  the box our aligner chose), unit-normalised; an image with no stored
  target (the aligner's centre-crop fallback) from CENTRAL_BOX, counted.
- with `--student MODEL` (a workdir, SavedModel, .tflite or .onnx): the
  student on the aligned crops (as facenet-eval), and §7's cross-model
  figure: the teacher's own-path descriptor of one image, normalised (the
  gallery: a face_recognition user's stored encodings), against the
  student's embedding of the other (evaluation/compatibility.py, v1 =
  teacher). A student distilled onto centred targets (loss.distill_center)
  lives in the centred space: `--center SHARDS_DIR` maps the gallery there
  with its manifest's teacher_targets.mean_unit, unit(unit(t) - mean).
The own-path descriptors are cached (--cache), so a rerun only scores.
Needs the `teacher` extra.
"""
import argparse
import json
import os
import pathlib

import numpy as np

from data_pipelines import teacher as teacher_lib
from data_pipelines import teacher_targets
from data_pipelines import tfrecords_manifest
from facenet_tf import export_loaders
from facenet_tf.data import reading
from facenet_tf.evaluation import compatibility
from facenet_tf.evaluation import eval_lib
from facenet_tf.evaluation import pairs_evaluator
from facenet_tf.losses import distillation

SHARED = pathlib.Path(__file__).resolve().parents[3] / "shared" / "data"
ALIGNED = pathlib.Path("/tmp/facenet_faces/aligned/lfw_landmarks")
KEYS = ("accuracy", "accuracy_std", "auc", "val", "far")
# Where LFW's photos (250 px, centred on their person) hold the face: a box
# for the photos with no box of their own.
CENTRAL_BOX = [68, 68, 182, 182]


def _unit(x):
  return x / np.linalg.norm(x, axis=-1, keepdims=True)


def _nearest_centre(boxes, image):
  centre = np.array(image.shape[1::-1]) / 2
  box = min(boxes, key=lambda b: np.hypot(b.center().x - centre[0],
                                          b.center().y - centre[1]))
  return [box.left(), box.top(), box.right(), box.bottom()]


def own_path(photos, teacher, cache):
  """({photo: raw descriptor} by face_recognition's path, [photos where HOG
  found no face]); resumable through `cache` (.npz, misses in .json)."""
  import dlib  # pylint: disable=import-outside-toplevel
  done = dict(np.load(cache)) if os.path.exists(cache) else {}
  misses_file = cache + ".misses.json"
  misses = (json.load(open(misses_file)) if os.path.exists(misses_file)
            else [])
  hog, boxes = dlib.get_frontal_face_detector(), {}
  todo = [p for p in photos if p not in done and p not in misses]
  for i, photo in enumerate(todo):
    image = reading.read_photo(SHARED / "lfw" / "images" / photo)
    found = hog(image, 1)
    if len(found):
      boxes[photo] = _nearest_centre(found, image)
      done[photo] = teacher.targets(image, boxes[photo])[0]
    else:
      misses.append(photo)
    if i % 500 == 499 or i == len(todo) - 1:
      print(f"own path: {i + 1}/{len(todo)}", flush=True)
      np.savez(cache, **done)
      with open(misses_file, "w", encoding="utf-8") as f:
        json.dump(misses, f)
  # The median of this run's HOG boxes (LFW's photos share one framing).
  median = np.median(list(boxes.values()) or [CENTRAL_BOX], axis=0)
  for photo in misses:
    if photo not in done:
      image = reading.read_photo(SHARED / "lfw" / "images" / photo)
      done[photo] = teacher.targets(image, median)[0]
  np.savez(cache, **done)
  return done, misses


def our_faces(photos, teacher):
  """{photo: unit descriptor} from the stored targets; (…, misses)."""
  stored, _ = teacher_targets.load(ALIGNED)
  by_photo = {os.path.splitext(k)[0]: v[0] for k, v in stored.items()}
  out, misses = {}, []
  for photo in photos:
    target = by_photo.get(os.path.splitext(photo)[0])
    if target is None:
      misses.append(photo)
      image = reading.read_photo(SHARED / "lfw" / "images" / photo)
      target = teacher.targets(image, CENTRAL_BOX)[0]
    out[photo] = _unit(target)
  return out, misses


def _row(name, result, note=""):
  figures = "  ".join(f"{k} {result[k]:.4f}" for k in KEYS)
  print(f"{name:34s} {figures} {note}")


def _our_faces_row(evaluator, photos, teacher):
  """The teacher's stored targets (our aligner's faces), scored."""
  ours, our_misses = our_faces(photos, teacher)
  result = evaluator.score(np.stack([ours[p] for p in photos]))
  _row("teacher, our faces (unit)", result,
       f"(no stored target: {len(our_misses)} photos)")
  return result


def _student_rows(args, evaluator, gallery):
  """The student on the aligned crops, and against the teacher's gallery."""
  student = (eval_lib.load_embedder(workdir=args.student)
             if export_loaders.is_workdir(args.student) else
             eval_lib.load_embedder(saved_model=args.student))
  if args.center:
    mean = tfrecords_manifest.read(args.center)["teacher_targets"][
        "mean_unit"]
    gallery = distillation.centred_targets(gallery, mean).numpy()
  # The same pairs, in the same order, on our aligned crops.
  crops = pairs_evaluator.PairsEvaluator(args.pairs, str(ALIGNED),
                                         flip=args.flip)
  modes = compatibility.evaluate_compatibility(
      gallery, crops.embed(student), evaluator.first, evaluator.second,
      evaluator.issame, evaluator.folds)
  _row("student", modes["v2_v2"], "(aligned crops)")
  _row("teacher gallery vs student probe", modes["v1_v2"],
       "(centred)" if args.center else "(raw)")
  return {"student": modes["v2_v2"], "cross_model": modes["v1_v2"]}


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--pairs", default=str(SHARED / "lfw" / "pairs.txt"))
  parser.add_argument("--student", default=None)
  parser.add_argument("--flip", action="store_true")
  parser.add_argument("--center", default=None,
                      help="shards directory whose manifest's mean unit "
                           "target centres the teacher's gallery")
  parser.add_argument("--cache", default="/tmp/facenet_faces/teacher_lfw.npz")
  args = parser.parse_args()
  # The pairs on LFW's photos: the teacher reads them uncropped.
  evaluator = pairs_evaluator.PairsEvaluator(
      args.pairs, str(SHARED / "lfw" / "images"))
  photos = [os.path.relpath(p, evaluator.root) for p in evaluator.paths]
  teacher = teacher_lib.DlibTeacher()
  own, own_misses = own_path(photos, teacher, args.cache)
  own_emb = np.stack([own[p] for p in photos])
  results = {"own_path": evaluator.score(own_emb)}
  _row("teacher, its own path (raw)", results["own_path"],
       f"(HOG found no face: {len(own_misses)} photos)")
  if (ALIGNED / teacher_targets.PARTS_DIR).is_dir():
    results["our_faces"] = _our_faces_row(evaluator, photos, teacher)
  else:
    print(f"(no stored targets in {ALIGNED}: run data_pipelines."
          "teacher_targets on it for the row of our faces)")
  if args.student:
    results.update(_student_rows(args, evaluator,
                                 _unit(own_emb).astype(np.float32)))
  print(json.dumps({k: {m: v[m] for m in KEYS} for k, v in results.items()}))


if __name__ == "__main__":
  main()
