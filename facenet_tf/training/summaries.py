"""TensorBoard output: training scalars, distance histograms, the projector.

Layout under `<workdir>/tensorboard/`, the README's `tensorboard --logdir
<workdir>/tensorboard`: `train/` (every `log_every` steps), `eval/`
(verification during and at the end) and `projector/` (a sample of held-out
embeddings with identity names as metadata).

TensorBoard's projector plugin reads `projector_config.pbtxt` only from the
logdir itself and from its runs, and a run is a directory that holds an
event file (the plugin lists the data provider's runs: tensorflow/tensorboard
#3629, #4494). So `projector/` also gets an event file (a text summary
saying what the embeddings are): that makes it a run, and the one logdir
shows the scalars and the projector.
"""
import os

import numpy as np
import tensorflow as tf
from tensorboard.plugins import projector
from tensorboard.plugins.histogram import metadata as histogram_metadata

from facenet_tf.training import trainer as trainer_lib

SCALARS = ("loss", "active_fraction", "mean_d_ap", "mean_d_an",
           "positive_pairs", "anchors_without_positive",
           "anchors_without_negative", "regularization_loss",
           "embedding_norm_mean", "embedding_norm_min", "embedding_norm_max")
# With loss.softmax_weight > 0, loss.distill_weight > 0.
OPTIONAL_SCALARS = ("softmax_loss", "distill_loss")


class TrainSummaries:
  """Writes one training step's statistics (the train step's logs)."""

  def __init__(self, workdir, metric, enabled=True):
    root = os.path.join(workdir, "tensorboard")
    if enabled:
      self.train = tf.summary.create_file_writer(os.path.join(root, "train"))
      self.eval = tf.summary.create_file_writer(os.path.join(root, "eval"))
    else:  # a non-chief worker: the chief writes the logs
      self.train = self.eval = tf.summary.create_noop_writer()
    limit = trainer_lib.DISTANCE_RANGE[metric]
    self._edges = np.linspace(0.0, limit, trainer_lib.HISTOGRAM_BINS + 1)

  def write_train(self, step, logs, learning_rate, images_per_second):
    with self.train.as_default(step=step):
      for name in SCALARS + OPTIONAL_SCALARS:
        if name in logs:
          tf.summary.scalar(name, float(logs[name]))
      tf.summary.scalar("learning_rate", learning_rate)
      tf.summary.scalar("images_per_second", images_per_second)
      for name in ("d_ap", "d_an"):
        self._histogram(f"distance_{name}", np.asarray(logs[f"hist_{name}"]))
    self.train.flush()

  def _histogram(self, tag, counts):
    # The train step counts distances into fixed bins (static shapes, any
    # strategy), so the histogram is written from counts, not raw values.
    buckets = np.stack([self._edges[:-1], self._edges[1:], counts], axis=1)
    tf.summary.write(tag, tf.constant(buckets, tf.float64),
                     metadata=histogram_metadata.create_summary_metadata(
                         display_name=tag, description="distance counts"))

  def write_eval(self, step, results):
    with self.eval.as_default(step=step):
      for name, value in results.items():
        tf.summary.scalar(name, float(value))
    self.eval.flush()


def write_projector(workdir, embeddings, names, step=0):
  """The embedding projector for `embeddings` [N, D], named by `names`.

  Writes `<workdir>/tensorboard/projector/`: metadata.tsv, the embedding
  checkpoint, projector_config.pbtxt (paths relative to the directory, so
  the workdir can move) and an event file that makes the directory a run
  TensorBoard finds (module docstring). Returns the directory.
  """
  logdir = os.path.join(workdir, "tensorboard", "projector")
  os.makedirs(logdir, exist_ok=True)
  with open(os.path.join(logdir, "metadata.tsv"), "w") as f:
    f.writelines(f"{name}\n" for name in names)  # one column: no header row
  checkpoint = tf.train.Checkpoint(embedding=tf.Variable(embeddings))
  checkpoint.save(os.path.join(logdir, "embedding.ckpt"))
  config = projector.ProjectorConfig()
  entry = config.embeddings.add()
  entry.tensor_name = "embedding/.ATTRIBUTES/VARIABLE_VALUE"
  entry.metadata_path = "metadata.tsv"
  projector.visualize_embeddings(logdir, config)
  writer = tf.summary.create_file_writer(logdir)
  with writer.as_default(step=step):
    tf.summary.text("projector", f"{len(names)} held-out embeddings in the "
                    "PROJECTOR tab, named by identity (metadata.tsv)")
  writer.close()
  return logdir
