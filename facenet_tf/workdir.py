"""The workdir: resolved config, checkpoints, TensorBoard logs and the export.

    <workdir>/config.json        the resolved config of the run
    <workdir>/checkpoints/       tf.train.Checkpoint: embedder, optimizer, step
    <workdir>/tensorboard/       train/, eval/, projector/
    <workdir>/saved_model/       the export (facenet_tf.export)
    <workdir>/results.json       the final metrics (the app's last line)

Evaluation and export need only `--workdir`: the model is rebuilt from
config.json and its weights restored from the latest checkpoint.
"""
import json
import os

import ml_collections
import tensorflow as tf

from facenet_tf import atomic_files
from facenet_tf import config as config_lib
from facenet_tf import models

# Keys a restarted run may change: training longer continues the same run.
RESUMABLE_CHANGES = ("train.steps",)


def path(workdir, *parts):
  return os.path.join(workdir, *parts)


def _flatten(d, prefix=""):
  out = {}
  for key, value in d.items():
    if isinstance(value, dict):
      out.update(_flatten(value, f"{prefix}{key}."))
    else:
      out[f"{prefix}{key}"] = value
  return out


def save_config(config, workdir):
  """Writes config.json, or checks that a restarted run has the same config."""
  os.makedirs(workdir, exist_ok=True)
  filename = path(workdir, "config.json")
  new = json.loads(config.to_json())
  if os.path.exists(filename):
    with open(filename) as f:
      old = json.load(f)
    old_flat, new_flat = _flatten(old), _flatten(new)
    changed = sorted(k for k in set(old_flat) | set(new_flat)
                     if old_flat.get(k) != new_flat.get(k)
                     and k not in RESUMABLE_CHANGES)
    if changed:
      details = "; ".join(f"{k}: {old_flat.get(k)!r} -> {new_flat.get(k)!r}"
                          for k in changed[:5])
      raise config_lib.ConfigError(
          f"{workdir} holds a run with another config ({details}). Resume "
          "with the same config, or use a new --workdir.")
  atomic_files.write_text(filename, json.dumps(new, indent=2) + "\n")


def load_config(workdir):
  """The run's config.json, validated but for its data paths.

  config.json is the resolved config: with train.memory_budget_gb it also
  holds the chunk derived from the budget (train_lib.start_run), which a
  user may not set beside a budget; the check reads it as the user set it.
  Its callers rebuild the model (evaluate, export, harmonic's v1), which
  needs no training data: a workdir copied to a machine without them loads.
  """
  filename = path(workdir, "config.json")
  if not os.path.exists(filename):
    raise FileNotFoundError(f"{filename} does not exist: is {workdir} a "
                            "facenet_tf training workdir?")
  with open(filename) as f:
    config = ml_collections.ConfigDict(json.load(f))
  as_set = config.copy_and_resolve_references()
  if as_set.train.memory_budget_gb:
    as_set.train.grad_cache_chunk = 0
  config_lib.validate(as_set, check_paths=False)
  return config


def build_embedder(config):
  m = config.model
  return models.build(m.name, embedding_dim=m.embedding_dim,
                      image_size=(m.image_size, m.image_size)
                      if m.image_size else None,
                      weight_decay=m.weight_decay, dtype_policy=m.dtype_policy,
                      sync_batchnorm=m.sync_batchnorm)


def worker_role(strategy):
  """(is_chief, task_id) of this process under a multi-worker strategy.

  The chief (task 'chief', or worker 0 without one) owns the workdir's
  checkpoints, logs and export; the other workers save their (collective)
  checkpoints to a private `.worker-<id>/` and write nothing else.
  """
  resolver = getattr(strategy, "cluster_resolver", None)
  task_type = getattr(resolver, "task_type", None)
  if not task_type:
    return True, 0
  chief = task_type == "chief" or (
      task_type == "worker" and resolver.task_id == 0
      and "chief" not in resolver.cluster_spec().as_dict())
  return chief, resolver.task_id


def checkpoint_manager(workdir, config, chief=True, task_id=0, **objects):
  checkpoint = tf.train.Checkpoint(**objects)
  directory = (path(workdir, "checkpoints") if chief else
               path(workdir, f".worker-{task_id}", "checkpoints"))
  return tf.train.CheckpointManager(checkpoint, directory,
                                    max_to_keep=config.train.keep_checkpoints)


def restore_embedder(workdir):
  """(embedder, step) rebuilt from config.json and the latest checkpoint."""
  config = load_config(workdir)
  embedder = build_embedder(config)
  step = tf.Variable(0, dtype=tf.int64)
  manager = checkpoint_manager(workdir, config, embedder=embedder, step=step)
  if not manager.latest_checkpoint:
    raise FileNotFoundError(f"No checkpoint in {path(workdir, 'checkpoints')}.")
  # The optimizer's slots are in the checkpoint too; they are not needed here.
  manager.checkpoint.restore(manager.latest_checkpoint).expect_partial()
  return embedder, int(step.numpy())
