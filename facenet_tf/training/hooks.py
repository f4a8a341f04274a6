"""What the training recipes do between steps: training/loop.py's hooks.

  SummaryHook     every train.log_every steps and the last: TensorBoard's
                  train/ scalars and histograms, a progress line on stderr,
                  and a stop on a non-finite loss
  CheckpointHook  every train.checkpoint_every steps, and at the end: a
                  finished loop is always checkpointed, so a resumed run
                  never repeats it
  EvalHook        every train.eval_every steps: the run's evaluators
                  (config.eval and config.evals: training/evaluators.py) to
                  TensorBoard's eval/ (the last step is left to the run's
                  final evaluation: `at_end` does it and keeps it)
  ExportHook      at the end: thresholds calibrated on
                  config.eval.calibration_pairs, then `export_run_model`

`standard_hooks` gives the first two from a config; train_lib and
harmonic_lib add evaluation and the export.
"""
import numpy as np
import tensorflow as tf

from facenet_tf import config as config_lib
from facenet_tf import export
from facenet_tf import workdir as workdir_lib
from facenet_tf.alignment import spec as spec_lib
from facenet_tf.evaluation import calibration
from facenet_tf.evaluation import eval_lib
from facenet_tf.training import evaluators as evaluators_lib
from facenet_tf.training import loop
from facenet_tf.training import optimizers


class SummaryHook(loop.Hook):
  """Training statistics every `every` steps and at the last one; images/s
  counts training time only (loop.LoopState.train_seconds)."""

  def __init__(self, writer, every, images_per_step):
    super().__init__(every)
    self.writer, self.images_per_step = writer, images_per_step
    self._since = None

  def begin(self, state):
    self._since = (state.start_step, state.train_seconds)

  def due(self, state):
    return super().due(state) or state.step == state.last_step

  def run(self, state):
    since_step, since_seconds = self._since
    rate = (self.images_per_step * (state.step - since_step)
            / max(state.train_seconds - since_seconds, 1e-9))
    self._since = (state.step, state.train_seconds)
    logs = {k: v.numpy() for k, v in state.logs.items()}
    lr = optimizers.current_learning_rate(state.trainer.optimizer)
    self.writer.write_train(state.step, logs, lr, rate)
    loop.report("step %d/%d loss %.4f active %.3f d_ap %.3f d_an %.3f "
                "lr %.4g %.0f img/s", state.step, state.last_step,
                logs["loss"], logs["active_fraction"], logs["mean_d_ap"],
                logs["mean_d_an"], lr, rate)
    if not np.isfinite(logs["loss"]):
      raise FloatingPointError(f"Loss is {logs['loss']} at step "
                               f"{state.step}.")


class CheckpointHook(loop.Hook):
  """`manager.save` every `every` steps and after the loop's last step."""

  def __init__(self, manager, every):
    super().__init__(every)
    self.manager = manager

  def run(self, state):
    self.manager.save(checkpoint_number=state.step)

  def end(self, state):
    saved = (self.manager.latest_checkpoint or "").endswith(f"-{state.step}")
    if state.step > state.start_step and not saved:
      self.run(state)


class EvalHook(loop.Hook):
  """Every evaluator of `evaluators` ({name: evaluator}, training/
  evaluators.py) every `every` steps before the last; `at_end`: also after
  the loop, kept in `final` as {name: (result, embeddings, identity
  names)}. TensorBoard's eval/ gets <name>_accuracy, _val, _auc, ..."""

  def __init__(self, evaluators, writer, every, at_end=False):
    super().__init__(every)
    self.evaluators, self.writer, self.at_end = evaluators, writer, at_end
    self.final = None

  def due(self, state):
    return super().due(state) and state.step < state.last_step

  def run(self, state):
    return self._evaluate(state)

  def end(self, state):
    if self.at_end:
      self.final = self._evaluate(state)

  def _evaluate(self, state):
    out = {}
    for name, evaluator in self.evaluators.items():
      result, emb, names = evaluator(state.trainer.embedder)
      self.writer.write_eval(state.step, {
          f"{name}_{key}": result[key] for key in evaluators_lib.SCALAR_KEYS})
      loop.report("step %d held-out %s accuracy %.4f +- %.4f", state.step,
                  name, result["accuracy"], result["accuracy_std"])
      out[name] = (result, emb, names)
    return out


class ExportHook(loop.Hook):
  """After the loop: the run's thresholds, then (config.export.enabled)
  its SavedModel at <workdir>/saved_model; both kept as attributes."""

  def __init__(self, config, workdir):
    super().__init__()
    self.config, self.workdir = config, workdir
    self.thresholds = self.saved_model = None

  def end(self, state):
    embedder = state.trainer.embedder
    self.thresholds = calibrate(self.config, embedder)
    if self.config.export.enabled:
      self.saved_model = export_run_model(embedder, self.workdir,
                                          self.thresholds)


def standard_hooks(config, writer, manager):
  """The summaries and checkpoints of every worker of a run."""
  t = config.train
  return [SummaryHook(writer, t.log_every, config_lib.global_batch(config)),
          CheckpointHook(manager, t.checkpoint_every)]


def calibrate(config, embedder):
  """Thresholds on config.eval.calibration_pairs, or None without them."""
  e = config.eval
  if not e.calibration_pairs:
    return None
  # The float crops, not rounded to the export's uint8 as the verifier's
  # (eval_lib.of_keras): the thresholds recorded so far were chosen so.
  forward = tf.function(lambda x: embedder(x, training=False))
  model = eval_lib.Embedder(lambda x: forward(x).numpy(),
                            tuple(embedder.image_size), "training")
  return calibration.calibrate(
      model, e.calibration_pairs, e.calibration_images_dir or None,
      e.target_far, crop_fraction=e.crop_fraction or None)


def export_run_model(embedder, workdir, thresholds, output=None,
                     overwrite=True):
  """The SavedModel of a run's model (default <workdir>/saved_model), with
  the workdir's alignment spec and `thresholds`; its absolute path."""
  return export.export_saved_model(
      embedder, output or workdir_lib.path(workdir, "saved_model"),
      overwrite=overwrite, alignment=spec_lib.read(workdir),
      thresholds=thresholds)
