"""facenet-embed: every face of every photo of a tree -> embeddings on disk.

    facenet-embed [--saved_model PATH | --workdir DIR] --images_dir TREE \
        --output_dir OUT [--aligned] [--batch_size 64]

TREE is TREE/<identity>/<photo> (JPEG, PNG, GIF, BMP, PGM/PPM, TIFF, WebP).
Each photo's faces are detected, aligned with the model's spec and embedded
(--aligned: each image is one aligned crop, resized whole). The default
model is the reference model shipped with facenet_tf. Writes
OUT/embeddings.npy (float32 [N, D], one row per face), OUT/index.csv (row,
path, identity, label, then face, x1, y1, x2, y2, score for photos),
OUT/skipped.csv (photos that could not be read, also on stderr),
OUT/no_face.csv (photos without a face) and OUT/model.json (the model's
metadata). Prints one JSON line: output_dir, photos, faces, identities,
embedding_dim, no_face, skipped.
"""
import json

from absl import flags

from facenet_tf.apps import common
from facenet_tf.apps import embedding_flags
from facenet_tf.evaluation import embedding_io

_saved_model_path = embedding_flags.define_model_flags()
_photo_options = embedding_flags.define_photo_flags()
_IMAGES_DIR = flags.DEFINE_string("images_dir", None, "A tree "
                                  "images_dir/<identity>/<photo>.",
                                  required=True)
_OUTPUT_DIR = flags.DEFINE_string("output_dir", None, "Where to write "
                                  "embeddings.npy, index.csv and skipped.csv.",
                                  required=True)
_BATCH_SIZE = flags.DEFINE_integer("batch_size", 64, "Faces per model call.",
                                   lower_bound=1)


def main(argv):
  del argv
  aligned, recognizer = _photo_options()
  embedded = embedding_flags.embed_tree(_saved_model_path(), _IMAGES_DIR.value,
                                        _BATCH_SIZE.value, aligned,
                                        recognizer)
  embedding_io.write_embeddings(embedded, _OUTPUT_DIR.value)
  photos = len(set(embedded.paths)) + len(embedded.no_face)
  print(f"{photos} photos: {len(embedded.paths)} faces embedded, "
        f"{len(embedded.no_face)} photos without a face, "
        f"{len(embedded.skipped)} unreadable -> {_OUTPUT_DIR.value}")
  print(json.dumps({"output_dir": _OUTPUT_DIR.value, "photos": photos,
                    "faces": len(embedded.paths),
                    "identities": len(set(embedded.identities)),
                    "embedding_dim": int(embedded.embeddings.shape[1]),
                    "no_face": len(embedded.no_face),
                    "skipped": len(embedded.skipped)}), flush=True)


def run():
  common.run(main)


if __name__ == "__main__":
  run()
