"""`train(config, workdir)`: the whole run, called by the app and by tests.

Build the model under the strategy, restore the latest checkpoint if any
(the step counter and the data continue from it), train with the global-
mining step, log to TensorBoard, checkpoint, then verify on held-out
identities, write the projector and export a SavedModel.
"""
import os
import sys
import time

import keras
import numpy as np
import tensorflow as tf

from facenet_tf import atomic_files
from facenet_tf import config as config_lib
from facenet_tf import export
from facenet_tf.alignment import spec as spec_lib
from facenet_tf.evaluation import calibration
from facenet_tf.training import inputs
from facenet_tf.training import memory_budget
from facenet_tf.training import optimizers
from facenet_tf.training import summaries
from facenet_tf.training import trainer as trainer_lib
from facenet_tf.training import workdir as workdir_lib


def report(message, *args):
  """A progress line of the run on stderr: the run's own output, shown
  whatever the logging verbosity (apps hide absl INFO unless --verbose)."""
  print(message % args, file=sys.stderr, flush=True)


def _image_size(embedder):
  return tuple(embedder.image_size)


def _make_step(strategy, trainer, jit_compile):
  if (jit_compile and strategy.num_replicas_in_sync > 1
      and not isinstance(strategy, tf.distribute.TPUStrategy)
      and any("GPU" not in d for d in strategy.extended.worker_devices)):
    # Measured in TF 2.21 (tests/test_xla_step.py): XLA_CPU_JIT has no
    # CollectiveGatherV2, and MirroredStrategy jit-compiles across CPUs.
    raise config_lib.ConfigError(
        "train.jit_compile needs GPUs or TPUs under a multi-replica "
        "strategy: XLA on CPU has no collectives.")
  step_fn = tf.function(trainer.train_step, jit_compile=jit_compile or None)

  @tf.function
  def distributed_step(batch):
    logs = strategy.run(step_fn, args=(batch,))
    # The step's statistics are global, identical on every replica.
    return tf.nest.map_structure(
        lambda v: strategy.experimental_local_results(v)[0], logs)

  return distributed_step


def _write_eval(writer, step, result):
  writer.write_eval(step, {
      "verification_accuracy": result["accuracy"],
      "verification_accuracy_std": result["accuracy_std"],
      "verification_val": result["val"], "verification_auc": result["auc"],
      "verification_eer": result["eer"]})
  report("step %d held-out verification accuracy %.4f +- %.4f", step,
         result["accuracy"], result["accuracy_std"])


def start_run(config, workdir, strategy=None):
  """(config, strategy, chief, task_id): the chief keeps config.json.

  The returned config has the gradient-cache chunk of its memory budget
  (memory_budget.py), if it gives one; the seeds are set.

  Raises:
    ConfigError: the batch does not split over the strategy's replicas, or
      the memory budget cannot hold one image.
  """
  strategy = strategy or tf.distribute.get_strategy()
  replicas = strategy.num_replicas_in_sync
  if config.train.memory_budget_gb:
    config = memory_budget.resolve_chunk(
        config, workdir_lib.build_embedder(config), replicas)
    report("Memory budget %.1f GiB per replica: grad_cache_chunk %d.",
           config.train.memory_budget_gb, config.train.grad_cache_chunk)
  config_lib.validate_for_replicas(config, replicas)
  chief, task_id = workdir_lib.worker_role(strategy)
  if chief:
    workdir_lib.save_config(config, workdir)
    # The faces' alignment travels with the model: workdir, then export.
    alignment = inputs.alignment(config)
    if alignment is not None:
      spec_lib.write(alignment, workdir)
  keras.utils.set_random_seed(config.seed)
  return config, strategy, chief, task_id


def train(config, workdir, strategy=None):
  """Trains, evaluates and exports; returns the result dict (results.json)."""
  started = time.time()
  config = config_lib.validate(config)
  config, strategy, chief, task_id = start_run(config, workdir, strategy)
  with strategy.scope():
    embedder = workdir_lib.build_embedder(config)
    trainer = trainer_lib.FaceNetTrainer(
        embedder, mining=config.loss.mining, margin=config.loss.margin,
        metric=config.loss.metric, mining_scope=config.loss.mining_scope,
        grad_cache_chunk=config.train.grad_cache_chunk,
        num_classes=(inputs.num_train_classes(config)
                     if config.loss.softmax_weight else 0),
        softmax_weight=config.loss.softmax_weight,
        softmax_scale=config.loss.softmax_scale,
        softmax_margin=config.loss.softmax_margin,
        softmax_pretrain_steps=config.loss.softmax_pretrain_steps)
    trainer.compile(optimizer=optimizers.make_optimizer(
        config.optimizer, config.train.steps, config.model.dtype_policy))
    # Build the slots now, so a checkpoint restores them instead of deferring.
    trainer.optimizer.build(trainer.trainable_variables)
    step = tf.Variable(0, dtype=tf.int64, trainable=False)
  classifier = ({"classifier": trainer.classifier}
                if trainer.classifier is not None else {})
  manager = workdir_lib.checkpoint_manager(
      workdir, config, chief, task_id, embedder=embedder,
      optimizer=trainer.optimizer, step=step, **classifier)
  # Every worker resumes from the chief's checkpoint.
  latest = tf.train.latest_checkpoint(workdir_lib.path(workdir, "checkpoints"))
  if latest:
    manager.checkpoint.restore(latest).assert_consumed()
    report("Resumed from %s at step %d.", latest, int(step.numpy()))
  start_step = int(step.numpy())
  writer = summaries.TrainSummaries(workdir, config.loss.metric, chief)
  verifier = inputs.verifier(config, _image_size(embedder)) if chief else None
  if start_step < config.train.steps:
    _loop(config, strategy, trainer, step, manager, writer, verifier,
          start_step)
  final_step = int(step.numpy())
  if not (manager.latest_checkpoint or "").endswith(f"-{final_step}"):
    manager.save(checkpoint_number=final_step)
  if not chief:
    return {"workdir": os.path.abspath(workdir), "steps": final_step,
            "resumed_from_step": start_step, "chief": False,
            "seconds": round(time.time() - started, 2)}
  result, emb, names = verifier(embedder)
  _write_eval(writer, final_step, result)
  n = config.train.projector_samples
  summaries.write_projector(workdir, emb[:n], names[:n])
  alignment = spec_lib.read(workdir)
  thresholds = _calibrate(config, embedder)
  saved_model = None
  if config.export.enabled:
    saved_model = export.export_saved_model(
        embedder, workdir_lib.path(workdir, "saved_model"), overwrite=True,
        alignment=alignment, thresholds=thresholds)
  out = {"verification_accuracy": result["accuracy"],
         "verification_accuracy_std": result["accuracy_std"],
         "verification_val": result["val"], "verification_far": result["far"],
         "verification_auc": result["auc"],
         "saved_model": saved_model, "workdir": os.path.abspath(workdir),
         "steps": final_step, "resumed_from_step": start_step,
         "seconds": round(time.time() - started, 2),
         "num_replicas": strategy.num_replicas_in_sync,
         "alignment": alignment.to_dict() if alignment else None,
         "thresholds": thresholds}
  atomic_files.write_json(workdir_lib.path(workdir, "results.json"), out,
                          indent=2)
  return out


def _calibrate(config, embedder):
  """The export's thresholds, from config.eval.calibration_pairs (or None)."""
  if not config.eval.calibration_pairs:
    return None
  forward = tf.function(lambda x: embedder(x, training=False))
  return calibration.calibrate(
      lambda x: forward(x).numpy(), _image_size(embedder),
      config.eval.calibration_pairs,
      config.eval.calibration_images_dir or None, config.eval.target_far)


def _loop(config, strategy, trainer, step, manager, writer, verifier,
          start_step):
  t = config.train
  data = inputs.train_iterator(config, strategy,
                              _image_size(trainer.embedder), start_step)
  train_step = _make_step(strategy, trainer, t.jit_compile)
  batch_size = config.data.p * config.data.k + config.data.r
  tick, tick_step = time.time(), start_step
  for current in range(start_step + 1, t.steps + 1):
    logs = train_step(next(data))
    step.assign(current)
    if current % t.log_every == 0 or current == t.steps:
      now = time.time()
      rate = batch_size * (current - tick_step) / max(now - tick, 1e-9)
      logs = {k: v.numpy() for k, v in logs.items()}
      lr = optimizers.current_learning_rate(trainer.optimizer)
      writer.write_train(current, logs, lr, rate)
      report("step %d/%d loss %.4f active %.3f d_ap %.3f d_an %.3f "
             "lr %.4g %.0f img/s", current, t.steps, logs["loss"],
             logs["active_fraction"], logs["mean_d_ap"], logs["mean_d_an"],
             lr, rate)
      if not np.isfinite(logs["loss"]):
        raise FloatingPointError(f"Loss is {logs['loss']} at step {current}.")
      tick, tick_step = time.time(), current
    if current % t.checkpoint_every == 0:
      manager.save(checkpoint_number=current)
    if (verifier and t.eval_every and current % t.eval_every == 0
        and current < t.steps):
      eval_started = time.time()
      _write_eval(writer, current, verifier(trainer.embedder)[0])
      tick += time.time() - eval_started  # images/s counts training only
