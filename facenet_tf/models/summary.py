"""Prints every model's parameters and multiply-adds beside the paper's.

    python -m facenet_tf.models.summary [--names nn2,nns2]

The paper's "FLOPS" (Tables 1-2) are multiply-adds; figures it does not state
are shown as '-' (FACTS.md §3).
"""
import argparse

from facenet_tf import models


def _fmt(x):
  if x is None:
    return "-"
  for unit, scale in (("B", 1e9), ("M", 1e6), ("K", 1e3)):
    if x >= scale:
      return f"{x / scale:.3g}{unit}"
  return str(int(x))


def _diff(ours, paper):
  return "-" if paper is None else f"{100 * (ours / paper - 1):+.1f}%"


def rows(names):
  for name in names:
    arch = models.get(name)
    model = models.build(name)
    params, madds = model.count_params(), models.count_multiply_adds(model)
    yield (name, "x".join(map(str, arch.image_size)), _fmt(params),
           _fmt(arch.paper_params), _diff(params, arch.paper_params),
           _fmt(madds), _fmt(arch.paper_madds), _diff(madds, arch.paper_madds))
    del model


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--names", default=",".join(models.names()))
  args = parser.parse_args()
  header = ("model", "input", "params", "paper", "diff", "mult-adds",
            "paper", "diff")
  print("| " + " | ".join(header) + " |")
  print("|" + "---|" * len(header))
  for row in rows(args.names.split(",")):
    print("| " + " | ".join(row) + " |", flush=True)


if __name__ == "__main__":
  main()
