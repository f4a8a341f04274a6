"""MultiWorkerMirroredStrategy for real: 2 worker processes on 127.0.0.1.

Each worker runs tests/multiworker_worker.py with TF_CONFIG naming the
cluster; `--mode=single` runs the same training in one process under the
default strategy, as the reference. The workers must take exactly the
one-process steps, and a worker that dies or hangs must make the other fail
with a peer error instead of waiting forever:
  killed (SIGKILL) mid-run   TensorFlow's coordination service misses its
                             heartbeats (~10 s) and aborts the collectives;
  gone after start-up        the same, in the variables' initial broadcast;
  hung (alive, heartbeating) only `make_strategy(collective_timeout_s=...)`
                             ends the wait (DeadlineExceededError).
The last two are `slow` (each ~25 s more of 2 TensorFlow processes).
"""
import json
import os
import pathlib
import re
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from facenet_tf.training import strategy as strategy_lib
from tests import multiworker_worker as worker_lib

ROOT = pathlib.Path(__file__).resolve().parents[1]
WORKERS = 2
# Start-up (TF import, gRPC server, cluster registration) on 2 loaded cores.
STARTUP_TIMEOUT_S = 180
# How long a survivor may take to notice a dead or hung peer and exit.
FAILURE_DEADLINE_S = 120
# Another process may take a port between local_worker_addresses and the
# worker's bind.
STARTUP_ATTEMPTS = 3
PORT_TAKEN = "Could not start gRPC server"


def _start(args, log_prefix, env=None):
  """A multiworker_worker process, its stdout/stderr in files (a pipe could
  fill up and block it)."""
  with open(f"{log_prefix}.out", "w") as out, \
       open(f"{log_prefix}.err", "w") as err:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.multiworker_worker", *args], cwd=ROOT,
        env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", **(env or {})),
        stdout=out, stderr=err)


def _read(path):
  with open(path) as f:
    return f.read()


class Cluster:
  """2 workers on free local ports; kills what is still running on exit."""

  def __init__(self, tmp_path, flags=((), ())):
    self.tmp_path, self.flags, self.procs = tmp_path, flags, []

  def __enter__(self):
    try:
      for _ in range(STARTUP_ATTEMPTS):
        self._launch()
        if self._wait_until_ready():
          return self
        self._kill_all()  # a port was taken: try again on fresh ones
      pytest.fail(f"{PORT_TAKEN} on {STARTUP_ATTEMPTS} sets of ports.")
    except BaseException:
      self._kill_all()  # __exit__ does not run when __enter__ raises
      raise

  def __exit__(self, *exc):
    self._kill_all()

  def _launch(self):
    addresses = strategy_lib.local_worker_addresses(WORKERS)
    self.procs = [_start(
        ["--mode=worker", f"--output={self.tmp_path}/worker{i}.npz",
         *self.flags[i]], self.log_prefix(i),
        env={"TF_CONFIG": json.dumps({
            "cluster": {"worker": addresses},
            "task": {"type": "worker", "index": i}})})
                  for i in range(WORKERS)]

  def log_prefix(self, i):
    return f"{self.tmp_path}/worker{i}"

  def output(self, i):
    return (_read(self.log_prefix(i) + ".out")
            + _read(self.log_prefix(i) + ".err"))

  def wait_for_line(self, i, prefix, timeout=STARTUP_TIMEOUT_S):
    """Waits until worker `i` prints a line starting with `prefix`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
      out = _read(self.log_prefix(i) + ".out")
      if any(line.startswith(prefix) for line in out.splitlines()):
        return
      if self.procs[i].poll() is not None:
        pytest.fail(f"worker {i} exited ({self.procs[i].returncode}) before "
                    f"{prefix!r}:\n{self.output(i)[-3000:]}")
      time.sleep(0.2)
    pytest.fail(f"worker {i} printed no {prefix!r} in {timeout} s.")

  def _wait_until_ready(self):
    """True once every worker built its strategy; False if a port was taken."""
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
      outs = [_read(self.log_prefix(i) + ".out") for i in range(WORKERS)]
      if all(worker_lib.READY in out for out in outs):
        return True
      for i, proc in enumerate(self.procs):
        if proc.poll() is not None and worker_lib.READY not in outs[i]:
          if PORT_TAKEN in self.output(i):
            return False
          pytest.fail(f"worker {i} exited ({proc.returncode}) during start-up:"
                      f"\n{self.output(i)[-3000:]}")
      time.sleep(0.2)
    pytest.fail(f"the cluster did not start in {STARTUP_TIMEOUT_S} s.")

  def wait(self, i, timeout):
    """Worker `i`'s exit code; fails the test if it runs past `timeout`."""
    try:
      return self.procs[i].wait(timeout=timeout)
    except subprocess.TimeoutExpired:
      pytest.fail(f"worker {i} still running after {timeout} s:\n"
                  f"{self.output(i)[-3000:]}")

  def _kill_all(self):
    for proc in self.procs:
      if proc.poll() is None:
        proc.kill()
      proc.wait()


@pytest.mark.unit
def test_collective_timeout_is_for_multiworker_only():
  with pytest.raises(strategy_lib.StrategyError, match="multiworker"):
    strategy_lib.make_strategy("mirrored", collective_timeout_s=10)


def _weights(path):
  data = np.load(path)
  count = sum(name.startswith("arr_") for name in data.files)
  return ([data[f"arr_{i}"] for i in range(count)], data["losses"],
          float(data["moved"]))


def _max_diff(a, b):
  return max(float(np.max(np.abs(x - y))) for x, y in zip(a, b))


@pytest.mark.integration
def test_two_workers_take_the_single_process_steps(tmp_path):
  """2 workers x 1 replica: the same 3 steps as one process.

  Global mining, synchronised BatchNorm and the gradient all-reduce make
  each step equal one device's on the global batch (as on 2 logical CPUs,
  tests/test_train_step.py); here through gRPC collectives between
  processes and the production input function's per-worker slices.
  """
  single = _start(["--mode=single", f"--output={tmp_path}/single.npz"],
                  f"{tmp_path}/single")
  try:
    with Cluster(tmp_path) as cluster:
      codes = [cluster.wait(i, STARTUP_TIMEOUT_S) for i in range(WORKERS)]
      for i, code in enumerate(codes):
        assert code == 0, cluster.output(i)[-3000:]
    assert single.wait(timeout=STARTUP_TIMEOUT_S) == 0, _read(
        f"{tmp_path}/single.err")[-3000:]
  finally:
    if single.poll() is None:
      single.kill()
      single.wait()
  reference, reference_losses, moved = _weights(f"{tmp_path}/single.npz")
  assert moved > 1e-3  # the steps did something
  assert np.all(reference_losses > 0)  # every step had active triplets
  workers = [_weights(f"{tmp_path}/worker{i}.npz") for i in range(WORKERS)]
  assert _max_diff(workers[0][0], workers[1][0]) <= 1e-6
  for weights, losses, _ in workers:
    assert _max_diff(weights, reference) <= 1e-5
    np.testing.assert_allclose(losses, reference_losses, rtol=1e-5)


def _assert_peer_failure(cluster, i, started, deadline_s):
  code = cluster.wait(i, deadline_s)
  seconds = time.monotonic() - started
  output = cluster.output(i)
  assert code == worker_lib.EXIT_PEER_FAILURE, output[-3000:]
  failure = re.search(f"{worker_lib.PEER_FAILURE}.*", output).group(0)
  print(f"worker {i} failed after {seconds:.1f} s: {failure[:300]}")
  return failure


@pytest.mark.integration
def test_a_killed_worker_fails_the_other_within_the_deadline(tmp_path):
  """SIGKILL worker 1 after step 1: worker 0, waiting in step 2's collectives,
  must exit with a peer failure, not hang. TensorFlow's coordination service
  notices the missing heartbeats (~10 s) and aborts the collectives."""
  with Cluster(tmp_path, flags=((), ("--pause_after_step=1",))) as cluster:
    cluster.wait_for_line(1, worker_lib.PAUSED)
    cluster.procs[1].send_signal(signal.SIGKILL)
    failure = _assert_peer_failure(cluster, 0, time.monotonic(),
                                   FAILURE_DEADLINE_S)
  assert "UnavailableError" in failure and "task:1" in failure, failure


@pytest.mark.slow
@pytest.mark.integration
def test_a_hung_worker_trips_the_collective_timeout(tmp_path):
  """Worker 1 stops after step 1 but stays alive (its heartbeats go on): only
  `make_strategy(collective_timeout_s=...)` stops worker 0 from waiting in
  step 2 forever. 20 s leaves room for one worker tracing slower."""
  timeout = ("--collective_timeout_s=20",)
  with Cluster(tmp_path, flags=(timeout, timeout + ("--pause_after_step=1",))
               ) as cluster:
    cluster.wait_for_line(1, worker_lib.PAUSED)
    failure = _assert_peer_failure(cluster, 0, time.monotonic(), 20 + 60)
  assert "DeadlineExceededError" in failure and "timed out" in failure, failure


@pytest.mark.slow
@pytest.mark.integration
def test_a_worker_gone_after_start_up_fails_the_other(tmp_path):
  """Worker 1 exits as soon as its strategy exists: worker 0 fails in the
  variables' initial broadcast instead of waiting for it forever."""
  with Cluster(tmp_path, flags=((), ("--exit_after_strategy",))) as cluster:
    started = time.monotonic()
    cluster.wait(1, FAILURE_DEADLINE_S)
    failure = _assert_peer_failure(cluster, 0, started, FAILURE_DEADLINE_S)
  assert "task:1" in failure, failure
