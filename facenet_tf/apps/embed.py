"""facenet-embed: every image of a tree -> embeddings.npy + index.csv.

    facenet-embed (--saved_model PATH | --workdir DIR) --images_dir TREE \
        --output_dir OUT [--batch_size 128]

TREE is TREE/<identity>/<image> (JPEG, PNG, GIF, BMP, PGM/PPM, TIFF, WebP).
Writes OUT/embeddings.npy (float32 [N, D]), OUT/index.csv (row, path,
identity, label; sorted by identity, then file name) and OUT/skipped.csv
(images that could not be read: listed on stderr too, never embedded).
Prints one JSON line: output_dir, images, identities, embedding_dim,
skipped.
"""
import json

from absl import flags

from facenet_tf.apps import common
from facenet_tf.apps import embedding_flags
from facenet_tf.evaluation import embedding_io

_saved_model_path = embedding_flags.define_model_flags()
_IMAGES_DIR = flags.DEFINE_string("images_dir", None, "A tree "
                                  "images_dir/<identity>/<image>.",
                                  required=True)
_OUTPUT_DIR = flags.DEFINE_string("output_dir", None, "Where to write "
                                  "embeddings.npy, index.csv and skipped.csv.",
                                  required=True)
_BATCH_SIZE = flags.DEFINE_integer("batch_size", 128, "Images per model call.",
                                   lower_bound=1)


def main(argv):
  del argv
  embedded = embedding_flags.embed_tree(_saved_model_path(), _IMAGES_DIR.value,
                                        _BATCH_SIZE.value)
  embedding_io.write_embeddings(embedded, _OUTPUT_DIR.value)
  print(json.dumps({"output_dir": _OUTPUT_DIR.value,
                    "images": len(embedded.paths),
                    "identities": len(set(embedded.identities)),
                    "embedding_dim": int(embedded.embeddings.shape[1]),
                    "skipped": len(embedded.skipped)}), flush=True)


def run():
  common.run(main)


if __name__ == "__main__":
  run()
