"""A facenet_tf SavedModel -> LiteRT (.tflite) or ONNX (.onnx).

Both start from the export's `serving_default` signature (uint8 images ->
float32 unit-norm embeddings) with its variables frozen to constants, so the
scaling x/127.5 - 1 and the L2 normalisation (paper §2: embeddings live on
the unit hypersphere) stay inside the file. The export's metadata (an
ExportMetadata: input size, alignment spec, calibrated thresholds) travels
inside the file too, with its `format` and `quantization` set: a LiteRT
metadata entry `facenet_export` (JSON bytes) and an ONNX `metadata_props`
entry of the same name; facenet_tf.export_loaders reads both.

LiteRT quantization (TensorFlow's own converter, which ships with TF 2.21;
the `ai-edge-litert` package runs the result):
  float    float32 weights and arithmetic;
  dynamic  int8 weights, float activations (dynamic-range quantization);
  int8     int8 weights and activations, calibrated on `representative`
           aligned faces; uint8 images in, float32 embeddings out.
A converter that cannot handle an op raises ConversionError naming the
model layer the op belongs to; no file is written.
"""
import os
import re

import numpy as np
import tensorflow as tf
from tensorflow.python.framework import convert_to_constants  # pylint: disable=g-direct-tensorflow-import

from facenet_tf import atomic_files
from facenet_tf import extras
from facenet_tf import export_metadata

ONNX_OPSET = 17


class ConversionError(ValueError):
  """A converter could not translate the model; the message names the layer."""


def to_litert(saved_model, output, quantization="float", representative=None):
  """Writes the LiteRT model; returns (absolute path, its ExportMetadata)."""
  if quantization not in export_metadata.QUANTIZATIONS:
    raise ValueError(f"Unknown quantization {quantization!r}; expected one "
                     f"of {', '.join(export_metadata.QUANTIZATIONS)}.")
  metadata = export_metadata.read(saved_model).converted("litert",
                                                          quantization)
  loaded, frozen = _frozen_serving(saved_model)
  converter = tf.lite.TFLiteConverter.from_concrete_functions([frozen], loaded)
  if quantization != "float":
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
  if quantization == "int8":
    faces = _representative(representative, metadata)
    converter.representative_dataset = lambda: ([face[None]] for face in faces)
    # Every op in int8; the uint8 input and float32 output stay as they are.
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
  try:
    flat = converter.convert()
  except Exception as error:  # the converter raises several types
    raise ConversionError(_naming_the_layer("LiteRT", error, frozen)) from None
  return _write(output, _with_litert_metadata(flat, metadata)), metadata


def to_onnx(saved_model, output):
  """Writes the ONNX model (tf2onnx); returns (absolute path, metadata)."""
  tf2onnx = extras.require("tf2onnx", "--format onnx", "deploy")
  metadata = export_metadata.read(saved_model).converted("onnx")
  # `loaded` owns the variables the signature reads: keep it in scope.
  loaded, serving = _serving(saved_model)  # pylint: disable=unused-variable
  spec = [serving.structured_input_signature[1]["images"]]
  serve = tf.function(lambda images: serving(images=images),
                      input_signature=spec)
  try:
    model, _ = tf2onnx.convert.from_function(serve, input_signature=spec,
                                             opset=ONNX_OPSET)
  except Exception as error:  # tf2onnx raises several types
    frozen = convert_to_constants.convert_variables_to_constants_v2(serving)
    raise ConversionError(_naming_the_layer("ONNX", error, frozen)) from None
  entry = model.metadata_props.add()
  entry.key, entry.value = export_metadata.METADATA_KEY, metadata.to_json()
  return _write(output, model.SerializeToString()), metadata


def _serving(saved_model):
  """(loaded SavedModel, its serving_default signature)."""
  loaded = tf.saved_model.load(os.fspath(saved_model))
  return loaded, loaded.signatures["serving_default"]


def _frozen_serving(saved_model):
  """(loaded SavedModel, serving_default with its variables as constants)."""
  loaded, serving = _serving(saved_model)
  return loaded, convert_to_constants.convert_variables_to_constants_v2(
      serving)


def _representative(images, metadata):
  """The calibration faces as uint8 [N, H, W, C], checked against the model."""
  if images is None or len(images) == 0:
    raise ValueError("int8 quantization needs representative aligned faces "
                     "(facenet-export --representative_dir).")
  images = np.asarray(images)
  expected = (*metadata.image_size, metadata.channels)
  if images.dtype != np.uint8 or images.shape[1:] != expected:
    raise ValueError(f"Representative faces must be uint8 [N, {expected}], "
                     f"got {images.dtype} {images.shape}.")
  return images


def _naming_the_layer(converter, error, frozen):
  """The converter's message, led by the model layers of the failing ops.

  The converters name the op types they cannot handle ('tf.Svd' op ...,
  Custom ops: Svd, Unsupported ops: {'Svd': 1}). Keras creates each layer's
  ops under its name scope, so a node `.../<layer>[_N]/<op>` of that type
  belongs to layer <layer> (the `_N` is TensorFlow's scope uniquifier).
  """
  text = str(error)
  types = set(re.findall(r"'tf\.(\w+)' op", text))
  for group in re.findall(r"(?:Custom|Unsupported) ops: ([^\n]+)", text):
    types.update(re.findall(r"\b([A-Z]\w+)\b", group))
  graph = frozen.graph.as_graph_def()
  nodes = [n.name for n in graph.node if n.op in types]
  nodes += [n.name for f in graph.library.function for n in f.node_def
            if n.op in types]
  layers = sorted({re.sub(r"_\d+$", "", node.split("/")[-2])
                   for node in nodes if "/" in node})
  detail = " | ".join(line.strip() for line in text.strip().splitlines()[:4])
  if layers:
    return (f"The {converter} converter cannot convert layer(s) "
            f"{', '.join(repr(l) for l in layers)} (ops {sorted(types)} at "
            f"{', '.join(sorted(nodes))}); nothing was written. Converter "
            f"said: {detail}")
  return (f"The {converter} converter failed on an op it could not place in "
          f"a layer (op types {sorted(types) or 'unknown'}); nothing was "
          f"written. Converter said: {detail}")


def _with_litert_metadata(flat, metadata):
  """The flatbuffer with a `facenet_export` metadata entry (JSON bytes;
  export_loaders.read_litert_metadata reads it)."""
  from tensorflow.lite.python import schema_py_generated as schema  # pylint: disable=g-direct-tensorflow-import,import-outside-toplevel
  from tensorflow.lite.tools import flatbuffer_utils  # pylint: disable=g-direct-tensorflow-import,import-outside-toplevel
  model = flatbuffer_utils.convert_bytearray_to_object(bytearray(flat))
  buffer = schema.BufferT()
  buffer.data = np.frombuffer(metadata.to_json().encode(), np.uint8)
  model.buffers.append(buffer)
  entry = schema.MetadataT()
  entry.name, entry.buffer = (export_metadata.METADATA_KEY,
                              len(model.buffers) - 1)
  model.metadata = (model.metadata or []) + [entry]
  return bytes(flatbuffer_utils.convert_object_to_bytearray(model))


def _write(output, data):
  """Writes `data` to `output` through a temporary file; the absolute path."""
  output = os.path.abspath(os.fspath(output))
  os.makedirs(os.path.dirname(output), exist_ok=True)
  atomic_files.write_bytes(output, data)
  return output
