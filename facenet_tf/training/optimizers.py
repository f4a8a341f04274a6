"""Optimiser and learning-rate schedule from the config (paper §4: AdaGrad 0.05)."""
import keras


def learning_rate(c, total_steps):
  """The learning rate, or a schedule of it, for `c` = config.optimizer."""
  lr = c.learning_rate
  if c.schedule == "cosine":
    return keras.optimizers.schedules.CosineDecay(
        0.0 if c.warmup_steps else lr, max(total_steps - c.warmup_steps, 1),
        warmup_target=lr if c.warmup_steps else None,
        warmup_steps=c.warmup_steps)
  if c.schedule == "exponential":
    return keras.optimizers.schedules.ExponentialDecay(
        lr, c.decay_steps or total_steps, c.decay_rate)
  if c.schedule == "piecewise":
    return keras.optimizers.schedules.PiecewiseConstantDecay(
        list(c.boundaries), list(c.learning_rates))
  return lr


def make_optimizer(c, total_steps, dtype_policy="float32"):
  """A Keras optimizer; wrapped in loss scaling for 'mixed_float16'."""
  lr = learning_rate(c, total_steps)
  if c.name == "adagrad":
    opt = keras.optimizers.Adagrad(lr)
  elif c.name == "adam":
    opt = keras.optimizers.Adam(lr)
  else:  # "sgd"; config.validate allows only these three
    opt = keras.optimizers.SGD(lr, momentum=c.momentum)
  if dtype_policy == "mixed_float16":
    # float16 gradients underflow without it; bfloat16 has float32's range.
    opt = keras.optimizers.LossScaleOptimizer(opt)
  return opt


def current_learning_rate(optimizer):
  """The learning rate at the optimizer's current iteration, as a float."""
  lr = optimizer.learning_rate
  return float(lr.numpy() if hasattr(lr, "numpy") else lr)
