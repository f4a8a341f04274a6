"""The train step as a TPU needs it: one XLA program with static shapes.

`tf.function(trainer.train_step, jit_compile=True)` must compile the whole
step (model, mining, loss, optimizer) with every shape static and no op a
TPU rejects, and give graph mode's numbers.

On CPU, TF 2.21 cannot run a jit-compiled step that has collectives:
- MirroredStrategy (2 logical CPUs): `mirrored_run.call_for_each_replica`
  lifts a jit-compiled tf.function around *all* replicas unless every device
  is a GPU, so XLA compiles one program for both CPUs and fails with "Trying
  to access resource .../replica_1/... located in device CPU:1 from device
  CPU:0"; called per replica instead, its all-gather needs a `merge_call`,
  which is refused inside a nested tf.function.
- MultiWorkerMirroredStrategy (one CPU per worker): "No registered
  'CollectiveGatherV2' OpKernel for XLA_CPU_JIT devices".
So the part of a replica's step that depends on the gathered batch - mining
its own anchors against the global batch, an [A_local, B_global] matrix - is
compiled here with a stand-in replica context whose `all_gather` returns the
global batch passed in as function inputs.
"""
import re

import keras
import numpy as np
import pytest
import tensorflow as tf

from facenet_tf import losses
from facenet_tf import models
from facenet_tf.training import trainer as trainer_lib
from tests.test_losses_reference import make_batch

P, K = 4, 4
# Ops that make shapes data-dependent, run on the host, or handle strings:
# XLA/TPU rejects them (or they would force the step off the TPU).
TPU_REJECTED_OPS = re.compile(
    r"^(Where|Unique.*|ListDiff|.*PyFunc.*|NonMaxSuppression.*|Ragged.*|"
    r"String.*|.*Regex.*|Decode.*|Encode.*|.*Summary.*|PrintV2|Print)$")
# Dynamic (bounded `<=N` or unknown `?`) dimensions in an HLO shape.
DYNAMIC_DIM = re.compile(r"\[[^\]]*(<=|\?)[^\]]*\]")


def patterned_batch(seed=0):
  """(images, labels): P x K images, each identity its own pattern plus
  noise, so a random network's distances have no near-ties for a rounding
  difference to flip a semi-hard choice on (WORKSPACE_NOTES.md)."""
  rng = np.random.default_rng(seed)
  labels = np.repeat(np.arange(P), K).astype(np.int32)
  patterns = rng.uniform(0, 255, (P, 64, 64, 3))
  noise = rng.normal(0, 20, (P * K, 64, 64, 3))
  return np.clip(patterns[labels] + noise, 0, 255).astype(np.float32), labels


def _trainer():
  keras.utils.set_random_seed(0)
  embedder = models.build("tiny", sync_batchnorm=True, weight_decay=1e-4)
  trainer = trainer_lib.FaceNetTrainer(embedder)
  trainer.compile(optimizer=keras.optimizers.Adagrad(0.05))
  trainer.optimizer.build(trainer.trainable_variables)
  return trainer


def _assert_static(hlo):
  dynamic = [line.strip()[:200] for line in hlo.splitlines()
             if DYNAMIC_DIM.search(line)]
  assert not dynamic, dynamic[:3]


@pytest.mark.unit
def test_the_static_check_sees_a_data_dependent_shape():
  masked = tf.function(lambda x: tf.reduce_sum(tf.boolean_mask(x, x > 0)),
                       jit_compile=True)
  hlo = masked.experimental_get_compiler_ir(tf.constant([1.0, -1.0]))(
      stage="hlo")
  with pytest.raises(AssertionError, match="<="):
    _assert_static(hlo)


@pytest.mark.integration
def test_whole_step_is_static_hlo_and_matches_graph_mode():
  """The production step (AdaGrad, weight decay, synchronised BatchNorm):
  2 compiled steps equal 2 graph-mode steps (1e-4: XLA fuses and reorders
  float32 sums)."""
  batches = [patterned_batch(seed) for seed in (0, 1)]
  results = []
  for jit in (False, True):
    trainer = _trainer()
    step = tf.function(trainer.train_step, jit_compile=jit)
    if jit:
      _assert_static(step.experimental_get_compiler_ir(batches[0])(
          stage="hlo"))
    losses_seen = [float(step(batch)["loss"]) for batch in batches]
    results.append((losses_seen, trainer.embedder.get_weights()))
  (graph_losses, graph_weights), (xla_losses, xla_weights) = results
  assert graph_losses[1] > 0
  np.testing.assert_allclose(xla_losses, graph_losses, rtol=1e-4)
  for a, b in zip(xla_weights, graph_weights):
    np.testing.assert_allclose(a, b, atol=1e-4)


def _op_types(concrete):
  graph_def = concrete.graph.as_graph_def()
  return [node.op for node in graph_def.node] + [
      node.op for fn in graph_def.library.function for node in fn.node_def]


def _xla_trace(fn, *specs):
  return tf.function(fn, jit_compile=True).get_concrete_function(*specs)


def _rejected(concrete):
  return sorted({op for op in _op_types(concrete)
                 if TPU_REJECTED_OPS.match(op)})


def _topk_fed_by_reduction(concrete):
  """TopKV2 ops whose k is computed from data (the packed, non-XLA path)."""
  return [op.name for op in concrete.graph.get_operations()
          if op.type == "TopKV2" and op.inputs[1].op.type == "Max"]


@pytest.mark.integration
def test_xla_step_holds_no_op_a_tpu_rejects():
  images, labels = patterned_batch()
  specs = ((tf.TensorSpec(images.shape), tf.TensorSpec(labels.shape,
                                                        tf.int32)),)
  trainer = _trainer()
  compiled = _xla_trace(trainer.train_step, *specs)
  assert _rejected(compiled) == []
  # The scan looks at the XLA path: mining packs positives into [A, Q] with
  # a data-dependent Q (top_k with k = a max) only outside XLA.
  assert _topk_fed_by_reduction(compiled) == []
  assert _topk_fed_by_reduction(
      tf.function(trainer.train_step).get_concrete_function(*specs))
  # ... and it would see such ops.
  vector = tf.TensorSpec([8], tf.int32)
  assert _rejected(_xla_trace(lambda x: tf.boolean_mask(x, x > 0),
                              vector)) == ["Where"]
  assert _rejected(_xla_trace(lambda x: tf.unique(x)[0], vector)) == [
      "Unique"]


class _StandInReplica:
  """Replica `replica_id` of `num_replicas`; `all_gather` returns the global
  batch, given by dtype (float32 embeddings, int32 labels)."""

  def __init__(self, replica_id, num_replicas, gathered):
    self.replica_id_in_sync_group = replica_id
    self.num_replicas_in_sync = num_replicas
    self._gathered = gathered

  def all_gather(self, value, axis):
    assert axis == 0
    return self._gathered[value.dtype]


def _replica_mining(monkeypatch, trainer, replica_id, num_replicas, jit):
  """This replica's TripletTerms, mined against the whole batch."""

  def mine(labels, embeddings):
    rows = labels.shape[0] // num_replicas
    own = slice(replica_id * rows, (replica_id + 1) * rows)
    replica = _StandInReplica(replica_id, num_replicas,
                              {tf.float32: embeddings, tf.int32: labels})
    # Read while tracing: this trace's stand-in.
    monkeypatch.setattr(trainer_lib, "_replica_context", lambda: replica)
    terms, _ = trainer.mine(labels[own], embeddings[own])
    return terms

  return tf.function(mine, jit_compile=jit)


@pytest.mark.integration
def test_replica_mining_over_the_gathered_batch_compiles(monkeypatch):
  """Each of 2 replicas mines its 12 anchors against all 24 embeddings in
  one static XLA program; their additive terms sum to one device's."""
  labels, embeddings = make_batch(p=6, k=4, dim=16, seed=3)
  args = (tf.constant(labels, tf.int32), tf.constant(embeddings))
  trainer = trainer_lib.FaceNetTrainer(models.build("tiny"))
  whole = _replica_mining(monkeypatch, trainer, 0, 1, jit=True)(*args)
  shares = []
  for replica in (0, 1):
    compiled = _replica_mining(monkeypatch, trainer, replica, 2, jit=True)
    _assert_static(compiled.experimental_get_compiler_ir(*args)(stage="hlo"))
    shares.append(compiled(*args))
    # The same share outside XLA (packed positives, dynamic Q).
    graph = _replica_mining(monkeypatch, trainer, replica, 2, jit=False)(*args)
    for name, a, b in zip(losses.TripletTerms._fields, shares[-1], graph):
      np.testing.assert_allclose(a, b, rtol=1e-5, err_msg=name)
  assert float(whole.loss_sum) > 0
  for name, total, a, b in zip(losses.TripletTerms._fields, whole, *shares):
    np.testing.assert_allclose(a + b, total, rtol=1e-5, atol=1e-6,
                               err_msg=name)
