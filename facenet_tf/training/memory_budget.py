"""The gradient-cache chunk from a per-device memory budget.

The paper mines inside ~1,800 faces (§3.2). Whether they fit in one device
depends on the model, its input size, the dtype and the device; the gradient
cache (grad_cache.py) holds one chunk's activations at a time, so the chunk
is what a memory budget decides. The rule, per replica:

    fixed     = parameters x 4 bytes x (weights + gradients + optimizer slots)
    per_image = ACTIVATION_FACTOR x activation_elements x compute-dtype bytes
    chunk     = the largest divisor c of the per-replica batch with
                fixed + c x per_image <= HEADROOM x budget

`activation_elements` counts every layer's output for one image: what back-
propagation keeps (a convolution keeps its input, BatchNorm its input, ReLU
its output). ACTIVATION_FACTOR is what the benchmark
experiments/benchmarks/bench_paper_step.py (--parts memory) measures: the
slope of TensorFlow's peak allocator bytes against the batch size in a
training step, divided by 4 x activation_elements (WORKSPACE_NOTES.md,
issue #18).
The optimizer's slots and the whole batch's embeddings are in `fixed` (the
embeddings: B x D floats, negligible). If the whole per-replica batch fits,
no cache is needed (chunk 0). If one image does not fit, the budget is a
ConfigError before the run starts.
"""
import math

from keras import layers

from facenet_tf import config as config_lib

# Peak allocator bytes per image / (4 x activation_elements). Measured on
# this CPU in float32 (bench_paper_step.py --parts memory): 0.65-1.00
# (nn2 0.92, nn4 0.82, nns2 1.00, inception_resnet_v1 0.65, resnet_small
# 0.70). 2.1 keeps a 2x margin for what a CPU does not have (cuDNN
# workspaces, XLA buffers) until a GPU/TPU measurement replaces it.
ACTIVATION_FACTOR = 2.1
# Allocator fragmentation, framework buffers and the input pipeline's
# prefetched batch live outside the model's tensors.
HEADROOM = 0.8
OPTIMIZER_SLOTS = {"adagrad": 1, "adam": 2, "sgd": 1}
_DTYPE_BYTES = {"float32": 4, "mixed_bfloat16": 2, "mixed_float16": 2}


def activation_elements(model):
  """Elements of all layer outputs for one image (nested models included)."""
  total = 0
  for layer in model.layers:
    if hasattr(layer, "layers") and layer.layers:
      total += activation_elements(layer)
    elif not isinstance(layer, layers.InputLayer):
      outputs = layer.output if isinstance(layer.output, (list, tuple)) else [
          layer.output]
      total += sum(math.prod(t.shape[1:]) for t in outputs)
  return total


def training_bytes(model, dtype_policy="float32", optimizer="adagrad"):
  """(fixed, per_image) bytes of one replica's training step."""
  if dtype_policy not in _DTYPE_BYTES:
    raise config_lib.ConfigError(
        f"No memory rule for dtype policy {dtype_policy!r}; known: "
        f"{', '.join(_DTYPE_BYTES)}.")
  copies = 2 + OPTIMIZER_SLOTS[optimizer]  # weights, gradients, slots
  fixed = model.count_params() * 4 * copies
  per_image = (ACTIVATION_FACTOR * activation_elements(model)
               * _DTYPE_BYTES[dtype_policy])
  return fixed, per_image


def chunk_for_budget(per_replica_batch, fixed, per_image, budget_bytes):
  """The gradient-cache chunk for a budget: 0 if the whole batch fits.

  Raises:
    ConfigError: not even one image fits.
  """
  usable = HEADROOM * budget_bytes - fixed
  if usable >= per_replica_batch * per_image:
    return 0
  if usable < per_image:
    raise config_lib.ConfigError(
        f"A memory budget of {budget_bytes / 2**30:.2f} GiB holds the model "
        f"state ({fixed / 2**30:.2f} GiB) but not one image's activations "
        f"({per_image / 2**20:.0f} MiB) within {HEADROOM:.0%} of the budget: "
        "raise train.memory_budget_gb or use a smaller model or image size.")
  fits = int(usable // per_image)
  return max(d for d in range(1, fits + 1) if per_replica_batch % d == 0)


def resolve_chunk(config, model, replicas):
  """The config's grad_cache_chunk, derived from train.memory_budget_gb.

  Returns the config unchanged without a budget; else a copy whose
  train.grad_cache_chunk is the rule's chunk for the per-replica batch.
  """
  budget = config.train.memory_budget_gb
  if not budget:
    return config
  if config.train.grad_cache_chunk:
    raise config_lib.ConfigError(
        "Set train.memory_budget_gb or train.grad_cache_chunk, not both: the "
        f"budget derives the chunk (got chunk {config.train.grad_cache_chunk}).")
  per_replica = config_lib.global_batch(config) // replicas
  fixed, per_image = training_bytes(model, config.model.dtype_policy,
                                    config.optimizer.name)
  resolved = config.copy_and_resolve_references()
  resolved.train.grad_cache_chunk = chunk_for_budget(
      per_replica, fixed, per_image, budget * 2**30)
  return resolved
