r"""facenet-compare: are the people in these photos the same?

    facenet-compare [--model PATH] PHOTO PHOTO ... \
        [--aligned] [--threshold T] [--json]

Every face of every photo is detected, aligned with the model's spec and
embedded (the default model is the reference model shipped with
facenet_tf). It prints each face (photo, face index, box), the squared L2
distances between all faces, then every pair of faces from different
photos as "same" (distance <= threshold) or "different". A photo that
cannot be read or holds no face is reported and the others are compared.
The default threshold is the model's own, calibrated on its validation
pairs and stored in its export (evaluation/calibration.py); for a model
without one, the paper's 1.1 (Fig. 1). --aligned takes each image as one
face crop aligned with the model's spec (its central view is embedded, as
in training; an unreadable one is an error).
--json adds a last line: faces, threshold, distances, pairs, summary.
"""
import json

from absl import flags
import numpy as np

from facenet_tf import export_loaders
from facenet_tf.alignment import model_crop
from facenet_tf.apps import common
from facenet_tf.apps import embedding_flags
from facenet_tf.evaluation import calibration

_saved_model_path = embedding_flags.define_model_flags()
_photo_options = embedding_flags.define_photo_flags()
_THRESHOLD = flags.DEFINE_float(
    "threshold", None, "Pairs at a squared L2 distance <= threshold are the "
    "same identity; default: the model's calibrated threshold, else 1.1.")
_JSON = flags.DEFINE_bool("json", False, "End with one JSON line.")


def _faces_of_photos(photos, recognizer):
  """(faces as dicts, embeddings [F, D], photo problems, metadata)."""
  faces, embeddings, problems = [], [], []
  for found in recognizer.faces(photos):
    if found.error:
      problems.append({"photo": found.photo, "problem": found.error})
    elif not found.faces:
      problems.append({"photo": found.photo,
                       "problem": f"{found.photo}: no face found"})
    for face in found.faces:
      faces.append(face.to_json())
      embeddings.append(face.embedding)
  return faces, np.array(embeddings), problems, recognizer.metadata


def _aligned_images(paths, model_path):
  from facenet_tf.evaluation import embedding_io  # pylint: disable=import-outside-toplevel
  model = export_loaders.load(model_path)
  pixels = embedding_io.load_images(paths, model_crop.ModelInput.of(model))
  faces = [{"photo": p, "face": 0, "box": None} for p in paths]
  return faces, model(pixels), [], model.metadata


def main(photos):
  if len(photos) < 2:
    common.fail("give at least two photos after the flags.")
  aligned, recognizer = _photo_options()
  if aligned:
    faces, embeddings, problems, metadata = _aligned_images(
        photos, _saved_model_path())
  else:
    faces, embeddings, problems, metadata = _faces_of_photos(
        photos, recognizer(_saved_model_path()))
  threshold, source = (_THRESHOLD.value, "--threshold")
  if threshold is None:
    from facenet_tf.evaluation import recognition  # pylint: disable=import-outside-toplevel
    threshold, source = calibration.default_threshold(
        metadata, "accuracy", recognition.DEFAULT_THRESHOLD)
  for problem in problems:
    print(problem["problem"])
  for i, face in enumerate(faces):
    where = ("" if face["box"] is None else
             f" face {face['face']} box ({', '.join(f'{v:.0f}' for v in face['box'])})")
    print(f"[{i}] {face['photo']}{where}")
  pairs = []
  distances = np.zeros((len(faces), len(faces)))
  if len(faces):
    e = embeddings.astype(np.float64)
    squares = np.sum(e ** 2, axis=1)
    distances = np.maximum(squares[:, None] + squares - 2 * e @ e.T, 0)
    np.fill_diagonal(distances, 0)
  for i in range(len(faces)):
    for j in range(i + 1, len(faces)):
      if faces[i]["photo"] != faces[j]["photo"]:
        pairs.append({"first": i, "second": j,
                      "distance": float(distances[i, j]),
                      "same": bool(distances[i, j] <= threshold)})
  if len(faces) > 1:
    print(f"Squared L2 distances (same person when <= {threshold:g}, "
          f"{source}):")
    print("      " + "".join(f"{f'[{j}]':>8}" for j in range(len(faces))))
    for i, row in enumerate(distances):
      print(f"{f'[{i}]':>6}" + "".join(f"{d:8.3f}" for d in row))
  for pair in pairs:
    print(f"[{pair['first']}] vs [{pair['second']}]: {pair['distance']:.3f} "
          f"{'same' if pair['same'] else 'different'}")
  no_face = sum(p["problem"].endswith(": no face found") for p in problems)
  summary = {"photos": len(photos), "faces": len(faces), "no_face": no_face,
             "unreadable": len(problems) - no_face}
  print(f"{summary['photos']} photos, {summary['faces']} faces, "
        f"{summary['no_face']} without a face, {summary['unreadable']} "
        "unreadable")
  if _JSON.value:
    print(json.dumps({"faces": faces, "problems": problems,
                      "threshold": threshold, "threshold_source": source,
                      "distances": distances.tolist(), "pairs": pairs,
                      "summary": summary}), flush=True)


def run():
  common.run(main, positional=True)


if __name__ == "__main__":
  run()
