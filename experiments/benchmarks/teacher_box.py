"""Which box gives the teacher the face: MTCNN's (ours) or dlib's own HOG box?

    python experiments/benchmarks/teacher_box.py [--photos 200]

The teacher targets (data_pipelines/teacher_targets.py) describe the face
the aligner chose: its MTCNN box goes to dlib's 5-point shape predictor,
then dlib's chip and network. face_recognition finds the box with dlib's
HOG detector instead. On LFW photos that the aligner logged (a run of
`data_pipelines.align` into /tmp/facenet_faces/aligned/lfw_landmarks, e.g.
by experiments/prepare_faces.py), this prints how far the two paths'
descriptors lie apart (unit vectors, L2), beside the distance between two
photos of one person, and how many photos dlib's detector finds a face in.
Needs the `teacher` extra.
"""
import argparse
import json
import pathlib

import numpy as np

from data_pipelines import teacher as teacher_lib
from facenet_tf.data import reading

ALIGNED = pathlib.Path("/tmp/facenet_faces/aligned/lfw_landmarks")
PHOTOS = pathlib.Path(__file__).resolve().parents[2].parent / "shared" / (
    "data/lfw/images")


def _unit(x):
  return x / np.linalg.norm(x)


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--photos", type=int, default=200)
  args = parser.parse_args()
  records = [json.loads(line) for line in open(ALIGNED / "align_log.jsonl")]
  aligned = [r for r in records if r.get("status") == "aligned"]
  rng = np.random.default_rng(0)
  chosen = [aligned[i] for i in sorted(rng.choice(len(aligned), args.photos,
                                                  replace=False))]
  teacher = teacher_lib.DlibTeacher()
  import dlib  # pylint: disable=import-outside-toplevel
  hog = dlib.get_frontal_face_detector()
  gaps, ours, by_person, hog_found = [], {}, {}, 0
  for record in chosen:
    image = reading.read_photo(PHOTOS / record["path"])
    mtcnn = _unit(teacher.targets(image, record["box"])[0])
    person = record["path"].split("/")[0]
    by_person.setdefault(person, []).append(mtcnn)
    ours[record["path"]] = mtcnn
    boxes = hog(image, 1)
    if not len(boxes):
      continue
    hog_found += 1
    centre = np.array(image.shape[1::-1]) / 2
    box = min(boxes, key=lambda b: np.hypot(*(np.array(
        [b.center().x, b.center().y]) - centre)))
    own = _unit(teacher.targets(image, [box.left(), box.top(), box.right(),
                                        box.bottom()])[0])
    gaps.append(np.linalg.norm(mtcnn - own))
  same = [np.linalg.norm(a - b) for v in by_person.values()
          for i, a in enumerate(v) for b in v[i + 1:]]
  gaps = np.array(gaps)
  print(f"photos {len(chosen)}, dlib HOG finds a face in {hog_found}")
  print(f"MTCNN box vs HOG box, same photo: median {np.median(gaps):.4f}, "
        f"95th pct {np.percentile(gaps, 95):.4f}, max {gaps.max():.4f}")
  if same:
    print(f"two photos of one person ({len(same)} pairs): median "
          f"{np.median(same):.4f}")


if __name__ == "__main__":
  main()
