"""facenet-cluster: cluster the faces of photos by their embeddings (§5.8).

    facenet-cluster (--embeddings OUT | --images_dir TREE [--model PATH]
        [--aligned]) [--method agglomerative|components]
        [--threshold T | --num_clusters K] [--metric squared_l2|cosine]
        [--linkage average|complete|single] [--output_csv FILE]
        [--links_dir DIR]

OUT is a facenet-embed output; TREE is TREE/<identity>/<photo> or a flat
folder TREE/<photo> (unlabelled): every face of every photo is an item
(--aligned: every image is one face crop). The default model is the
packaged reference model. Without --threshold and --num_clusters the
threshold is the model's calibrated one (else the paper's 1.1 squared L2;
half in cosine distance). The clusters are printed largest first, one line
each naming its photos (`photo[face i]` for a photo's other faces; the
first 20 clusters, 8 names each: --output_csv and --links_dir hold all).
When the photos come from two or more identity folders, their names are
the ground truth of each photo's main (largest) face and the pairwise
precision, recall, F1 and NMI of those faces are printed; unlabelled photos
(directly in TREE) are left out of them, and without two identities no
metric is reported (a line says so). --output_csv lists path, face, box
and cluster. The last line is one JSON object: method, threshold,
num_clusters, the counts (labelled_items: the main faces the metrics
score) and the metrics. Exit code 0: every input was read (all of OUT, or
every photo of TREE); 1: some photos of TREE could not be read, the others
were clustered; 2: a usage error or nothing to cluster.
"""
import json
import os

from absl import flags

from facenet_tf.apps import common
from facenet_tf.apps import embedding_flags
from facenet_tf.apps import verdicts
from facenet_tf.evaluation import calibration
from facenet_tf.evaluation import clustering

_embedded_images = embedding_flags.define_input_flags(unlabelled=True)
_METHOD = flags.DEFINE_enum("method", "agglomerative", clustering.METHODS,
                            "Clustering method.")
_THRESHOLD = flags.DEFINE_float(
    "threshold", None, "Distance at or above which clusters are not joined "
    "(in --metric units); default: the model's calibrated threshold, else "
    "1.1 squared L2.", lower_bound=0)
_NUM_CLUSTERS = flags.DEFINE_integer(
    "num_clusters", None, "agglomerative: the number of clusters, instead of "
    "a threshold.", lower_bound=1)
_METRIC = flags.DEFINE_enum("metric", "squared_l2", clustering.METRICS,
                            "agglomerative: the distance.")
_LINKAGE = flags.DEFINE_enum("linkage", "average", clustering.LINKAGES,
                             "agglomerative: the linkage.")
_OUTPUT_CSV = flags.DEFINE_string("output_csv", None, "Write (path, cluster) "
                                  "rows here.")
_LINKS_DIR = flags.DEFINE_string("links_dir", None, "Write a folder of "
                                 "symbolic links per cluster here (must be "
                                 "new or empty).")
flags.mark_flags_as_mutual_exclusive(["threshold", "num_clusters"])
flags.register_validator(
    "links_dir", lambda path: not (path and os.path.isdir(path)
                                   and os.listdir(path)),
    "--links_dir must be a new or empty directory.")
flags.register_multi_flags_validator(
    ["method", "num_clusters", "metric", "linkage"],
    lambda v: v["method"] == "agglomerative" or (
        v["num_clusters"] is None and v["metric"] == "squared_l2"
        and v["linkage"] == "average"),
    "--method=components takes a squared-L2 --threshold only (no "
    "--num_clusters, --metric or --linkage).")


def main(argv):
  del argv
  embedded = _embedded_images()
  from facenet_tf.evaluation import recognition  # pylint: disable=import-outside-toplevel
  threshold = _THRESHOLD.value
  if threshold is None and _NUM_CLUSTERS.value is None:
    # The model's calibrated same/different threshold (squared L2; on unit
    # vectors cosine distance = squared L2 / 2), else the paper's 1.1.
    threshold, source = calibration.default_threshold(
        embedded.model_metadata, "accuracy", recognition.DEFAULT_THRESHOLD)
    threshold /= 2 if _METRIC.value == "cosine" else 1
    print(f"threshold {threshold:g}: {source}", flush=True)
  if (_NUM_CLUSTERS.value or 0) > len(embedded.paths):
    common.fail(f"--num_clusters={_NUM_CLUSTERS.value} exceeds the "
                f"{len(embedded.paths)} images.")
  labels = clustering.cluster(embedded.embeddings, _METHOD.value, threshold,
                              _NUM_CLUSTERS.value, _METRIC.value,
                              _LINKAGE.value)
  if _OUTPUT_CSV.value:
    clustering.write_csv(_OUTPUT_CSV.value, embedded.paths, labels,
                         embedded.faces)
  if _LINKS_DIR.value:
    clustering.write_links(_LINKS_DIR.value, embedded.paths,
                           embedded.identities, labels)
  for line in clustering.describe_clusters(embedded.paths, labels,
                                           embedded.faces):
    print(line)
  result = {"method": _METHOD.value, "threshold": threshold,
            "num_clusters": int(labels.max()) + 1,
            "num_items": len(labels), "photos_without_face":
                len(embedded.no_face), "unreadable": len(embedded.skipped)}
  main = embedded.main_faces()
  main = main[embedded.labels[main] >= 0]  # unlabelled photos: no truth
  result["labelled_items"] = len(main)
  if len(set(embedded.labels[main])) > 1:
    metrics = clustering.evaluate(embedded.labels[main], labels[main])
    print(f"{len(main)} main faces of {metrics['num_identities']} "
          f"identities -> {metrics['num_clusters']} clusters: pairwise "
          f"precision {metrics['precision']:.4f}, recall "
          f"{metrics['recall']:.4f}, F1 {metrics['f1']:.4f}; NMI "
          f"{metrics['nmi']:.4f}")
    result.update({key: metrics[key] for key in (
        "precision", "recall", "f1", "nmi", "num_identities")})
  else:
    print("No metrics: precision, recall and NMI need photos in two or more "
          "identity folders (the clusters above are the result).")
  print(json.dumps(result), flush=True)
  if flags.FLAGS.images_dir:  # --embeddings: all its input was read
    verdicts.finish(embedded.num_photos, len(embedded.skipped))


def run():
  common.run(main)


if __name__ == "__main__":
  run()
