"""`train(config, workdir)`: the harmonic-embedding recipe (arXiv v3 §7).

    v1          harmonic.v1_workdir's latest checkpoint, frozen
    v2 start    harmonic.init_workdir's latest checkpoint (another
                architecture or seed), its "embedding" layer re-initialised
    phase 1     harmonic.phase1_steps: the embedding layer alone
    phase 2     harmonic.phase2_steps: the whole network
    evaluation  v1_v1, v2_v2, v1_v2 (v1 gallery, v2 probes) and
                baseline_v1_init (the v2 start against v1) -> results.json
    export      v2 as a SavedModel with the run's alignment spec and the
                thresholds calibrated on config.eval.calibration_pairs

Both phases train with the harmonic triplet loss (losses/harmonic.py) on
the config's data, through the training loop every recipe shares
(training/loop.py) and train_lib's hooks (TensorBoard, checkpoints,
held-out v2 verification every train.eval_every, the export). The config is an
experiment config plus a `harmonic` section (`default_section()`); two keys
are resolved rather than read: `model` becomes the init workdir's (v2 keeps
that architecture) and `train.steps` becomes phase1_steps + phase2_steps.
config.json keeps the resolved config, so facenet-eval and facenet-export
treat the workdir like any other. Steps count across the phases; the
checkpoint holds v2, the step and both phases' optimizers, so a killed run
resumes in its phase, and phase 1's end is checkpointed before phase 2.
"""
import os
import time

import keras
import ml_collections
import tensorflow as tf

from facenet_tf import config as config_lib
from facenet_tf import workdir as workdir_lib
from facenet_tf.training import evaluators
from facenet_tf.training import harmonic_eval
from facenet_tf.training import harmonic_trainer
from facenet_tf.training import hooks
from facenet_tf.training import inputs
from facenet_tf.training import loop
from facenet_tf.training import optimizers
from facenet_tf.training import summaries
from facenet_tf.training import train_lib


def default_section():
  """The `harmonic` config section; experiments set the two workdirs."""
  h = ml_collections.ConfigDict()
  h.v1_workdir = ""            # the old model, v1 (facenet-train workdir)
  h.init_workdir = ""          # v2's start: another architecture or seed
  h.phase1_steps = 300         # the re-initialised embedding layer alone
  h.phase2_steps = 600         # the whole network
  h.phase1_learning_rate = 0.0  # 0: optimizer.learning_rate, as phase 2
  return h


def _check(ok, message):
  if not ok:
    raise config_lib.ConfigError(message)


def _check_workdir(key, value, workdir):
  _check(os.path.isfile(workdir_lib.path(value, "config.json")),
         f"harmonic.{key} {value!r} is not a facenet-train workdir (no "
         "config.json): train that model first.")
  _check(os.path.abspath(value) != os.path.abspath(workdir),
         f"--workdir must be a new directory, not harmonic.{key}.")


def resolve(config, workdir):
  """The validated run config: `model` from the init workdir, `train.steps`
  = phase1_steps + phase2_steps. Raises ConfigError on a bad section."""
  h = config.harmonic
  _check_workdir("v1_workdir", h.v1_workdir, workdir)
  _check_workdir("init_workdir", h.init_workdir, workdir)
  _check(h.phase1_steps >= 0 and h.phase2_steps >= 0
         and h.phase1_steps + h.phase2_steps >= 1,
         f"harmonic.phase1_steps ({h.phase1_steps}) and phase2_steps "
         f"({h.phase2_steps}) must be >= 0, with at least one step in all.")
  _check(h.phase1_learning_rate >= 0,
         "harmonic.phase1_learning_rate must be >= 0 (0: the optimizer's).")
  _check(config.loss.softmax_weight == 0,
         "loss.softmax_weight must be 0: §7 trains with the triplet loss.")
  v1_dim = workdir_lib.load_config(h.v1_workdir).model.embedding_dim
  init_model = workdir_lib.load_config(h.init_workdir).model
  _check(v1_dim == init_model.embedding_dim,
         f"v1 ({h.v1_workdir}) embeds in {v1_dim} dimensions and the init "
         f"model ({h.init_workdir}) in {init_model.embedding_dim}: §7's v1 "
         "and v2 embeddings must have the same size.")
  c = config.copy_and_resolve_references()
  c.unlock()
  c.model = ml_collections.ConfigDict(init_model.to_dict())
  c.train.steps = h.phase1_steps + h.phase2_steps
  return config_lib.validate(c)


def reinitialize_embedding(embedder, seed):
  """A fresh kernel from the "embedding" layer's own initializer, seeded,
  and a zero bias (§7: "randomly re-initialise the embedding layer")."""
  layer = embedder.get_layer("embedding")
  spec = keras.initializers.serialize(layer.kernel_initializer)
  spec["config"]["seed"] = seed
  kernel = keras.initializers.deserialize(spec)
  layer.kernel.assign(kernel(layer.kernel.shape, layer.kernel.dtype))
  layer.bias.assign(tf.zeros_like(layer.bias))


def _phase_optimizers(config, v2):
  """(phase 1's, phase 2's) optimizers, built on the variables each trains."""
  h = config.harmonic
  phase1 = config.optimizer.copy_and_resolve_references()
  phase1.learning_rate = (h.phase1_learning_rate
                          or config.optimizer.learning_rate)
  opts = (optimizers.make_optimizer(phase1, h.phase1_steps,
                                    config.model.dtype_policy),
          optimizers.make_optimizer(config.optimizer, h.phase2_steps,
                                    config.model.dtype_policy))
  # Built now, so a checkpoint restores their slots instead of deferring.
  opts[0].build(v2.get_layer("embedding").trainable_variables)
  opts[1].build(v2.trainable_variables)
  return opts


def _run_phase(config, strategy, state, train_layers, optimizer, end_step,
               hooks):
  """Trains `state["v2"]` from the current step to `end_step`."""
  start = int(state["step"].numpy())
  if start < end_step:
    loop.report("Harmonic phase %s: steps %d..%d, training %s layers.",
                1 if train_layers == "embedding" else 2, start + 1, end_step,
                train_layers)
  with strategy.scope():
    trainer = harmonic_trainer.HarmonicTrainer.from_experiment(
        config, state["v2"], optimizer, v1_embedder=state["v1"],
        train_layers=train_layers)
  image_size = tuple(state["v2"].image_size)
  # The hooks' CheckpointHook saves a finished phase: a resume never
  # repeats it.
  loop.run_loop(
      trainer, lambda first: inputs.train_iterator(config, strategy,
                                                   image_size, first),
      state["step"], end_step, hooks, strategy, config.train.jit_compile)


def train(config, workdir, strategy=None):
  """Runs the recipe, evaluates and exports; returns results.json's dict."""
  started = time.time()
  config = resolve(config, workdir)
  evaluators.check(config)
  h = config.harmonic
  config, strategy, chief, task_id = train_lib.start_run(config, workdir,
                                                        strategy)
  with strategy.scope():
    v1, _ = workdir_lib.restore_embedder(h.v1_workdir)
    v2, _ = workdir_lib.restore_embedder(h.init_workdir)
    reinitialize_embedding(v2, config.seed)
    opts = _phase_optimizers(config, v2)
    step = tf.Variable(0, dtype=tf.int64, trainable=False)
  manager = workdir_lib.checkpoint_manager(
      workdir, config, chief, task_id, embedder=v2, step=step,
      phase1_optimizer=opts[0], phase2_optimizer=opts[1])
  # The re-initialised layer gives way to the trained one.
  start_step = train_lib.resume(manager, workdir, step)
  writer = summaries.TrainSummaries(workdir, config.loss.metric, chief)
  run_hooks = hooks.standard_hooks(config, writer, manager)
  if chief:
    run_evaluators = evaluators.build(config, tuple(v2.image_size))
    run_hooks.append(hooks.EvalHook(run_evaluators, writer,
                                    config.train.eval_every))
  exporter = hooks.ExportHook(config, workdir)
  state = {"v1": v1, "v2": v2, "step": step}
  _run_phase(config, strategy, state, "embedding", opts[0], h.phase1_steps,
             run_hooks)
  _run_phase(config, strategy, state, "all", opts[1], config.train.steps,
             run_hooks + ([exporter] if chief else []))
  out = {"workdir": os.path.abspath(workdir), "steps": int(step.numpy()),
         "resumed_from_step": start_step,
         "phase1_steps": h.phase1_steps, "phase2_steps": h.phase2_steps,
         "num_replicas": strategy.num_replicas_in_sync}
  if chief:
    out.update(harmonic_eval.evaluate(
        config, workdir, v1, v2, run_evaluators[config_lib.VERIFICATION],
        writer, out["steps"]))
    out["saved_model"] = exporter.saved_model
    out["thresholds"] = (exporter.thresholds.to_dict()
                         if exporter.thresholds else None)
  out["seconds"] = round(time.time() - started, 2)
  if chief:
    harmonic_eval.write_results(workdir, out)
  return out
