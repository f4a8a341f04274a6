"""MTCNN's three networks run as TensorFlow graphs instead of eagerly.

The `mtcnn` 1.0 package calls its Keras networks eagerly, layer by layer:
on a photo's P-net pyramid (about a dozen calls per photo) Python and the
eager dispatch cost as much as the convolutions. Each stage's network is
replaced by one `tf.function`, traced once with free batch (and, for P-net,
free height and width) dimensions, so no new photo size retraces. The
outputs are the same numbers (tests/test_detector.py checks the
detections); the large-photo benchmark (bench_photos.py) gains about 2x in
detection (WORKSPACE_NOTES.md, #31 item 13).
"""

# Input patch side of each stage's network; None: any (P-net's pyramid).
_INPUT_SIDES = {"Stage PNET": None, "Stage RNET": 24, "Stage ONET": 48}


class _GraphNetwork:
  """A Keras network called through one `tf.function` of fixed signature."""

  def __init__(self, network, side):
    import tensorflow as tf  # pylint: disable=import-outside-toplevel
    self.network = network
    self._call = tf.function(
        network.call, input_signature=[
            tf.TensorSpec([None, side, side, 3], tf.float32)])

  def __call__(self, inputs):
    return self._call(inputs)


def compile_stages(mtcnn):
  """Swaps each known stage's network of `mtcnn` (an `mtcnn.MTCNN`) for its
  graph; returns `mtcnn`. Raises ValueError on an unknown stage (another
  mtcnn version), rather than running it eagerly unnoticed."""
  for stage in mtcnn.stages:
    if stage.name not in _INPUT_SIDES:
      raise ValueError(f"unknown MTCNN stage {stage.name!r}: mtcnn 1.0.x "
                       f"has {sorted(_INPUT_SIDES)}")
    if not isinstance(stage.model, _GraphNetwork):
      # The package keeps the network in `_model`; 1.0.x has no setter.
      stage._model = _GraphNetwork(  # pylint: disable=protected-access
          stage.model, _INPUT_SIDES[stage.name])
  return mtcnn
