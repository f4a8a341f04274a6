"""Flags of the apps that embed photos or read embeddings.

    [--saved_model PATH | --workdir DIR]     the export (DIR/saved_model);
                                             default: the packaged model
    --embeddings DIR | --images_dir TREE     facenet-embed's output, or a tree
                                             of photos to embed
    [--aligned] [--min_confidence 0.9] [--detect_max_side 1024]

By default inputs are ordinary photos: every face is detected (MTCNN),
aligned with the model's alignment spec and embedded. `--aligned` takes each
image as a face already aligned with that spec (e.g. by
data_pipelines.align) and embeds its central view, as training saw it. Each
define_* function defines its flags in the
calling app and returns a function that, after flag parsing, gives what
they name.
"""
import sys

from absl import flags

from facenet_tf import export_loaders
from facenet_tf import pretrained
from facenet_tf.evaluation import embedding_io

# Skipped images named on stderr; embedding_io.SKIPPED_FILE lists them all.
_SHOWN_SKIPPED = 20


def define_model_flags():
  """--saved_model | --workdir; returns a function giving the export's path
  (the packaged reference model when neither is given)."""
  saved_model = flags.DEFINE_string(
      "saved_model", None, "An exported model directory (facenet-export); "
      "default: the reference model shipped with facenet_tf.")
  workdir = flags.DEFINE_string(
      "workdir", None, "A facenet-train workdir: uses its saved_model/.")
  flags.mark_flags_as_mutual_exclusive(["saved_model", "workdir"])

  def path():
    if saved_model.value is None and workdir.value is None:
      return pretrained.reference_model_path()
    return embedding_io.saved_model_path(saved_model.value, workdir.value)

  return path


def define_photo_flags():
  """--aligned and the detector's flags; returns a function that gives
  (aligned, recognizer factory)."""
  aligned = flags.DEFINE_bool(
      "aligned", False, "Inputs are face crops already aligned with the "
      "model's spec (data_pipelines.align), not photos; the model sees "
      "their central view, as in training.")
  min_confidence = flags.DEFINE_float(
      "min_confidence", 0.9, "Detections scoring lower are not faces.",
      lower_bound=0, upper_bound=1)
  max_side = flags.DEFINE_integer(
      "detect_max_side", 1024, "Photos are detected on a copy whose longer "
      "side is at most this (faces are cut from the original).",
      lower_bound=64)

  def options():
    def recognizer(model_path):
      from facenet_tf import photos  # pylint: disable=import-outside-toplevel
      return photos.FaceRecognizer(model_path, min_confidence.value,
                                   max_side.value)
    return aligned.value, recognizer

  return options


_defined = {}


def define_input_flags(required=True, unlabelled=False):
  """--embeddings | --images_dir (one of them `required`); returns a
  function giving `embedding_io.EmbeddedImages` (faces of photos, or
  --aligned crops). `unlabelled`: photos directly in --images_dir count,
  without an identity (embedding_io.list_tree). Also defines the model and
  photo flags, which `recognizer_from_flags` then uses."""
  embeddings = flags.DEFINE_string(
      "embeddings", None, "A facenet-embed output directory.")
  images_dir = flags.DEFINE_string(
      "images_dir", None, "A tree images_dir/<identity>/<photo> to embed.")
  batch_size = flags.DEFINE_integer("batch_size", 64, "Faces per model "
                                    "call, with --images_dir.", lower_bound=1)
  saved_model_path = define_model_flags()
  photo_options = define_photo_flags()
  _defined.update(model=saved_model_path, photos=photo_options)
  flags.mark_flags_as_mutual_exclusive(["embeddings", "images_dir"],
                                       required=required)

  def embedded_images():
    if not (embeddings.value or images_dir.value):
      from facenet_tf.apps import common  # pylint: disable=import-outside-toplevel
      common.fail("give --embeddings or --images_dir (or photos to "
                  "identify).")
    if embeddings.value:
      return embedding_io.read_embeddings(embeddings.value)
    aligned, recognizer = photo_options()
    return embed_tree(saved_model_path(), images_dir.value, batch_size.value,
                      aligned, recognizer, unlabelled)

  return embedded_images


def recognizer_from_flags():
  """A photos.FaceRecognizer of the flags define_input_flags defined."""
  _, recognizer = _defined["photos"]()
  return recognizer(_defined["model"]())


def embed_tree(saved_model, images_dir, batch_size, aligned=False,
               recognizer=None, unlabelled=False):
  """The tree's faces (or, `aligned`, its whole images) embedded with the
  export at `saved_model`, the skipped photos named on stderr (photos
  directly in `images_dir` too, `unlabelled`: embedding_io.list_tree)."""
  paths, identities = embedding_io.list_tree(images_dir, unlabelled)
  if aligned:
    embedded = embedding_io.embed_files(export_loaders.load(saved_model),
                                        paths, identities, batch_size)
  else:
    from facenet_tf.photos import photo_tree  # pylint: disable=import-outside-toplevel
    embedded = photo_tree.embed_photos(recognizer(saved_model), paths,
                                       identities, batch_size)
  if embedded.skipped:
    print(f"Skipped {len(embedded.skipped)} unreadable image(s):",
          file=sys.stderr)
    for path, error in embedded.skipped[:_SHOWN_SKIPPED]:
      print(f"  {path}: {error}", file=sys.stderr)
    if len(embedded.skipped) > _SHOWN_SKIPPED:
      print(f"  ... and {len(embedded.skipped) - _SHOWN_SKIPPED} more",
            file=sys.stderr)
  return embedded
