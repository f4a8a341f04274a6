"""One loader interface for every export format.

    model = export_loaders.load(path)   # a SavedModel directory, .tflite, .onnx
    model.metadata                      # its ExportMetadata
    model(uint8 images [N, H, W, C])    # float32 [N, D] unit-norm embeddings

`load` picks the loader by the path: a directory is a SavedModel
(TensorFlow), `.tflite` runs on LiteRT (`ai-edge-litert`), `.onnx` on ONNX
Runtime's CPU provider. Each loader reads the metadata its format carries
(export_metadata.py), checks the input against it and embeds in batches.

`export_path` turns what a user named on a model flag (an export, or a
facenet-train workdir holding one) into the export's path, or raises
ModelPathError saying what is wrong. Importing this module does not import
TensorFlow; a SavedModel's loader does.
"""
import os

import numpy as np

from facenet_tf import export_metadata
from facenet_tf import extras

SUFFIXES = {".tflite": "litert", ".onnx": "onnx"}
# What makes a directory a facenet-train workdir (facenet_tf/workdir.py).
WORKDIR_FILES = ("config.json", "checkpoints")


class ModelPathError(ValueError):
  """A model path that names no model this version can load."""


def is_saved_model(path):
  return os.path.isfile(os.path.join(path, "saved_model.pb"))


def is_workdir(path):
  """Whether `path` is a facenet-train workdir (exported or not)."""
  return os.path.isdir(path) and any(
      os.path.exists(os.path.join(path, name)) for name in WORKDIR_FILES)


def export_path(path):
  """The export a model flag names: a SavedModel directory, a `.tflite` or
  `.onnx` file, or a facenet-train workdir's saved_model/.

  Raises:
    ModelPathError: nothing at `path`, a workdir not exported yet, or no
      format this version reads (the message says which).
  """
  path = os.fspath(path)
  if os.path.isdir(path):
    if is_saved_model(path):
      try:
        export_metadata.read(path)
      except ValueError as e:
        raise ModelPathError(str(e)) from None
      return path
    if is_saved_model(os.path.join(path, "saved_model")):
      return export_path(os.path.join(path, "saved_model"))
    if is_workdir(path):
      raise ModelPathError(f"{path} is a facenet-train workdir without an "
                           "export: run facenet-export --model on it.")
    raise ModelPathError(f"{path} is neither a SavedModel directory nor a "
                         "facenet-train workdir.")
  if not os.path.exists(path):
    raise ModelPathError(f"No model at {path}.")
  if os.path.splitext(path)[1].lower() not in SUFFIXES:
    raise ModelPathError(
        f"{path}: unknown model format; give a SavedModel directory, a "
        f"facenet-train workdir or a {' / '.join(SUFFIXES)} file.")
  return path


def load(path, num_threads=None):
  """The loader of the export at `path`; `num_threads` for LiteRT / ONNX.

  Raises:
    ValueError: `path` is no facenet_tf export.
    FileNotFoundError: a `.tflite` / `.onnx` path that does not exist.
  """
  path = os.fspath(path)
  if os.path.isdir(path):
    return SavedModelEmbedder(path)
  kind = SUFFIXES.get(os.path.splitext(path)[1].lower())
  if kind is None:
    raise ValueError(f"{path} is neither a SavedModel directory nor a "
                     f"{' / '.join(SUFFIXES)} file.")
  if not os.path.isfile(path):
    raise FileNotFoundError(f"Model file {path} does not exist.")
  return (LiteRTEmbedder if kind == "litert" else OnnxEmbedder)(
      path, num_threads)


def checked_images(images, image_size, channels):
  """`images` as a uint8 array [N, H, W, C], or ValueError saying why not."""
  images = np.asarray(images)
  expected = (*image_size, channels)
  if images.dtype != np.uint8 or images.shape[1:] != expected:
    raise ValueError(f"Expected uint8 images of shape [N, {expected}], got "
                     f"{images.dtype} {images.shape}.")
  return images


class ExportedModel:
  """An export: uint8 images in, float32 embeddings [N, D] out.

  Subclasses set `metadata` (an ExportMetadata) and implement `_run` on one
  checked batch. `image_size`, `channels`, `embedding_dim`, `architecture`
  and `alignment` are the metadata's.
  """
  default_batch_size = 32
  metadata: export_metadata.ExportMetadata

  @property
  def image_size(self):
    return self.metadata.image_size

  @property
  def channels(self):
    return self.metadata.channels

  @property
  def embedding_dim(self):
    return self.metadata.embedding_dim

  @property
  def architecture(self):
    return self.metadata.architecture

  @property
  def alignment(self):
    return self.metadata.alignment

  def __call__(self, images, batch_size=None):
    """Embeds uint8 images [N, H, W, C] (RGB or grey as the model takes)."""
    images = checked_images(images, self.image_size, self.channels)
    return self._batched(self._run, images, batch_size)

  def _batched(self, run, inputs, batch_size):
    batch_size = batch_size or self.default_batch_size
    outputs = [run(inputs[i:i + batch_size])
               for i in range(0, len(inputs), batch_size)]
    if not outputs:
      return np.zeros((0, self.embedding_dim), np.float32)
    return np.concatenate(outputs).astype(np.float32, copy=False)

  def _run(self, images):
    raise NotImplementedError


class SavedModelEmbedder(ExportedModel):
  """A SavedModel export (facenet_tf.export) on TensorFlow."""
  default_batch_size = 256

  def __init__(self, path):
    import tensorflow as tf  # pylint: disable=import-outside-toplevel
    self.metadata = export_metadata.read(path)
    # The signatures hold only weak references to the loaded variables: the
    # loaded object must stay alive as long as they are used.
    self._loaded = tf.saved_model.load(os.fspath(path))
    self._constant = tf.constant
    self._embed = self._loaded.signatures["serving_default"]
    self._embed_encoded = self._loaded.signatures[
        export_metadata.ENCODED_SIGNATURE]

  def _run(self, images):
    return self._embed(images=self._constant(images))["embeddings"].numpy()

  def embed_encoded(self, encoded, batch_size=None):
    """Embeds a sequence of encoded JPEG/PNG images (bytes), any size."""
    run = lambda batch: self._embed_encoded(images=self._constant(batch))[
        "embeddings"].numpy()
    return self._batched(run, np.asarray(encoded, dtype=object), batch_size)


def read_litert_metadata(flat):
  """The ExportMetadata inside LiteRT model bytes.

  Reads the flatbuffer in place (the generated accessors): only the
  metadata table and its one buffer are touched, not the weights.
  """
  from tensorflow.lite.python import schema_py_generated as schema  # pylint: disable=g-direct-tensorflow-import,import-outside-toplevel
  model = schema.Model.GetRootAs(bytearray(flat), 0)
  for i in range(model.MetadataLength()):
    entry = model.Metadata(i)
    if entry.Name().decode() == export_metadata.METADATA_KEY:
      return export_metadata.ExportMetadata.from_json(
          model.Buffers(entry.Buffer()).DataAsNumpy().tobytes().decode())
  raise ValueError("This LiteRT model holds no facenet_export metadata: "
                   "write it with facenet-export --format litert.")


class LiteRTEmbedder(ExportedModel):
  """A `.tflite` export on the LiteRT interpreter."""

  def __init__(self, path, num_threads=None):
    litert = extras.require("ai_edge_litert.interpreter", "A LiteRT model",
                            "deploy", "ai-edge-litert")
    with open(path, "rb") as f:
      flat = f.read()
    self.metadata = read_litert_metadata(flat)
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


class OnnxEmbedder(ExportedModel):
  """An `.onnx` export on ONNX Runtime's CPU provider."""

  def __init__(self, path, num_threads=None):
    onnxruntime = extras.require("onnxruntime", "An ONNX model", "deploy")
    options = onnxruntime.SessionOptions()
    if num_threads:
      options.intra_op_num_threads = num_threads
    self._session = onnxruntime.InferenceSession(
        path, options, providers=["CPUExecutionProvider"])
    props = self._session.get_modelmeta().custom_metadata_map
    if export_metadata.METADATA_KEY not in props:
      raise ValueError(f"{path} holds no facenet_export metadata: write it "
                       "with facenet-export --format onnx.")
    self.metadata = export_metadata.ExportMetadata.from_json(
        props[export_metadata.METADATA_KEY])
    self._input = self._session.get_inputs()[0].name

  def _run(self, images):
    return self._session.run(None, {self._input: images})[0]
