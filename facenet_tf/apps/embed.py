r"""facenet-embed: every face of every photo of a tree -> embeddings on disk.

    facenet-embed [--model PATH] \
        (--images_dir TREE [--aligned] | --tfrecords SHARDS_DIR) \
        --output_dir OUT [--batch_size 64] \
        [--runner local|beam [--num_shards 16] [-- BEAM_PIPELINE_OPTIONS]]

TREE is TREE/<identity>/<photo> or TREE/<photo> (JPEG, PNG, GIF, BMP,
PGM/PPM, TIFF, WebP; symbolic links followed).
Each photo's faces are detected, aligned with the model's spec and embedded
(--aligned: each image is one crop aligned with the model's spec, seen as
in training: its central view, alignment/model_crop.py). The default
model is the reference model shipped with facenet_tf. Writes
OUT/embeddings.npy (float32 [N, D], one row per face), OUT/index.csv (row,
path, identity, label, then face, x1, y1, x2, y2, score for photos),
OUT/skipped.csv (photos that could not be read, also on stderr),
OUT/no_face.csv (photos without a face) and OUT/model.json (the model's
metadata). --tfrecords embeds the aligned crops of build_tfrecords shards
(as --aligned). --runner beam runs on Apache Beam
(data_pipelines/beam_embed.py; pipeline options after --) and
writes OUT/shards.json and OUT/embeddings-SSSSS-of-NNNNN.npz instead,
which facenet-recognize and facenet-cluster read as they read the one-file
layout. Photos directly in TREE (a flat folder) are unlabelled: identity
"" and label -1 in index.csv. Prints one JSON line: output_dir, photos
(every photo listed: with faces, without a face, unreadable), faces,
identities (labelled ones), unlabelled (faces of unlabelled photos),
embedding_dim, no_face, skipped. Exit code 0: every photo was read; 1: some
could not be (named on stderr and in skipped.csv), the others are written;
2: a usage error, or nothing could be embedded (no image in TREE, none
readable, no face found).
"""
import json

from absl import flags

from data_pipelines import runners
from facenet_tf import export_loaders
from facenet_tf.apps import common
from facenet_tf.apps import embedding_flags
from facenet_tf.apps import verdicts

_saved_model_path = embedding_flags.define_model_flags()
_photo_options = embedding_flags.define_photo_flags()
_IMAGES_DIR = flags.DEFINE_string("images_dir", None, "A tree "
                                  "images_dir/<identity>/<photo>, or a flat "
                                  "folder images_dir/<photo>.")
_TFRECORDS = flags.DEFINE_string("tfrecords", None, "A build_tfrecords "
                                 "output directory of aligned crops.")
flags.mark_flags_as_mutual_exclusive(["images_dir", "tfrecords"],
                                     required=True)
_OUTPUT_DIR = flags.DEFINE_string("output_dir", None, "Where to write "
                                  "embeddings.npy, index.csv and skipped.csv.",
                                  required=True)
_BATCH_SIZE = flags.DEFINE_integer("batch_size", 64, "Faces per model call.",
                                   lower_bound=1)
_RUNNER = flags.DEFINE_enum("runner", "local", runners.RUNNERS,
                            "beam: an Apache Beam pipeline, options after --.")
_NUM_SHARDS = flags.DEFINE_integer("num_shards", 16, "Output shards of "
                                   "--runner beam.", lower_bound=1)


def _embed_beam(pipeline_args, aligned):
  from data_pipelines import beam_embed  # pylint: disable=import-outside-toplevel
  flag_values = flags.FLAGS
  from facenet_tf.evaluation import embedding_io  # pylint: disable=import-outside-toplevel
  beam_embed.run(_saved_model_path(), _OUTPUT_DIR.value, pipeline_args,
                 _IMAGES_DIR.value, _TFRECORDS.value, aligned,
                 _NUM_SHARDS.value, _BATCH_SIZE.value,
                 flag_values.min_confidence, flag_values.detect_max_side)
  return embedding_io.read_embeddings(_OUTPUT_DIR.value)


def main(pipeline_args):
  # pylint: disable=import-outside-toplevel
  from facenet_tf.evaluation import embedding_io
  from facenet_tf.evaluation import embedding_records
  problem = runners.check(_RUNNER.value, None, pipeline_args)
  if problem:
    common.fail(problem)
  aligned, recognizer = _photo_options()
  if _RUNNER.value == "beam":
    embedded = _embed_beam(pipeline_args, aligned)
  elif _TFRECORDS.value:
    embedded = embedding_records.embed_records(
        export_loaders.load(_saved_model_path()), _TFRECORDS.value,
        _BATCH_SIZE.value)
  else:
    embedded = embedding_flags.embed_tree(
        _saved_model_path(), _IMAGES_DIR.value, _BATCH_SIZE.value, aligned,
        recognizer, unlabelled=True)
  if _RUNNER.value == "local":
    embedding_io.write_embeddings(embedded, _OUTPUT_DIR.value)
  with_faces = len(set(embedded.paths))
  photos = embedded.num_photos
  labelled = sorted(set(embedded.identities) - {""})
  print(f"{photos} photos: {len(embedded.paths)} faces embedded from "
        f"{with_faces}, {len(embedded.no_face)} without a face, "
        f"{len(embedded.skipped)} unreadable -> {_OUTPUT_DIR.value}")
  print(json.dumps({"output_dir": _OUTPUT_DIR.value, "photos": photos,
                    "faces": len(embedded.paths),
                    "identities": len(labelled),
                    "unlabelled": sum(i == "" for i in embedded.identities),
                    "embedding_dim": int(embedded.embeddings.shape[1]),
                    "no_face": len(embedded.no_face),
                    "skipped": len(embedded.skipped)}), flush=True)
  verdicts.finish(photos, len(embedded.skipped))  # README's exit codes


def run():
  common.run(main, positional=True)  # Beam's options after --


if __name__ == "__main__":
  run()
