"""Flags of the apps that embed images or read embeddings.

    --saved_model PATH | --workdir DIR       the export (DIR/saved_model)
    --embeddings DIR | --images_dir TREE     facenet-embed's output, or a tree
                                             to embed with the export

Each define_* function defines its flags in the calling app and returns a
function that, after flag parsing, gives what they name.
"""
import sys

from absl import flags

from facenet_tf import export
from facenet_tf.evaluation import embedding_io

# Skipped images named on stderr; embedding_io.SKIPPED_FILE lists them all.
_SHOWN_SKIPPED = 20


def define_model_flags(required=True):
  """--saved_model | --workdir; returns a function giving the export's path."""
  saved_model = flags.DEFINE_string(
      "saved_model", None, "An exported model directory (facenet-export).")
  workdir = flags.DEFINE_string(
      "workdir", None, "A facenet-train workdir: uses its saved_model/.")
  flags.mark_flags_as_mutual_exclusive(["saved_model", "workdir"],
                                       required=required)
  return lambda: embedding_io.saved_model_path(saved_model.value,
                                               workdir.value)


def define_input_flags():
  """--embeddings | --images_dir with a model; returns a function giving
  `embedding_io.EmbeddedImages`."""
  embeddings = flags.DEFINE_string(
      "embeddings", None, "A facenet-embed output directory.")
  images_dir = flags.DEFINE_string(
      "images_dir", None, "A tree images_dir/<identity>/<image> to embed "
      "(needs --saved_model or --workdir).")
  batch_size = flags.DEFINE_integer("batch_size", 128, "Images per model "
                                    "call, with --images_dir.", lower_bound=1)
  saved_model_path = define_model_flags(required=False)
  flags.mark_flags_as_mutual_exclusive(["embeddings", "images_dir"],
                                       required=True)
  flags.register_multi_flags_validator(
      ["images_dir", "saved_model", "workdir"],
      lambda v: (v["images_dir"] is None) == (v["saved_model"] is None
                                              and v["workdir"] is None),
      "--images_dir needs --saved_model or --workdir; --embeddings takes "
      "neither.")

  def embedded_images():
    if embeddings.value:
      return embedding_io.read_embeddings(embeddings.value)
    return embed_tree(saved_model_path(), images_dir.value, batch_size.value)

  return embedded_images


def embed_tree(saved_model, images_dir, batch_size):
  """embedding_io.embed_tree with the export at `saved_model` (loaded after
  the tree is listed), naming the skipped images on stderr."""
  paths, identities = embedding_io.list_tree(images_dir)
  embedded = embedding_io.embed_files(export.load_exported(saved_model), paths,
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
