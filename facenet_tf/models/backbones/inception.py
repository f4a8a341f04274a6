"""FaceNet's Inception backbones NN2, NN3, NN4, NNS1, NNS2 (Tables 2-3).

One table-driven builder makes all five: a stem, then a sequence of Inception
modules, each one row of paper Table 2, then a head.

Stem (Table 2, rows 1-4): conv1 7x7/2 -> max pool 3x3/2 -> norm -> "inception
(2)" (1x1 reduce, then 3x3) -> norm -> max pool 3x3/2. "norm" is a
`LocalResponseNorm` (AlexNet constants), as in GoogLeNet and OpenFace's nn4;
every convolution is also conv-BN-ReLU (see layers.py), so the LRN is kept for
fidelity to the table only; it costs no multiply-adds.

Inception module (Table 2 columns): parallel branches #1x1; #3x3 reduce ->
#3x3; #5x5 reduce -> #5x5; pool 3x3 (m = max, L2 = `L2Pooling2D`) -> 1x1
"pool proj"; concatenated on depth. A 0 drops the branch. In the stride-2
modules ("256,2": 3c, 4e) the 3x3 and 5x5 convolutions have stride 2 (their
1x1 reduces stay at stride 1, which is what the table's FLOPS imply) and the
pool branch is a 3x3/2 max pool with no projection.

Heads: NN2/NN3/NN4 end with global average pooling (Table 2 "avg pool").
NNS1/NNS2 flatten their small last grid into a fully connected ReLU layer
("fc1"): the paper's parameter budgets for them (26M, 4.3M) are far above what
their multiply-add budgets allow in convolutions, and a wide FC layer is where
parameters are cheap in multiply-adds (one per parameter).

Models (params / multiply-adds include the 128-d embedding layer and, for the
params, BatchNorm's 4 numbers per channel):
- nn2 (224x224): exactly Table 2, 1024 features.
- nn3 (160x160): nn2's layers at 160x160 (paper §3.3: same architecture,
  smaller input).
- nn4 (96x96): nn2 without the 5x5 branches of 4e, 5a, 5b (paper §3.3: "no
  5x5 convs in the higher layers"; the same modules as OpenFace's
  nn4.small2), 896 features. The 96x96 input alone brings NN2's 1.6B to
  ~290M; also dropping 4a-4d's 5x5 branches would remove only ~10M more.
- nns1 ("mini Inception", 165x165; grids 83, 42, 21, 11, 6): NN2 at half
  width (conv1 32; inception (2) 32 -> 96; 3a, 3b, 3c, 4a, 4e, 5a, 5b with
  every Table 2 width halved), 4b-4d left out to meet the 220M multiply-add
  budget; flatten of the 6x6x512 grid -> fc1 1280 holds 23.6M of the 26M
  parameters; the convolutions hold 197M multiply-adds, 1.3M parameters.
- nns2 ("tiny Inception", 140x116; grids 70x58, 35x29, 18x15, 9x8, 5x4):
  conv1 8; inception (2) 16 -> 24; one module per stage, a quarter to an
  eighth of NN2's widths: 3a (16, 16->32, 4->8, max 8p), 3c (32->64/2,
  8->16/2, max/2), 4a (32, 24->48, 8->16, L2 16p), 4e (32->64/2, 8->16/2,
  max/2), 5a (96, 48->96, 12->16, L2 16p); flatten of the 5x4x224 grid ->
  fc1 896 holds 4.0M of the 4.3M parameters. conv1 alone is 4.8M of the
  ~16.5M convolution multiply-adds, hence its 8 filters.
The paper gives no layer tables for NN3, NN4, NNS1 or NNS2 (FACTS.md §3); the
NN4/NNS1/NNS2 designs above are ours, sized to the paper's budgets.
"""
from typing import NamedTuple, Tuple

from keras import layers

from facenet_tf.models.layers import conv_bn
from facenet_tf.models.layers import L2Pooling2D
from facenet_tf.models.layers import LocalResponseNorm
from facenet_tf.models.layers import regularizer
from facenet_tf.models.registry import register


class Module(NamedTuple):
  """One Inception row of paper Table 2; a 0 width drops that branch."""
  name: str
  n1x1: int
  n3x3_reduce: int
  n3x3: int
  n5x5_reduce: int
  n5x5: int
  pool: str       # "max" or "l2"
  pool_proj: int  # 0: no projection (stride-2 modules)
  stride: int = 1


class Net(NamedTuple):
  """A whole network: stem widths, Inception modules, head."""
  conv1: int          # 7x7/2 filters
  conv2_reduce: int   # "inception (2)" 1x1 reduce
  conv2: int          # "inception (2)" 3x3
  modules: Tuple[Module, ...]
  fc_units: int = 0   # 0: global average pool; else flatten -> fc1 (ReLU)


# Paper Table 2, rows "inception (3a)" .. "inception (5b)".
_NN2_MODULES = (
    Module("3a", 64, 96, 128, 16, 32, "max", 32),     # 164K / 128M
    Module("3b", 64, 96, 128, 32, 64, "l2", 64),      # 228K / 179M
    Module("3c", 0, 128, 256, 32, 64, "max", 0, 2),   # 398K / 108M
    Module("4a", 256, 96, 192, 32, 64, "l2", 128),    # 545K / 107M
    Module("4b", 224, 112, 224, 32, 64, "l2", 128),   # 595K / 117M
    Module("4c", 192, 128, 256, 32, 64, "l2", 128),   # 654K / 128M
    Module("4d", 160, 144, 288, 32, 64, "l2", 128),   # 722K / 142M
    Module("4e", 0, 160, 256, 64, 128, "max", 0, 2),  # 717K / 56M
    Module("5a", 384, 192, 384, 48, 128, "l2", 128),  # 1.6M / 78M
    Module("5b", 384, 192, 384, 48, 128, "max", 128),  # 1.6M / 78M
)

NN2 = Net(64, 64, 192, _NN2_MODULES)  # conv1 9K/119M; inception (2) 115K/360M

NN4 = NN2._replace(modules=tuple(
    m._replace(n5x5_reduce=0, n5x5=0) if m.name in ("4e", "5a", "5b") else m
    for m in _NN2_MODULES))

NNS1 = Net(32, 32, 96, (
    Module("3a", 32, 48, 64, 8, 16, "max", 16),
    Module("3b", 32, 48, 64, 16, 32, "l2", 32),
    Module("3c", 0, 64, 128, 16, 32, "max", 0, 2),
    Module("4a", 128, 48, 96, 16, 32, "l2", 64),
    Module("4e", 0, 80, 128, 32, 64, "max", 0, 2),
    Module("5a", 192, 96, 192, 24, 64, "l2", 64),
    Module("5b", 192, 96, 192, 24, 64, "max", 64),
), fc_units=1280)

NNS2 = Net(8, 16, 24, (
    Module("3a", 16, 16, 32, 4, 8, "max", 8),
    Module("3c", 0, 32, 64, 8, 16, "max", 0, 2),
    Module("4a", 32, 24, 48, 8, 16, "l2", 16),
    Module("4e", 0, 32, 64, 8, 16, "max", 0, 2),
    Module("5a", 96, 48, 96, 12, 16, "l2", 16),
), fc_units=896)


def _pool(kind, stride, name):
  pool = L2Pooling2D if kind == "l2" else layers.MaxPooling2D
  return pool(3, strides=stride, padding="same", name=name)


def inception(x, m, weight_decay):
  """One Inception module (a Table 2 row): parallel branches, concatenated."""
  name = f"inception_{m.name}"

  def conv(y, filters, kernel, stride, suffix):
    return conv_bn(y, filters, kernel, stride, weight_decay,
                   name=f"{name}_{suffix}")

  branches = []
  if m.n1x1:
    branches.append(conv(x, m.n1x1, 1, 1, "1x1"))
  for reduce, filters, k in ((m.n3x3_reduce, m.n3x3, 3),
                             (m.n5x5_reduce, m.n5x5, 5)):
    if filters:
      y = conv(x, reduce, 1, 1, f"{k}x{k}_reduce")
      branches.append(conv(y, filters, k, m.stride, f"{k}x{k}"))
  y = _pool(m.pool, m.stride, f"{name}_pool")(x)
  if m.pool_proj:
    y = conv(y, m.pool_proj, 1, 1, "pool_proj")
  branches.append(y)
  return layers.Concatenate(name=f"{name}_concat")(branches)


def _stem(x, net, weight_decay):
  """Table 2 rows conv1 .. "norm + max pool"."""
  x = conv_bn(x, net.conv1, 7, 2, weight_decay, name="conv1")
  x = _pool("max", 2, "pool1")(x)
  x = LocalResponseNorm(name="norm1")(x)
  x = conv_bn(x, net.conv2_reduce, 1, 1, weight_decay, name="conv2_reduce")
  x = conv_bn(x, net.conv2, 3, 1, weight_decay, name="conv2")
  x = LocalResponseNorm(name="norm2")(x)
  return _pool("max", 2, "pool2")(x)


def _head(x, net, weight_decay):
  if not net.fc_units:
    return layers.GlobalAveragePooling2D(name="avg_pool")(x)
  x = layers.Flatten(name="flatten")(x)
  return layers.Dense(net.fc_units, activation="relu",
                      kernel_regularizer=regularizer(weight_decay),
                      name="fc1")(x)


def inception_net(x, net, weight_decay):
  """Stem -> Inception modules -> head: features [batch, F]."""
  x = _stem(x, net, weight_decay)
  for m in net.modules:
    x = inception(x, m, weight_decay)
  return _head(x, net, weight_decay)


@register("nn2", image_size=(224, 224), paper_params=7.5e6, paper_madds=1.6e9,
          description="Inception (GoogLeNet-style), paper Table 2")
def nn2(x, weight_decay):
  return inception_net(x, NN2, weight_decay)


@register("nn3", image_size=(160, 160),
          description="NN2's layers at 160x160 input")
def nn3(x, weight_decay):
  return inception_net(x, NN2, weight_decay)


@register("nn4", image_size=(96, 96), paper_madds=285e6,
          description="NN2 at 96x96 without 5x5 convs in 4e, 5a, 5b")
def nn4(x, weight_decay):
  return inception_net(x, NN4, weight_decay)


@register("nns1", image_size=(165, 165), paper_params=26e6,
          paper_madds=220e6,
          description="mini Inception: half-width NN2, 7 modules, fc 1280")
def nns1(x, weight_decay):
  return inception_net(x, NNS1, weight_decay)


@register("nns2", image_size=(140, 116), paper_params=4.3e6, paper_madds=20e6,
          description="tiny Inception: 1/4-1/8-width NN2, 5 modules, fc 896")
def nns2(x, weight_decay):
  return inception_net(x, NNS2, weight_decay)
