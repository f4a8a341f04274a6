r"""facenet-recognize: who is in these photos? And how well does it work?

Identify (photos after the flags): every face of every photo is matched
against a gallery of known people, built from a tree of their photos or
loaded from a file:

    facenet-recognize [--model PATH] \
        (--enroll_dir PEOPLE [--save_gallery people.npz] | --gallery FILE) \
        [--threshold T | --far F] [--json] PHOTO ...

PEOPLE is PEOPLE/<name>/<photo>: each photo's main (largest) face enrolls
<name>; a photo without a face or unreadable is named and not enrolled.
Each face (reading order) is printed with its photo, face index, box, the
nearest person and the distance; above the threshold it is "unknown"
(open set). The threshold is named with its value, what it was calibrated
for and on which data. By default it is the model's best-accuracy one, the
same as facenet-compare's; --far 1e-3 takes its open-set one (README
"Thresholds"); a model without calibration gets the paper's 1.1. A saved
gallery is matched at this model's threshold, not the one it was saved with.

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
--json: stdout is one JSON document; the readable lines go to stderr.
Exit codes: 0 every input was read, 1 some could not be, 2 none of the
photos to identify could be (or a usage error).
"""
import warnings

from absl import flags

from facenet_tf.apps import common
from facenet_tf.apps import embedding_flags
from facenet_tf.apps import verdicts

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
_operating_point_flags = verdicts.define_operating_point_flags()
_output = verdicts.define_json_flag()
_SEED = flags.DEFINE_integer("seed", 0, "Seed of the unknown identities.")


def _gallery(recognizer, output):
  """(the gallery, how many enrollment photos were read, unreadable)."""
  from facenet_tf import photos  # pylint: disable=import-outside-toplevel
  from facenet_tf.evaluation import embedding_io  # pylint: disable=import-outside-toplevel
  chosen = _operating_point_flags.kwargs
  if _GALLERY.value:
    return photos.Gallery.load(_GALLERY.value, recognizer, **chosen), 0, 0
  gallery = photos.Gallery(recognizer, **chosen)
  paths, names = embedding_io.list_tree(_ENROLL_DIR.value)
  by_name = {}
  for path, name in zip(paths, names):
    by_name.setdefault(name, []).append(path)
  unreadable = 0
  for name, person_photos in sorted(by_name.items()):
    with warnings.catch_warnings():  # the report is printed below
      warnings.simplefilter("ignore", photos.GalleryWarning)
      report = gallery.enroll(name, person_photos)
    unreadable += len(report["errors"])
    for problem in report["errors"] + [f"{p}: no face found (not enrolled)"
                                       for p in report["no_face"]]:
      output.say(problem)
  output.say(f"gallery: {len(gallery.people)} people, {len(gallery)} faces; "
             f"{gallery.operating_point}")
  if _SAVE_GALLERY.value:
    gallery.save(_SAVE_GALLERY.value)
    output.say(f"saved {_SAVE_GALLERY.value}")
  return gallery, len(paths), unreadable


def identify(photo_paths):
  if not (_GALLERY.value or _ENROLL_DIR.value):
    common.fail("identifying photos needs --gallery or --enroll_dir.")
  output = _output()
  recognizer = embedding_flags.recognizer_from_flags()
  gallery, enrolled_photos, enroll_unreadable = _gallery(recognizer, output)
  out, counts = [], {"photos": len(photo_paths), "faces": 0, "known": 0,
                     "no_face": 0, "unreadable": 0,
                     "enroll_unreadable": enroll_unreadable}
  for found, answers in gallery.identify(photo_paths):
    if found.error:
      counts["unreadable"] += 1
      output.say(found.error)
    elif not answers:
      counts["no_face"] += 1
      output.say(f"{found.photo}: no face found")
    for who in answers:
      counts["faces"] += 1
      counts["known"] += who.name is not None
      sign = "<=" if who.name else ">"
      output.say(f"{who.face.describe()}: {who.name or 'unknown'} (nearest "
                 f"{who.nearest}, distance {who.distance:.3f} {sign} "
                 f"{who.operating_point.threshold:.4g})")
      out.append(who.to_json())
  output.say(f"{counts['photos']} photos, {counts['faces']} faces ("
             f"{counts['known']} known), {counts['no_face']} without a face, "
             f"{counts['unreadable']} unreadable; {gallery.operating_point}")
  output.document({"faces": out, "summary": counts,
                   "operating_point": gallery.operating_point.to_json(),
                   "threshold": gallery.threshold})
  if counts["unreadable"] == len(photo_paths):
    common.fail(f"none of the {len(photo_paths)} photos to identify could "
                "be read")
  verdicts.finish(len(photo_paths) + enrolled_photos,
                  counts["unreadable"] + enroll_unreadable)


def evaluate():
  output = _output()
  embedded = _embedded_images()
  from facenet_tf.evaluation import recognition  # pylint: disable=import-outside-toplevel
  point = _operating_point_flags.point(embedded.model_metadata)
  output.say(str(point))
  main_faces = embedded.main_faces()
  try:
    result = recognition.evaluate(
        embedded.embeddings[main_faces], embedded.labels[main_faces],
        _GALLERY_PER_IDENTITY.value, _UNKNOWN_FRACTION.value,
        point.threshold, seed=_SEED.value)
  except ValueError as e:  # split_gallery_probes: no probe is left
    common.fail(str(e))
  rates, open_set = result["identification_rate"], result["open_set"]
  output.say(f"{result['identities']} identities "
             f"({result['skipped_identities']} skipped): gallery "
             f"{result['gallery']}, known probes {result['known_probes']}, "
             f"unknown probes {result['unknown_probes']}")
  output.say("closed set: " + ", ".join(f"top-{rank} {rate:.4f}"
                                        for rank, rate in rates.items()))
  line = f"open set at {point}: DIR {open_set['dir']:.4f}"
  if open_set["far"] is not None:
    line += f", FAR {open_set['far']:.4f}; " + ", ".join(
        f"DIR {rate:.4f} at FAR <= {target:g}"
        for target, rate in open_set["dir_at_far"].items())
  output.say(line)
  output.document({**result, "operating_point": point.to_json()})
  skipped = len(embedded.skipped) if flags.FLAGS.images_dir else 0
  verdicts.finish(embedded.num_photos, skipped)


def main(photo_paths):
  if photo_paths:
    identify(photo_paths)
  else:
    evaluate()


def run():
  common.run(main, positional=True)


if __name__ == "__main__":
  run()
