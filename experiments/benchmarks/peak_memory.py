"""Peak resident memory of this process, for the benchmarks (Linux /proc).

Benchmarks run as scripts (`python experiments/benchmarks/bench_x.py`), so
they import this sibling module by name.
"""


def status_mb(key):
  """A /proc/self/status field (VmRSS, VmHWM, ...) in MB."""
  with open("/proc/self/status", encoding="ascii") as f:
    line = next(l for l in f if l.startswith(key + ":"))
  return int(line.split()[1]) / 1024


def reset_peak():
  """Baseline RSS in MB, and how the peak above it is measured."""
  with open("/proc/self/clear_refs", "w", encoding="ascii") as f:
    f.write("5")  # Resets VmHWM to the current RSS (Linux >= 4.0).
  base = status_mb("VmRSS")
  if status_mb("VmHWM") <= base + 1:
    return base, "VmHWM reset via /proc/self/clear_refs"
  return base, "VmHWM not resettable: peak since process start (upper bound)"
