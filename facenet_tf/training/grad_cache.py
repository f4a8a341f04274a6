"""Gradient caching: a whole-batch loss's gradient on chunk-sized activations.

The paper mines inside ~1,800 faces (§3.2); their activations may not fit in
memory at once. The triplet loss couples every embedding of the batch, but
its gradient factors through them (Gao et al. 2021, "Scaling Deep
Contrastive Learning Batch Size under Memory Limited Setup"):

    dL/dθ = ∂L/∂θ (direct, e.g. weight decay) + Σ_c J_c(θ)ᵀ · dL/de_c

where e_c are the embeddings of chunk c and J_c their Jacobian. So:
  1. embed the batch chunk by chunk, without a tape (training mode);
  2. compute the loss over all the embeddings, and dL/de (a tape over the
     embeddings, plus the direct ∂L/∂θ);
  3. run each chunk again under a tape and back-propagate its cached dL/de_c
     (`output_gradients`), summing the parameter gradients.
Only one chunk's activations are alive at a time, for ~1 extra forward pass.

BatchNorm: pass 3 must reproduce pass 1's embeddings exactly for the cached
gradients to be the true ones, so both passes run training-mode BatchNorm on
the statistics of the chunk (of the chunk on every replica, if synchronised):
"ghost batch" normalisation (Hoffer et al. 2017) with the chunk as the ghost
batch. The gradient is then exact for that model, not for whole-batch BN
(`tests/test_grad_cache.py` checks both; WORKSPACE_NOTES.md "Training" has
the trade-off). Normalising pass 3 with whole-batch statistics kept from
pass 1 would not be exact either: the loss also depends on each BN layer's
batch mean and variance, whose gradient sums over every chunk and then
flows into the layers below it, i.e. another chunked pass per BN layer.

The model state the forward pass mutates (BN moving statistics, random-seed
generators) is saved before pass 1 and restored before pass 3, so pass 3
replays pass 1's states: moving statistics are updated once per chunk (not
twice; with n chunks a step makes n updates from chunk statistics where the
plain step makes one from the batch's, so the averages forget n times as
fast per step) and a dropout layer would draw the same masks in both passes.

The chunk loops are Python loops (unrolled in the graph), not
`tf.while_loop`s: synchronised BatchNorm all-reduces its statistics with
`merge_call` under MirroredStrategy and MultiWorkerMirroredStrategy (except
XLA on GPUs), which TF refuses inside a control-flow body. The graph grows
with the number of chunks (2 model copies each), and so does tracing.
Each chunk's input passes through an optimisation barrier together with the
previous chunk's result, a data dependency: TF's executor then runs the
chunks one after another, holding one chunk's activations. XLA drops control
dependencies, but keeps barriers on GPU until after scheduling, so there the
recompute also cannot be merged with pass 1 as a common subexpression (which
would keep every chunk's pass-1 activations alive: why JAX's remat uses the
same barrier). XLA's CPU compiler removes barriers before its last CSE pass:
under jit_compile on CPU the step is exact but not memory-bounded (measured
in WORKSPACE_NOTES.md). Outside XLA the barrier is a pass-through kernel.
"""
import tensorflow as tf
# Not in TF's public API (tf.raw_ops lacks it); an import error is loud.
from tensorflow.compiler.tf2xla.python import xla


def num_chunks(batch_size, chunk_size):
  """How many chunks of `chunk_size` make `batch_size`; it must divide it."""
  if batch_size is None:
    raise ValueError("Gradient caching needs a static per-replica batch size "
                     "(batch the dataset with drop_remainder=True).")
  if chunk_size < 1 or batch_size % chunk_size:
    raise ValueError(
        f"The gradient-cache chunk ({chunk_size}) must divide the "
        f"per-replica batch ({batch_size}): set train.grad_cache_chunk to a "
        "divisor of it.")
  return batch_size // chunk_size


def _zeros_for_none(grads, like):
  """The sums start dense: an unconnected gradient is zeros."""
  return [tf.zeros(x.shape, x.dtype) if g is None else g
          for g, x in zip(grads, like)]


def _after(chunk, tensors):
  """`chunk`, available only once `tensors` are, and opaque to XLA."""
  return xla.optimization_barrier(chunk, *tensors)[0]


def _embed_without_gradients(model, chunks):
  """Pass 1: the model's outputs on the whole batch, one chunk at a time."""
  parts, previous = [], []
  for chunk in chunks:
    chunk = _after(chunk, previous)
    outputs = tf.nest.flatten(model(chunk, training=True))
    parts.append(outputs)
    previous = outputs
  return [tf.concat(column, axis=0) for column in zip(*parts)]


def _backpropagate_chunks(model, chunks, variables, output_grads, grads):
  """Pass 3: `grads` + the sum over chunks of J_cᵀ · (cached dL/d outputs_c)."""
  count = len(chunks)
  output_grads = [tf.split(g, count) for g in output_grads]
  for i, chunk in enumerate(chunks):
    chunk = _after(chunk, grads)
    with tf.GradientTape() as tape:
      outputs = tf.nest.flatten(model(chunk, training=True))
    chunk_grads = tape.gradient(
        outputs, variables, output_gradients=[g[i] for g in output_grads])
    grads = [g if c is None else g + c for g, c in zip(grads, chunk_grads)]
  return grads


def cached_gradients(model, images, chunk_size, loss_fn, variables):
  """The gradient of `loss_fn(model(images))`, with chunk-sized activations.

  Args:
    model: a Keras model returning a tensor or a list of them, called in
      training mode.
    images: its input batch [B, ...], B a static multiple of `chunk_size`.
    chunk_size: images per forward pass.
    loss_fn: the (flattened) list of outputs on the whole batch ->
      (loss, aux). The loss may also read `variables` directly (weight
      decay): that part of the gradient is taken with the one through the
      outputs.
    variables: the variables to differentiate.

  Returns:
    (gradients aligned with `variables`, the outputs on the whole batch, aux).
  """
  chunks = tf.split(images, num_chunks(images.shape[0], chunk_size))
  state = model.non_trainable_variables
  saved_state = [tf.convert_to_tensor(v) for v in state]
  outputs = _embed_without_gradients(model, chunks)
  with tf.GradientTape() as tape:
    tape.watch(outputs)
    loss, aux = loss_fn(outputs)
  output_grads, direct_grads = tape.gradient(loss, (outputs, variables))
  for variable, value in zip(state, saved_state):
    variable.assign(value)
  grads = _backpropagate_chunks(model, chunks, variables,
                                _zeros_for_none(output_grads, outputs),
                                _zeros_for_none(direct_grads, variables))
  return grads, outputs, aux
