"""`train(config, workdir)`: the whole run, called by the app and by tests.

Build the model under the strategy, restore the latest checkpoint if any
(the step counter and the data continue from it), then run the training
loop (training/loop.py) with its hooks: TensorBoard summaries, checkpoints,
the configured evaluators (training/evaluators.py: held-out verification
and config.evals) during and after training, and the export with the
run's alignment spec and calibrated thresholds. Then the projector and
results.json.
"""
import os
import time

import keras
import tensorflow as tf

from facenet_tf import atomic_files
from facenet_tf import config as config_lib
from facenet_tf import workdir as workdir_lib
from facenet_tf.alignment import spec as spec_lib
from facenet_tf.training import evaluators
from facenet_tf.training import hooks as hooks_lib
from facenet_tf.training import inputs
from facenet_tf.training import loop
from facenet_tf.training import memory_budget
from facenet_tf.training import optimizers
from facenet_tf.training import summaries
from facenet_tf.training import trainer as trainer_lib


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
    loop.report("Memory budget %.1f GiB per replica: grad_cache_chunk %d.",
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


def resume(manager, workdir, step):
  """Restores the chief's latest checkpoint, if any (every worker resumes
  from it); returns the step it holds, 0 for a new run."""
  latest = tf.train.latest_checkpoint(workdir_lib.path(workdir, "checkpoints"))
  if latest:
    manager.checkpoint.restore(latest).assert_consumed()
    loop.report("Resumed from %s at step %d.", latest, int(step.numpy()))
  return int(step.numpy())


def train(config, workdir, strategy=None):
  """Trains, evaluates and exports; returns the result dict (results.json)."""
  started = time.time()
  config = config_lib.validate(config)
  evaluators.check(config)
  config, strategy, chief, task_id = start_run(config, workdir, strategy)
  t = config.train
  with strategy.scope():
    embedder = workdir_lib.build_embedder(config)
    trainer = trainer_lib.FaceNetTrainer.from_experiment(
        config, embedder, optimizers.make_optimizer(
            config.optimizer, t.steps, config.model.dtype_policy),
        num_classes=(inputs.num_train_classes(config)
                     if config.loss.softmax_weight else 0),
        distill_center=inputs.teacher_center(config))
    # Build the slots now, so a checkpoint restores them instead of deferring.
    trainer.optimizer.build(trainer.trainable_variables)
    step = tf.Variable(0, dtype=tf.int64, trainable=False)
  classifier = ({"classifier": trainer.classifier}
                if trainer.classifier is not None else {})
  manager = workdir_lib.checkpoint_manager(
      workdir, config, chief, task_id, embedder=embedder,
      optimizer=trainer.optimizer, step=step, **classifier)
  start_step = resume(manager, workdir, step)
  writer = summaries.TrainSummaries(workdir, config.loss.metric, chief)
  image_size = tuple(embedder.image_size)
  run_hooks = hooks_lib.standard_hooks(config, writer, manager)
  if chief:
    evaluation = hooks_lib.EvalHook(evaluators.build(config, image_size),
                                    writer, t.eval_every, at_end=True)
    exporter = hooks_lib.ExportHook(config, workdir)
    run_hooks += [evaluation, exporter]
  state = loop.run_loop(
      trainer, lambda start: inputs.train_iterator(config, strategy,
                                                   image_size, start),
      step, t.steps, run_hooks, strategy, t.jit_compile)
  if not chief:
    return {"workdir": os.path.abspath(workdir), "steps": state.step,
            "resumed_from_step": start_step, "chief": False,
            "seconds": round(time.time() - started, 2)}
  _, emb, names = evaluation.final[config_lib.VERIFICATION]
  summaries.write_projector(workdir, emb[:t.projector_samples],
                            names[:t.projector_samples], state.step)
  alignment = spec_lib.read(workdir)
  thresholds = exporter.thresholds
  out = {**evaluators.summary({name: result for name, (result, _, _)
                               in evaluation.final.items()}),
         "saved_model": exporter.saved_model,
         "workdir": os.path.abspath(workdir),
         "steps": state.step, "resumed_from_step": start_step,
         "seconds": round(time.time() - started, 2),
         "num_replicas": strategy.num_replicas_in_sync,
         "alignment": alignment.to_dict() if alignment else None,
         "thresholds": thresholds.to_dict() if thresholds else None}
  atomic_files.write_json(workdir_lib.path(workdir, "results.json"), out,
                          indent=2)
  return out
