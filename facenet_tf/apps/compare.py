"""facenet-compare: are the people in these photos the same?

    facenet-compare [--saved_model PATH | --workdir DIR] PHOTO PHOTO ... \
        [--aligned] [--threshold T | --far F] [--json]

Every face of every photo is detected, aligned with the model's spec and
embedded (the default model is the reference model shipped with
facenet_tf); a photo's faces are numbered in reading order. It prints each
face (photo, face index, box), the squared L2 distances between all faces,
then every pair of faces from different photos as "same" (distance <=
threshold) or "different", naming the threshold: its value, what it was
calibrated for and on which data. A photo that cannot be read or holds no
face is reported and the others are compared.
The default threshold is the model's best-accuracy one, the same as
facenet-recognize's; --far 1e-3 takes its open-set one (README
"Thresholds"); a model without calibration gets the paper's 1.1 (Fig. 1).
--aligned takes each image as one face crop aligned with the model's spec
(its central view is embedded, as in training).
--json: stdout is one JSON document (faces, problems, threshold, distances,
pairs, summary); the readable lines go to stderr.
Exit codes: 0 every photo was read, 1 some could not be, 2 none could be
(or a usage error).
"""
from absl import flags
import numpy as np

from facenet_tf import export_loaders
from facenet_tf.alignment import model_crop
from facenet_tf.apps import common
from facenet_tf.apps import embedding_flags
from facenet_tf.apps import verdicts
from facenet_tf.data import reading
from facenet_tf.evaluation import embedding_io

_saved_model_path = embedding_flags.define_model_flags()
_photo_options = embedding_flags.define_photo_flags()
_operating_point_flags = verdicts.define_operating_point_flags()
_output = verdicts.define_json_flag()


def _faces_of_photos(photos, recognizer):
  """(faces as dicts, embeddings [F, D], photo problems, metadata)."""
  faces, embeddings, problems = [], [], []
  for found in recognizer.faces(photos):
    if found.error:
      problems.append({"photo": found.photo, "problem": found.error,
                       "unreadable": True})
    elif not found.faces:
      problems.append({"photo": found.photo, "unreadable": False,
                       "problem": f"{found.photo}: no face found"})
    for face in found.faces:
      faces.append(face.to_json())
      embeddings.append(face.embedding)
  return faces, np.array(embeddings), problems, recognizer.metadata


def _aligned_images(paths, model_path):
  """As `_faces_of_photos`, each image one aligned face."""
  model = export_loaders.load(model_path)
  model_input = model_crop.ModelInput.of(model)
  faces, pixels, problems = [], [], []
  for path in paths:
    try:
      pixels.append(embedding_io.load_image(path, model_input))
      faces.append({"photo": path, "face": 0, "box": None})
    except reading.PhotoError as error:
      problems.append({"photo": path, "problem": str(error),
                       "unreadable": True})
  embeddings = model(np.stack(pixels)) if pixels else np.zeros((0, 0))
  return faces, embeddings, problems, model.metadata


def _distances(embeddings):
  """Squared L2 distances [F, F] between all faces."""
  e = np.asarray(embeddings, np.float64)
  squares = np.sum(e ** 2, axis=1)
  distances = np.maximum(squares[:, None] + squares - 2 * e @ e.T, 0)
  np.fill_diagonal(distances, 0)
  return distances


def main(photos):
  if len(photos) < 2:
    common.fail("give at least two photos after the flags.")
  aligned, recognizer = _photo_options()
  output = _output()
  if aligned:
    faces, embeddings, problems, metadata = _aligned_images(
        photos, _saved_model_path())
  else:
    faces, embeddings, problems, metadata = _faces_of_photos(
        photos, recognizer(_saved_model_path()))
  point = _operating_point_flags.point(metadata)
  for problem in problems:
    output.say(problem["problem"])
  for i, face in enumerate(faces):
    where = ("" if face["box"] is None else
             f" face {face['face']} box ({', '.join(f'{v:.0f}' for v in face['box'])})")
    output.say(f"[{i}] {face['photo']}{where}")
  distances = _distances(embeddings) if faces else np.zeros((0, 0))
  pairs = [{"first": i, "second": j, "distance": float(distances[i, j]),
            "same": bool(distances[i, j] <= point.threshold)}
           for i in range(len(faces)) for j in range(i + 1, len(faces))
           if faces[i]["photo"] != faces[j]["photo"]]
  if len(faces) > 1:
    output.say(f"Squared L2 distances; same person at <= {point}:")
    output.say("      " + "".join(f"{f'[{j}]':>8}" for j in range(len(faces))))
    for i, row in enumerate(distances):
      output.say(f"{f'[{i}]':>6}" + "".join(f"{d:8.3f}" for d in row))
  for pair in pairs:
    verdict = "same (<=" if pair["same"] else "different (>"
    output.say(f"[{pair['first']}] vs [{pair['second']}]: "
               f"{pair['distance']:.3f} {verdict} {point.threshold:.4g})")
  unreadable = sum(p["unreadable"] for p in problems)
  summary = {"photos": len(photos), "faces": len(faces),
             "no_face": len(problems) - unreadable, "unreadable": unreadable}
  output.say(f"{summary['photos']} photos, {summary['faces']} faces, "
             f"{summary['no_face']} without a face, {summary['unreadable']} "
             f"unreadable; {point}")
  output.document({"faces": faces, "problems": problems,
                   "operating_point": point.to_json(),
                   "threshold": point.threshold,
                   "distances": distances.tolist(), "pairs": pairs,
                   "summary": summary})
  verdicts.finish(len(photos), unreadable)


def run():
  common.run(main, positional=True)


if __name__ == "__main__":
  run()
