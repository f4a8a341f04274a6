"""Photos per second for detect + align + embed, beside dlib's face_recognition.

    python experiments/benchmarks/bench_photos.py [--photos 200] [--large 60]
        [--rounds 1] [--eager_baseline]

Two sets, the same for both libraries, one process each, 2 cores:
  lfw     the first N LFW photos (250 x 250), sorted by path;
  large   photos of about 500 to 2,000 px (longer side, log-uniform),
          each with 1-3 LFW faces of 60-250 px pasted on a smooth
          background (group_photos.compose), saved as JPEG quality 90.
Ours: `photos.FaceRecognizer` (packaged reference model; MTCNN on a copy at
most 1,024 px, landmarks warp, resnet_small at 64 px), `faces()` over all
photos of a set in one call (files read inside the timing). dlib:
`face_recognition.load_image_file`, `face_locations` (HOG, upsample 1),
`face_encodings` (5-point alignment, ResNet; num_jitters 1) per photo, when
`import face_recognition` works (`pip install dlib-bin
face_recognition_models` then `pip install face_recognition --no-deps`).
A warm-up photo runs before each timing. Prints photos/s and faces found.
On a loaded machine, `--rounds N` times each library N times, alternating,
and reports the medians with the load average beside them;
`--eager_baseline` adds ours with the `mtcnn` package's own eager networks
(the detector before #31 item 13; alignment/mtcnn_graph.py), timed in the
same rounds.
"""
import argparse
import os
import pathlib
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # run as a script from anywhere
  sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from experiments.benchmarks import group_photos  # noqa: E402

LFW = ROOT.parent / "shared" / "data" / "lfw" / "images"


def lfw_photos(count):
  return sorted(str(p) for p in LFW.glob("*/*.jpg"))[:count]


def large_photos(count, directory, seed=0):
  """Composed 500-2,000 px photos written to `directory` as JPEG."""
  rng = np.random.default_rng(seed)
  people = sorted(p for p in LFW.iterdir() if p.is_dir())
  paths = []
  for i in range(count):
    side = float(np.exp(rng.uniform(np.log(500), np.log(2000))))
    size = (round(side), round(side * rng.uniform(0.66, 0.8)))
    faces = []
    for _ in range(int(rng.integers(1, 4))):
      person = people[int(rng.integers(len(people)))]
      photo = sorted(person.glob("*.jpg"))[0]
      width = float(rng.uniform(60, min(250, size[1] / 3)))
      faces.append((person.name, photo, width, float(rng.uniform(-15, 15))))
    try:
      image, _ = group_photos.compose(faces, size, rng)
    except ValueError:  # too crowded for this canvas: one face
      image, _ = group_photos.compose(faces[:1], size, rng)
    path = os.path.join(directory, f"large_{i:03d}.jpg")
    image.save(path, quality=90)
    paths.append(path)
  return paths


def recognizers(eager_baseline):
  """{column: FaceRecognizer}: ours, and ours with eager MTCNN networks."""
  from facenet_tf import photos  # pylint: disable=import-outside-toplevel
  out = {"ours": photos.FaceRecognizer()}
  if eager_baseline:
    from mtcnn import MTCNN  # pylint: disable=import-outside-toplevel
    out["ours, eager MTCNN"] = photos.FaceRecognizer()
    out["ours, eager MTCNN"].detector._mtcnn = MTCNN()  # pylint: disable=protected-access
  return out


def ours(recognizer, paths):
  recognizer.faces(paths[:1], progress=False)
  start = time.perf_counter()
  found = recognizer.faces(paths, progress=False)
  seconds = time.perf_counter() - start
  return len(paths) / seconds, sum(len(f.faces) for f in found)


def dlib(paths):
  try:
    import face_recognition  # pylint: disable=import-outside-toplevel
  except ImportError as error:
    return None, f"not installed ({error})"

  def one(path):
    image = face_recognition.load_image_file(path)
    boxes = face_recognition.face_locations(image)
    return len(face_recognition.face_encodings(image, boxes))

  one(paths[0])
  start = time.perf_counter()
  faces = sum(one(path) for path in paths)
  return len(paths) / (time.perf_counter() - start), faces


def main(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--photos", type=int, default=200)
  parser.add_argument("--large", type=int, default=60)
  parser.add_argument("--rounds", type=int, default=1)
  parser.add_argument("--eager_baseline", action="store_true")
  args = parser.parse_args(argv)
  if not LFW.is_dir():
    print(f"skipped: {LFW} is absent (../shared ships with the project's "
          "workspace and CI)")
    return 0
  with tempfile.TemporaryDirectory() as directory:
    sets = {"lfw 250 px": lfw_photos(args.photos),
            "large 500-2000 px": large_photos(args.large, directory)}
    ours_columns = recognizers(args.eager_baseline)
    print(f"cores: {len(os.sched_getaffinity(0))}, rounds: {args.rounds}")
    print("| set | photos | load | " + " | ".join(
        f"{c} photos/s | {c} faces | {c} / dlib" for c in ours_columns)
          + " | dlib photos/s | dlib faces |")
    print("|---|---|---|" + "---|---|---|" * len(ours_columns) + "---|---|")
    for name, paths in sets.items():
      load = os.getloadavg()[0]
      rates, faces = {}, {}
      for _ in range(args.rounds):
        for column, recognizer in ours_columns.items():
          rate, faces[column] = ours(recognizer, paths)
          rates.setdefault(column, []).append(rate)
        rate, faces["dlib"] = dlib(paths)
        rates.setdefault("dlib", []).append(rate)
      median = {c: float(np.median(r)) if r[0] else None
                for c, r in rates.items()}
      cells = [f"{median[c]:.2f} | {faces[c]} | " + (
          f"{median[c] / median['dlib']:.2f}" if median["dlib"] else "-")
               for c in ours_columns]
      dlib_cell = f"{median['dlib']:.2f}" if median["dlib"] else "-"
      print(f"| {name} | {len(paths)} | {load:.1f}-{os.getloadavg()[0]:.1f} "
            f"| {' | '.join(cells)} | {dlib_cell} | {faces['dlib']} |",
            flush=True)
  return 0


if __name__ == "__main__":
  sys.exit(main())
