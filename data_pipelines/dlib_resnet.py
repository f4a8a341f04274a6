"""dlib's face-recognition ResNet in TensorFlow, with dlib's own weights.

dlib's `face_recognition_model_v1` is `anet_type` of dlib's
examples/dnn_face_recognition_ex.cpp (tools/python/src/face_recognition.cpp
in dlib 20.0.1): 150 x 150 RGB input, con 32 7x7/2, affine, relu, max_pool
3x3/2, residual blocks of 32, 64, 128 and 256 filters (29 convolutions in
all), avg_pool_everything, fc_no_bias 128, loss_metric. The wheel on the
package index is built without BLAS, so each chip costs dlib 70-200 ms on 2
cores; the same network here runs on TensorFlow's kernels.

The .dat file is dlib's serialization of that network (dlib/dnn/core.h):
the loss layer first, then each layer's version number from the outermost
layer inwards, the input layer, and then each layer's details from the
innermost layer outwards. Integers are dlib's variable-length format
(dlib/serialize.h: a control byte with the sign in bit 7 and the byte count
in bits 0-3, then that many little-endian bytes); floats are an integer
mantissa and then an integer exponent (value = mantissa * 2**exponent);
tensors are four integers (n, k, nr, nc) and then raw little-endian float32
in n, k, nr, nc order; a convolution's filters are (filters, k, nr, nc).
The file does not name its tag ids or its wrappers, so the architecture
below drives the parse, and every layer's stored name and sizes are checked
against it.

The forward pass follows dlib's CPU kernels (dlib/cuda/cpu_dlib.cpp): con_
and the pools pad by size / 2 only at stride 1, so the 7x7/2 and 3x3/2
convolutions and the pools are VALID; affine is gamma * x + beta per
channel; add_prev sums over the larger of its two shapes, the smaller
zero-padded at its end. So a downsampling block's shortcut (a 2x2/2
average pool) gets zero channels up to the block's width, and in the two
256-filter ones the 3x3/2 convolution comes out a row and a column smaller
than the shortcut (8 x 8 gives 3 x 3 against 4 x 4, then 4 x 4 gives 1 x 1
against 2 x 2) and gets zeros at its bottom and right. Measured against
dlib 20.0.1 on 20 LFW chips (10 faces, their mirrors): at most 3e-7 apart;
33 against 3.9 chips/s on 2 loaded cores (/tmp/s11/notes_dlib_port.md).
"""
import numpy as np
import tensorflow as tf

CHIP_SIZE = 150
DESCRIPTOR_DIM = 128


def _residual(filters, down):
  """A residual block's layers, outermost first (ares / ares_down)."""
  stride = 2 if down else 1
  block = [("affine",), ("con", filters, 3, 1), ("relu",), ("affine",),
           ("con", filters, 3, stride)]
  if down:  # add_prev2<avg_pool<2,2,2,2,skip1<tag2<block<tag1<...>>>>>>
    return [("relu",), ("add_prev", 2), ("avg_pool", 2, 2), ("skip", 1),
            ("tag", 2)] + block + [("tag", 1)]
  return [("relu",), ("add_prev", 1)] + block + [("tag", 1)]


# anet_type below its loss_metric, outermost layer first.
ARCHITECTURE = (
    [("fc", DESCRIPTOR_DIM), ("avg_pool", 0, 1)] + _residual(256, True)
    + _residual(256, False) * 2 + _residual(256, True)
    + _residual(128, False) * 2 + _residual(128, True)
    + _residual(64, False) * 3 + _residual(64, True)
    + _residual(32, False) * 3
    + [("max_pool", 3, 2), ("relu",), ("affine",), ("con", 32, 7, 2)])


class _Reader:
  """dlib's serialization primitives over the file's bytes."""

  def __init__(self, data):
    self._data, self.offset = data, 0

  def _take(self, size):
    chunk = self._data[self.offset:self.offset + size]
    if len(chunk) != size:
      raise ValueError(f"the file ends at byte {self.offset}")
    self.offset += size
    return chunk

  def int(self):
    control = self._take(1)[0]
    value = int.from_bytes(self._take(control & 0x0F), "little")
    return -value if control & 0x80 else value

  def float(self):
    mantissa, exponent = self.int(), self.int()
    if exponent >= 32000:  # float_details' is_inf, is_ninf, is_nan codes
      raise ValueError(f"a non-finite float at byte {self.offset}")
    return float(np.ldexp(np.float64(mantissa), exponent))

  def bool(self):
    byte = self._take(1)
    if byte not in (b"0", b"1"):
      raise ValueError(f"no bool ('0' or '1') at byte {self.offset - 1}")
    return byte == b"1"

  def string(self):
    return self._take(self.int()).decode("ascii")

  def tensor(self):
    if self.int() != 2:
      raise ValueError(f"unknown tensor version at byte {self.offset}")
    shape = tuple(self.int() for _ in range(4))
    count = int(np.prod(shape))
    return np.frombuffer(self._take(4 * count), "<f4").reshape(shape)

  def alias_tensor(self):
    if self.int() != 1:
      raise ValueError(f"unknown alias_tensor version at byte {self.offset}")
    return tuple(self.int() for _ in range(4))


def _con(reader, layer):
  """con_4: its filters as HWIO, biases, stride and padding."""
  params = reader.tensor().ravel()
  filters = reader.int()
  size, size_x, stride, stride_x = (reader.int() for _ in range(4))
  padding, padding_x = reader.int(), reader.int()
  if (filters, size, stride) != layer[1:] or (size, stride, padding) != (
      size_x, stride_x, padding_x):
    raise ValueError(f"con {filters} {size}x{size_x}/{stride} is not "
                     f"anet_type's {layer}")
  shape = reader.alias_tensor()  # (filters, k, nr, nc); the biases follow
  reader.alias_tensor()
  for _ in range(4):
    reader.float()  # learning-rate and weight-decay multipliers
  count = int(np.prod(shape))
  weights = params[:count].reshape(shape).transpose(2, 3, 1, 0)  # HWIO
  return "con", (weights, params[count:count + filters], stride, padding)


def _affine(reader):
  """affine_: per-channel gamma and beta (batch norm frozen for inference)."""
  params = reader.tensor().ravel()
  channels = int(np.prod(reader.alias_tensor()))
  reader.alias_tensor()  # beta: the next `channels` parameters
  if reader.int() != 0:  # 0: CONV_MODE, one gamma and beta per channel
    raise ValueError("an affine layer not in CONV_MODE")
  return "affine", (params[:channels], params[channels:2 * channels])


def _fc(reader, layer):
  """fc_2 without bias: its [inputs, outputs] weights."""
  outputs, inputs = reader.int(), reader.int()
  params = reader.tensor().ravel()
  reader.alias_tensor(), reader.alias_tensor()
  if reader.int() != 1 or outputs != layer[1]:  # 1: FC_NO_BIAS
    raise ValueError(f"the fc layer is not anet_type's fc_no_bias {layer[1]}")
  for _ in range(4):
    reader.float()
  return "fc", (params[:inputs * outputs].reshape(inputs, outputs),)


def _details(reader, layer):
  """Reads one layer's details; returns (kind, parameters) for the forward.

  Only the versions face_recognition_models' file holds are read; another
  version raises rather than being guessed at.
  """
  name, kind = reader.string(), layer[0]
  if (kind, name) == ("con", "con_4"):
    return _con(reader, layer)
  if (kind, name) == ("affine", "affine_"):
    return _affine(reader)
  if (kind, name) in (("relu", "relu_"), ("add_prev", "add_prev_")):
    return layer[0], layer[1:]
  if kind in ("max_pool", "avg_pool") and name == kind + "_2":
    size, _, stride, _, padding, _ = (reader.int() for _ in range(6))
    if (size, stride) != layer[1:] or padding:
      raise ValueError(f"{name} {size}/{stride} pad {padding} is not {layer}")
    return kind, (size, stride)
  if (kind, name) == ("fc", "fc_2"):
    return _fc(reader, layer)
  raise ValueError(f"found {name!r} where anet_type has {layer}")


def load_layers(path):
  """The network in `path` as [(kind, parameters)], input side first.

  The first is ("input", (channel means [3], divisor)): dlib's
  input_rgb_image_sized feeds (pixel - mean) / 256 (dlib/dnn/input.h).
  """
  with open(path, "rb") as file:
    data = file.read()
  reader = _Reader(data)
  if (reader.int(), reader.string()) != (1, "loss_metric_2"):
    raise ValueError(f"{path} is not a dlib loss_metric_2 network")
  reader.float(), reader.float()  # margin, distance threshold: training only
  # Wrapper versions, outermost first: add_tag_layer and add_skip_layer 1,
  # add_layer 2, and 3 for the one over the input layer.
  expected = [1 if layer[0] in ("tag", "skip") else 2
              for layer in ARCHITECTURE[:-1]] + [3]
  versions = [reader.int() for _ in ARCHITECTURE]
  if versions != expected:
    raise ValueError(f"{path}: wrapper versions {versions} are not dlib's "
                     "anet_type as face_recognition_models ships it")
  if reader.string() != "input_rgb_image_sized":
    raise ValueError("the network's input is not input_rgb_image_sized")
  means = np.array([reader.float() for _ in range(3)], np.float32)
  if (reader.int(), reader.int()) != (CHIP_SIZE, CHIP_SIZE):
    raise ValueError(f"the network's input is not {CHIP_SIZE} px")
  layers = [("input", (means, np.float32(256)))]
  for index in range(len(ARCHITECTURE) - 1, -1, -1):
    layer = ARCHITECTURE[index]
    if layer[0] in ("tag", "skip"):  # no details of their own
      layers.append((layer[0], layer[1:]))
      continue
    layers.append(_details(reader, layer))
    for _ in range(3):
      reader.bool()  # setup called, gradient stale, output disabled
    for _ in range(3):
      reader.tensor()  # x_grad, cached output, parameter gradients
    if index == len(ARCHITECTURE) - 1:
      reader.int()  # the input add_layer's sample expansion factor
  if reader.offset != len(data):
    raise ValueError(f"{path}: {reader.offset} of {len(data)} bytes parsed")
  return layers


def _add_padded(a, b):
  """add_prev_: the sum over the larger shape, the smaller zero-padded at its
  end (bottom rows, right columns, last channels), as dlib's tt::add."""
  size = [max(x, y) for x, y in zip(a.shape[1:], b.shape[1:])]
  def pad(t):
    return tf.pad(t, [[0, 0]] + [[0, s - d] for s, d in zip(size,
                                                           t.shape[1:])])
  return pad(a) + pad(b)


class DlibResNet(tf.Module):
  """dlib's descriptor network: [N, 150, 150, 3] uint8 RGB chips -> [N, 128].

  Works in NHWC; dlib's NCHW filters are transposed once at load.
  """

  def __init__(self, path):
    super().__init__(name="dlib_resnet")
    self._layers = [(kind, tuple(tf.constant(p) if isinstance(p, np.ndarray)
                                 else p for p in parameters))
                    for kind, parameters in load_layers(path)]

  @tf.function(input_signature=[
      tf.TensorSpec([None, CHIP_SIZE, CHIP_SIZE, 3], tf.uint8)])
  def __call__(self, chips):
    """What dlib's `net(chips)` gives: the fc output, not normalised."""
    tags = {}
    x = chips
    for kind, parameters in self._layers:
      if kind == "input":
        means, divisor = parameters
        x = (tf.cast(x, tf.float32) - means) / divisor
      elif kind == "con":
        weights, biases, stride, padding = parameters
        x = tf.nn.conv2d(x, weights, stride, [[0, 0], [padding, padding],
                                              [padding, padding], [0, 0]])
        x += biases
      elif kind == "affine":
        x = x * parameters[0] + parameters[1]
      elif kind == "relu":
        x = tf.nn.relu(x)
      elif kind == "max_pool":
        x = tf.nn.max_pool2d(x, parameters[0], parameters[1], "VALID")
      elif kind == "avg_pool" and parameters[0] == 0:  # avg_pool_everything
        x = tf.reduce_mean(x, [1, 2], keepdims=True)
      elif kind == "avg_pool":
        x = tf.nn.avg_pool2d(x, parameters[0], parameters[1], "VALID")
      elif kind == "tag":
        tags[parameters[0]] = x
      elif kind == "skip":
        x = tags[parameters[0]]
      elif kind == "add_prev":
        x = _add_padded(x, tags[parameters[0]])
      elif kind == "fc":
        x = tf.matmul(tf.reshape(x, [-1, parameters[0].shape[0]]),
                      parameters[0])
    return x

  def describe(self, chips, batch_size=64):
    """[N, 128] float32 descriptors of [N, 150, 150, 3] uint8 chips."""
    chips = np.asarray(chips, np.uint8).reshape(-1, CHIP_SIZE, CHIP_SIZE, 3)
    return np.concatenate(
        [self(chips[i:i + batch_size]).numpy()
         for i in range(0, len(chips), batch_size)]
        or [np.zeros((0, DESCRIPTOR_DIM), np.float32)])
