"""facenet-export: a training workdir's latest checkpoint -> a SavedModel.

    facenet-export --workdir DIR [--output DIR/saved_model] [--overwrite]

Prints one JSON line: saved_model, step, image_size, embedding_dim.
"""
import json

from absl import flags

from facenet_tf import export
from facenet_tf.apps import common
from facenet_tf.training import workdir as workdir_lib

_WORKDIR = flags.DEFINE_string("workdir", None, "A facenet-train workdir.",
                               required=True)
_OUTPUT = flags.DEFINE_string("output", None,
                              "Export directory; default <workdir>/saved_model.")
_OVERWRITE = flags.DEFINE_bool("overwrite", False,
                               "Replace an existing export (atomically).")


def main(argv):
  del argv
  embedder, step = workdir_lib.restore_embedder(_WORKDIR.value)
  output = _OUTPUT.value or workdir_lib.path(_WORKDIR.value, "saved_model")
  path = export.export_saved_model(embedder, output, overwrite=_OVERWRITE.value)
  print(json.dumps({"saved_model": path, "step": step,
                    "image_size": list(embedder.image_size),
                    "embedding_dim": embedder.embedding_dim}), flush=True)


def run():
  common.run(main)


if __name__ == "__main__":
  run()
