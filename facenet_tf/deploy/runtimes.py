"""Run a LiteRT or ONNX export like a SavedModel: uint8 faces -> embeddings.

`load(path)` picks the runtime by the path: a directory is a SavedModel
(facenet_tf.export), `.tflite` runs on LiteRT (`ai-edge-litert`), `.onnx` on
ONNX Runtime. Every loader has the SavedModel loader's interface: metadata,
image_size, channels, embedding_dim, architecture, alignment, and
`__call__(uint8 images [N, H, W, C], batch_size)` -> float32 [N, D].
"""
import json
import os

import numpy as np

from facenet_tf import export
from facenet_tf.alignment import spec as spec_lib

SUFFIXES = {".tflite": "litert", ".onnx": "onnx"}


def load(path, num_threads=None):
  """The loader for the export at `path` (SavedModel dir, .tflite, .onnx)."""
  path = os.fspath(path)
  if os.path.isdir(path):
    return export.ExportedEmbedder(path)  # a SavedModel
  kind = SUFFIXES.get(os.path.splitext(path)[1].lower())
  if kind is None:
    raise ValueError(f"{path} is neither a SavedModel directory nor a "
                     f"{' / '.join(SUFFIXES)} file.")
  if not os.path.isfile(path):
    raise FileNotFoundError(f"Model file {path} does not exist.")
  return (LiteRTEmbedder if kind == "litert" else OnnxEmbedder)(
      path, num_threads)


class _FileEmbedder:
  """What both file formats share: metadata fields and input checks."""

  def _set_metadata(self, metadata):
    self.metadata = metadata
    self.image_size = tuple(metadata["image_size"])
    self.channels = metadata["channels"]
    self.embedding_dim = metadata["embedding_dim"]
    self.architecture = metadata["architecture"]
    alignment = metadata.get("alignment")
    self.alignment = (spec_lib.AlignmentSpec.from_dict(alignment)
                      if alignment else None)

  def __call__(self, images, batch_size=32):
    images = export.checked_images(images, self.image_size, self.channels)
    outputs = [self._run(images[i:i + batch_size])
               for i in range(0, len(images), batch_size)]
    if not outputs:
      return np.zeros((0, self.embedding_dim), np.float32)
    return np.concatenate(outputs).astype(np.float32, copy=False)


class LiteRTEmbedder(_FileEmbedder):
  """A `.tflite` export on the LiteRT interpreter."""

  def __init__(self, path, num_threads=None):
    from ai_edge_litert import interpreter as litert  # pylint: disable=import-outside-toplevel
    from facenet_tf.deploy import convert  # pylint: disable=import-outside-toplevel
    with open(path, "rb") as f:
      flat = f.read()
    self._set_metadata(convert.read_litert_metadata(flat))
    self._interpreter = litert.Interpreter(model_content=flat,
                                           num_threads=num_threads)
    self._input = self._interpreter.get_input_details()[0]["index"]
    self._output = self._interpreter.get_output_details()[0]["index"]
    self._batch = None

  def _run(self, images):
    if self._batch != len(images):  # the batch dimension is dynamic (-1)
      self._interpreter.resize_tensor_input(self._input, images.shape)
      self._interpreter.allocate_tensors()
      self._batch = len(images)
    self._interpreter.set_tensor(self._input, images)
    self._interpreter.invoke()
    return self._interpreter.get_tensor(self._output).copy()


class OnnxEmbedder(_FileEmbedder):
  """An `.onnx` export on ONNX Runtime's CPU provider."""

  def __init__(self, path, num_threads=None):
    import onnxruntime  # pylint: disable=import-outside-toplevel
    from facenet_tf.deploy import convert  # pylint: disable=import-outside-toplevel
    options = onnxruntime.SessionOptions()
    if num_threads:
      options.intra_op_num_threads = num_threads
    self._session = onnxruntime.InferenceSession(
        path, options, providers=["CPUExecutionProvider"])
    props = self._session.get_modelmeta().custom_metadata_map
    if convert.METADATA_KEY not in props:
      raise ValueError(f"{path} holds no facenet_export metadata: write it "
                       "with facenet-export --format onnx.")
    self._set_metadata(json.loads(props[convert.METADATA_KEY]))
    self._input = self._session.get_inputs()[0].name

  def _run(self, images):
    return self._session.run(None, {self._input: images})[0]
