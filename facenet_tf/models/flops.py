"""Multiply-add counter: the paper's "FLOPS" (Tables 1-2 count one per MAC).

Counts convolutions and dense layers, which is what the paper's tables count
(pooling, normalisation and activations are 0 there too). Works on any Keras
model, nested models included.
"""
import math

from keras import layers


def _layer_madds(layer):
  if isinstance(layer, layers.DepthwiseConv2D):
    out = layer.output.shape
    kh, kw = layer.kernel_size
    return out[1] * out[2] * kh * kw * out[3]
  if isinstance(layer, layers.Conv2D):
    out = layer.output.shape
    kh, kw = layer.kernel_size
    c_in = layer.input.shape[-1] // layer.groups
    return out[1] * out[2] * kh * kw * c_in * out[3]
  if isinstance(layer, layers.Dense):
    in_shape = layer.input.shape
    positions = math.prod(d for d in in_shape[1:-1])
    return positions * in_shape[-1] * layer.units
  return 0


def count_multiply_adds(model):
  """Multiply-adds of one forward pass of one image."""
  total = 0
  for layer in model.layers:
    if hasattr(layer, "layers") and layer.layers:
      total += count_multiply_adds(layer)
    else:
      total += _layer_madds(layer)
  return total
