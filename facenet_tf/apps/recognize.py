r"""facenet-recognize: who is in these photos? And how well does it work?

Identify (photos after the flags): every face of every photo is matched
against a gallery of known people, built from a tree of their photos or
loaded from a file:

    facenet-recognize [--model PATH] \
        (--enroll_dir PEOPLE [--save_gallery people.npz] | --gallery FILE) \
        [--threshold T] PHOTO ...

PEOPLE is PEOPLE/<name>/<photo>: each photo's main (largest) face enrolls
<name>. Each face is printed with its photo, face index, box, the nearest
person and the distance; above the threshold it is "unknown" (open set).
The default threshold is the model's own, calibrated at FAR 1e-3 (in its
export); else the paper's 1.1.

Evaluate (no photos): closed- and open-set identification on one tree,

    facenet-recognize (--embeddings OUT | --images_dir TREE [--aligned]) \
        [--gallery_per_identity 1] [--unknown_fraction 0.25] [--seed 0]

OUT is a facenet-embed output; TREE is TREE/<identity>/<photo>, each
photo's main face labelled by its folder. Protocol
(recognition.split_gallery_probes): a seeded random --unknown_fraction of the
identities are unknown (all their faces are probes); of every other identity
the first --gallery_per_identity faces (by file name) form the gallery and
the rest are probes. Prints the rank-1 and rank-5 identification rates of
the known probes, the detection-and-identification rate (DIR) and
false-accept rate (FAR) at the threshold, and DIR at FAR 1% and 10%.
Either way the last line is one JSON object.
"""
import json

from absl import flags

from facenet_tf.apps import common
from facenet_tf.apps import embedding_flags
from facenet_tf.evaluation import calibration

_embedded_images = embedding_flags.define_input_flags(required=False)
_GALLERY = flags.DEFINE_string(
    "gallery", None, "A saved gallery (.npz or .json) to identify against.")
_ENROLL_DIR = flags.DEFINE_string(
    "enroll_dir", None, "A tree <name>/<photo> of the people to know.")
_SAVE_GALLERY = flags.DEFINE_string(
    "save_gallery", None, "With --enroll_dir: save the gallery here (.npz or "
    ".json).")
flags.mark_flags_as_mutual_exclusive(["gallery", "enroll_dir"])
_GALLERY_PER_IDENTITY = flags.DEFINE_integer(
    "gallery_per_identity", 1, "Gallery images per known identity.",
    lower_bound=1)
_UNKNOWN_FRACTION = flags.DEFINE_float(
    "unknown_fraction", 0.25, "Fraction of identities left out of the "
    "gallery (open set); 0 for closed set only.", lower_bound=0,
    upper_bound=1)
_THRESHOLD = flags.DEFINE_float(
    "threshold", None, "Open set: accept a face whose nearest gallery "
    "distance (squared L2) is <= threshold; default: the model's threshold "
    "calibrated at FAR 1e-3, else 1.1.", lower_bound=0)
_SEED = flags.DEFINE_integer("seed", 0, "Seed of the unknown identities.")


def _gallery(recognizer):
  from facenet_tf import photos  # pylint: disable=import-outside-toplevel
  from facenet_tf.evaluation import embedding_io  # pylint: disable=import-outside-toplevel
  if _GALLERY.value:
    return photos.Gallery.load(_GALLERY.value, recognizer, _THRESHOLD.value)
  gallery = photos.Gallery(recognizer, _THRESHOLD.value)
  paths, names = embedding_io.list_tree(_ENROLL_DIR.value)
  by_name = {}
  for path, name in zip(paths, names):
    by_name.setdefault(name, []).append(path)
  for name, person_photos in sorted(by_name.items()):
    report = gallery.enroll(name, person_photos)
    for problem in report["errors"] + [f"{p}: no face found (not enrolled)"
                                       for p in report["no_face"]]:
      print(problem)
  print(f"gallery: {len(gallery.people)} people, {len(gallery)} faces; "
        f"threshold {gallery.threshold:g} ({gallery.threshold_source})")
  if _SAVE_GALLERY.value:
    gallery.save(_SAVE_GALLERY.value)
    print(f"saved {_SAVE_GALLERY.value}")
  return gallery


def identify(photo_paths):
  if not (_GALLERY.value or _ENROLL_DIR.value):
    common.fail("identifying photos needs --gallery or --enroll_dir.")
  recognizer = embedding_flags.recognizer_from_flags()
  gallery = _gallery(recognizer)
  out, counts = [], {"photos": len(photo_paths), "faces": 0, "known": 0,
                     "no_face": 0, "unreadable": 0}
  for found, answers in gallery.identify(photo_paths):
    if found.error:
      counts["unreadable"] += 1
      print(found.error)
    elif not answers:
      counts["no_face"] += 1
      print(f"{found.photo}: no face found")
    for who in answers:
      counts["faces"] += 1
      counts["known"] += who.name is not None
      box = ", ".join(f"{v:.0f}" for v in who.face.box)
      print(f"{found.photo} face {who.face.index} box ({box}): "
            f"{who.name or 'unknown'} (nearest {who.nearest}, distance "
            f"{who.distance:.3f})")
      out.append({**who.face.to_json(), "name": who.name,
                  "nearest": who.nearest, "distance": who.distance})
  print(f"{counts['photos']} photos, {counts['faces']} faces ("
        f"{counts['known']} known), {counts['no_face']} without a face, "
        f"{counts['unreadable']} unreadable")
  print(json.dumps({"faces": out, "summary": counts,
                    "threshold": gallery.threshold}), flush=True)


def evaluate():
  embedded = _embedded_images()
  from facenet_tf.evaluation import recognition  # pylint: disable=import-outside-toplevel
  threshold = _THRESHOLD.value
  if threshold is None:
    threshold, source = calibration.default_threshold(
        embedded.model_metadata, "far", recognition.DEFAULT_THRESHOLD)
    print(f"threshold {threshold:g}: {source}", flush=True)
  main_faces = embedded.main_faces()
  try:
    result = recognition.evaluate(
        embedded.embeddings[main_faces], embedded.labels[main_faces],
        _GALLERY_PER_IDENTITY.value, _UNKNOWN_FRACTION.value, threshold,
        seed=_SEED.value)
  except ValueError as e:  # split_gallery_probes: no probe is left
    common.fail(str(e))
  rates, open_set = result["identification_rate"], result["open_set"]
  print(f"{result['identities']} identities ({result['skipped_identities']} "
        f"skipped): gallery {result['gallery']}, known probes "
        f"{result['known_probes']}, unknown probes {result['unknown_probes']}")
  print("closed set: " + ", ".join(f"top-{rank} {rate:.4f}"
                                   for rank, rate in rates.items()))
  line = f"open set at {open_set['threshold']:g}: DIR {open_set['dir']:.4f}"
  if open_set["far"] is not None:
    line += f", FAR {open_set['far']:.4f}; " + ", ".join(
        f"DIR {rate:.4f} at FAR <= {target:g}"
        for target, rate in open_set["dir_at_far"].items())
  print(line)
  print(json.dumps(result), flush=True)


def main(photo_paths):
  if photo_paths:
    identify(photo_paths)
  else:
    evaluate()


def run():
  common.run(main, positional=True)


if __name__ == "__main__":
  run()
