"""The local runner: a pool of processes, each task one whole shard.

A label depends on which identities are skipped, which is known only once
every image is decoded, so the work runs in two passes over the shards:
  1. stage: a worker converts the identities of one shard one at a time and
     appends each (images and all) to that shard's hidden staging file,
     returning only the summaries;
  2. write: with the labels known, a worker streams one staging file into
     the shard's records, then deletes it.
Each image is read and decoded once; pass 2 only serialises. Memory is one
identity's images per worker plus the summaries in the parent; disk holds
the staging files (about the output's size) until pass 2 ends. Use at least
as many shards as workers: a shard is the unit of parallelism.
"""
import concurrent.futures
import functools
import logging
import multiprocessing
import pickle

import tensorflow as tf

from data_pipelines import tfrecords_identities
from data_pipelines import tfrecords_output


def run(job, identities, num_workers):
  """Converts identity folders into the job's shards.

  Args:
    job: a `tfrecords_output.Job`.
    identities: `(name, shard)` pairs from `list_identities`, in record order.
    num_workers: number of worker processes.

  Returns:
    The `Identity.summary()` of every identity, for the manifest.
  """
  names_by_shard = [[] for _ in range(job.num_shards)]
  for name, shard in identities:
    names_by_shard[shard].append(name)
  shards = range(job.num_shards)
  # spawn, not fork: TensorFlow's runtime threads do not survive a fork.
  context = multiprocessing.get_context("spawn")
  with concurrent.futures.ProcessPoolExecutor(
      num_workers, mp_context=context) as pool:
    summaries = []
    staged = pool.map(functools.partial(_stage_shard, job), shards,
                      names_by_shard)
    for shard, shard_summaries in enumerate(staged):
      summaries.extend(shard_summaries)
      logging.info("Converted shard %d/%d", shard + 1, job.num_shards)
    labels = tfrecords_identities.assign_labels(
        s["name"] for s in summaries if s["num_images"])
    labels_by_shard = [{n: labels[n] for n in names if n in labels}
                       for names in names_by_shard]
    for shard in pool.map(functools.partial(_write_shard, job), shards,
                          labels_by_shard):
      logging.info("Wrote shard %d/%d", shard + 1, job.num_shards)
  return summaries


def _stage_shard(job, shard, names):
  """Pass 1 for one shard: convert its identities into its staging file."""
  summaries = []
  with tf.io.gfile.GFile(job.staging_path(shard), "wb") as staging:
    for name in names:
      identity = tfrecords_identities.convert_identity(
          job.input_dir, name, shard, job.min_images)
      if identity.images:
        pickle.dump(identity, staging, protocol=pickle.HIGHEST_PROTOCOL)
      summaries.append(identity.summary())
  return summaries


def _write_shard(job, shard, labels):
  """Pass 2 for one shard: its staged identities, labelled, as records."""
  staging_path = job.staging_path(shard)
  tfrecords_output.write_shard(job.shard_path(shard),
                               _labelled_records(staging_path, labels))
  if tf.io.gfile.exists(staging_path):
    tf.io.gfile.remove(staging_path)
  return shard


def _labelled_records(staging_path, labels):
  # GFile creates a file on the first write: a shard without one usable
  # identity has no staging file, and no records.
  if not tf.io.gfile.exists(staging_path):
    return
  with tf.io.gfile.GFile(staging_path, "rb") as staging:
    while True:
      try:
        identity = pickle.load(staging)
      except EOFError:
        return
      yield tfrecords_identities.serialize(labels[identity.name], identity)
