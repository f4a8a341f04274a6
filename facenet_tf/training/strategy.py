"""One factory for every tf.distribute strategy, on the same code path.

    default      one device (tf.distribute's default strategy)
    mirrored     all local GPUs; or `num_cpu_devices` logical CPUs, for tests
    multiworker  MultiWorkerMirroredStrategy, the cluster read from TF_CONFIG
    tpu          TPUStrategy on the TPU at `tpu` (e.g. 'grpc://10.0.0.2:8470',
                 a TPU name, or 'local' on a TPU VM)
"""
import json
import os
import socket

import tensorflow as tf

STRATEGIES = ("default", "mirrored", "multiworker", "tpu")


class StrategyError(ValueError):
  """A strategy that cannot be built from the given flags."""


def split_cpu(num_devices):
  """Makes `num_devices` logical CPU devices; call before TF touches a device."""
  cpus = tf.config.list_physical_devices("CPU")
  try:
    tf.config.set_logical_device_configuration(
        cpus[0], [tf.config.LogicalDeviceConfiguration()] * num_devices)
  except RuntimeError as e:  # the runtime is already initialised
    if len(tf.config.list_logical_devices("CPU")) != num_devices:
      raise StrategyError(
          f"Cannot split the CPU into {num_devices} devices after TensorFlow "
          f"initialised its devices: {e}") from e
  return [f"/cpu:{i}" for i in range(num_devices)]


def make_strategy(name="default", num_cpu_devices=0, tpu="",
                  collective_timeout_s=None):
  """The tf.distribute strategy called `name`.

  Args:
    name: one of `STRATEGIES`.
    num_cpu_devices: with 'mirrored', split the CPU into this many devices.
    tpu: with 'tpu', the TPU's address.
    collective_timeout_s: with 'multiworker', a collective (all-gather,
      all-reduce) that waits longer than this on its peers raises
      `tf.errors.DeadlineExceededError`. None (the default) waits forever:
      TensorFlow's timeout is a debugging aid that starts a thread per
      collective, and a slow first step (tracing, input start-up) must not
      trip it in production.

  Raises:
    StrategyError: for a strategy the arguments cannot build.
  """
  if name not in STRATEGIES:
    raise StrategyError(f"Unknown strategy {name!r}; expected one of: "
                        f"{', '.join(STRATEGIES)}.")
  if num_cpu_devices and name != "mirrored":
    raise StrategyError("num_cpu_devices works with strategy 'mirrored' only.")
  if collective_timeout_s is not None and name != "multiworker":
    raise StrategyError(
        "collective_timeout_s works with strategy 'multiworker' only.")
  if name == "default":
    return tf.distribute.get_strategy()
  if name == "mirrored":
    if num_cpu_devices:
      return tf.distribute.MirroredStrategy(split_cpu(num_cpu_devices))
    return tf.distribute.MirroredStrategy()
  if name == "multiworker":
    _check_tf_config()
    return tf.distribute.MultiWorkerMirroredStrategy(
        communication_options=tf.distribute.experimental.CommunicationOptions(
            timeout_seconds=collective_timeout_s))
  if not tpu:
    raise StrategyError("Strategy 'tpu' needs the TPU's address: --tpu=<address>.")
  try:
    resolver = tf.distribute.cluster_resolver.TPUClusterResolver(
        tpu="" if tpu == "local" else tpu)
    tf.config.experimental_connect_to_cluster(resolver)
    tf.tpu.experimental.initialize_tpu_system(resolver)
  except (ValueError, RuntimeError, tf.errors.OpError) as e:
    # E.g. --tpu=local off a TPU VM: "Please provide a TPU Name ...".
    reason = (str(e).strip().splitlines() or [type(e).__name__])[0]
    raise StrategyError(f"Strategy 'tpu' found no TPU at --tpu={tpu} "
                        f"({reason}); run on a TPU VM with --tpu=local, or "
                        "give the TPU's name or address.") from None
  return tf.distribute.TPUStrategy(resolver)


def _check_tf_config():
  raw = os.environ.get("TF_CONFIG")
  if not raw:
    raise StrategyError(
        "Strategy 'multiworker' reads the cluster from the TF_CONFIG "
        "environment variable, which is not set.")
  try:
    spec = json.loads(raw)
    spec["cluster"]["worker"], spec["task"]["index"]  # noqa: B018
  except (ValueError, KeyError, TypeError) as e:
    raise StrategyError(
        f"TF_CONFIG must be JSON with cluster.worker and task.index: {e}") from e


def local_worker_addresses(n):
  """`n` distinct 127.0.0.1:port addresses free right now, for a local
  MultiWorker cluster (tests, benchmarks). The sockets are held open until
  all ports are read; another process may still take one before a worker
  binds it, so a launcher should retry on "Could not start gRPC server"."""
  sockets = [socket.socket() for _ in range(n)]
  try:
    for s in sockets:
      s.bind(("127.0.0.1", 0))
    return [f"127.0.0.1:{s.getsockname()[1]}" for s in sockets]
  finally:
    for s in sockets:
      s.close()
