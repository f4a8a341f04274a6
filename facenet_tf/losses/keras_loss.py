"""A serialisable `keras.losses.Loss` over the triplet losses."""
import keras

from facenet_tf.losses import distances
from facenet_tf.losses import mining
from facenet_tf.losses import triplet


@keras.saving.register_keras_serializable(package="facenet_tf")
class TripletLoss(keras.losses.Loss):
  """`loss(y_true=labels, y_pred=embeddings)` for any mining in `MINERS`.

  The triplet loss is already a mean over the batch's triplets, so Keras'
  reduction sees a scalar and leaves it as it is.
  """

  def __init__(self, mining="semihard", margin=0.2, metric="squared_l2",
               name=None, **kwargs):
    if mining not in mining_kinds():
      raise ValueError(f"Unknown triplet mining {mining!r}; expected one of "
                       f"{mining_kinds()}.")
    distances.check_metric(metric)
    super().__init__(name=name or f"triplet_{mining}", **kwargs)
    self.mining = mining
    self.margin = margin
    self.metric = metric

  def call(self, y_true, y_pred):
    terms = triplet.mining_terms(y_true, y_pred, self.mining, self.margin,
                                 self.metric)
    return triplet.summarize(terms)[0]

  def get_config(self):
    config = super().get_config()
    config.update(mining=self.mining, margin=self.margin, metric=self.metric)
    return config


def mining_kinds():
  return sorted(mining.MINERS)
