"""`run_loop`: the training loop every recipe shares, and its `Hook`s.

    state = loop.run_loop(trainer, batches, step, last_step, hooks,
                          strategy=strategy, jit_compile=False)

`trainer` is a compiled `FaceNetTrainer` (or a subclass: the harmonic one);
`step` is the run's step counter, a tf.Variable checkpointed with the model.
The loop trains from `step`'s value + 1 to `last_step`, so a run restored
from a checkpoint resumes where it stopped; `batches(start_step)` gives the
iterator of global batches from there (called only if a step remains).
Every hook's `begin` runs first; after each step, every hook that is
`due` runs; when the loop ends, every hook's `end` runs, in the list's
order, even if no step remained. Time spent
in hooks is not training time: `LoopState.train_seconds` leaves it out.
training/hooks.py holds the recipes' hooks (summaries, checkpoints,
evaluation, export).
"""
import dataclasses
import sys
import time

import tensorflow as tf

from facenet_tf import config as config_lib


def report(message, *args):
  """A progress line of the run on stderr: the run's own output, shown
  whatever the logging verbosity (apps hide absl INFO unless --verbose)."""
  print(message % args, file=sys.stderr, flush=True)


@dataclasses.dataclass
class LoopState:
  """What hooks see.

  Attributes:
    trainer: the trainer being trained (its `embedder` is the model).
    start_step: the step the loop started after (0, or a resumed step).
    last_step: the step the loop stops at.
    step: the last step trained (start_step before the first).
    logs: that step's logs (tensors), None before the first step.
    train_seconds: wall time spent in training steps so far.
  """
  trainer: object
  start_step: int
  last_step: int
  step: int
  logs: dict | None = None
  train_seconds: float = 0.0


class Hook:
  """Something a run does between steps. `every` N > 0: after each step
  that is a multiple of N (0: never); subclasses change `begin` (before
  the first step), `due`, `run` (what it does then) and `end` (what it
  does when the loop ends)."""

  def __init__(self, every=0):
    self.every = every

  def begin(self, state):
    pass

  def due(self, state):
    return bool(self.every) and state.step % self.every == 0

  def run(self, state):
    pass

  def end(self, state):
    pass


def distributed_step(strategy, trainer, jit_compile=False):
  """trainer.train_step run on every replica of `strategy`; its logs.

  Raises:
    ConfigError: XLA asked for across CPUs, which have no collectives.
  """
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
  def step(batch):
    logs = strategy.run(step_fn, args=(batch,))
    # The step's statistics are global, identical on every replica.
    return tf.nest.map_structure(
        lambda v: strategy.experimental_local_results(v)[0], logs)

  return step


def run_loop(trainer, batches, step, last_step, hooks=(), strategy=None,
             jit_compile=False):
  """Trains `trainer` from `step` + 1 to `last_step`; returns the LoopState.

  Args:
    trainer: a compiled FaceNetTrainer, built under `strategy`'s scope.
    batches: start step -> iterator of global (images, labels) batches
      (distributed under `strategy`).
    step: the run's int64 tf.Variable step counter; set after every step.
    last_step: the step to stop at.
    hooks: Hooks, run in this order after each step and at the end.
    strategy: the tf.distribute strategy (default: the current one).
    jit_compile: compile the step with XLA.
  """
  strategy = strategy or tf.distribute.get_strategy()
  start = int(step.numpy())
  state = LoopState(trainer, start, last_step, start)
  for hook in hooks:
    hook.begin(state)
  if start < last_step:
    data = batches(start)
    train_step = distributed_step(strategy, trainer, jit_compile)
    for current in range(start + 1, last_step + 1):
      started = time.time()
      state.logs = train_step(next(data))
      step.assign(current)
      state.step = current
      state.train_seconds += time.time() - started
      for hook in hooks:
        if hook.due(state):
          hook.run(state)
  for hook in hooks:
    hook.end(state)
  return state
