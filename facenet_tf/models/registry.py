"""Name -> backbone registry (`nn2`, `nns2`, `inception_resnet_v1`, ...).

A backbone is `fn(images, weight_decay) -> features [batch, F]`, taking the
already-scaled images; `FaceEmbedder` adds the embedding layer and the L2
normalisation. Each entry records the paper's input size and, where the paper
states them, its parameter and multiply-add counts (FACTS.md §3).
"""
from typing import Callable, NamedTuple, Optional, Tuple


class Architecture(NamedTuple):
  backbone: Callable
  image_size: Tuple[int, int]  # (height, width)
  paper_params: Optional[float] = None  # as printed in the paper
  paper_madds: Optional[float] = None   # the paper's "FLOPS" = multiply-adds
  description: str = ""


_REGISTRY = {}


def register(name, image_size, paper_params=None, paper_madds=None,
             description=""):
  """Decorator that registers a backbone function under `name`."""
  def wrap(fn):
    if name in _REGISTRY:
      raise ValueError(f"Architecture {name!r} is registered twice.")
    _REGISTRY[name] = Architecture(fn, tuple(image_size), paper_params,
                                   paper_madds, description)
    return fn
  return wrap


def names():
  """The registered architecture names, sorted."""
  return sorted(_REGISTRY)


def get(name):
  if name not in _REGISTRY:
    raise ValueError(f"Unknown model {name!r}; known models: {', '.join(names())}.")
  return _REGISTRY[name]
