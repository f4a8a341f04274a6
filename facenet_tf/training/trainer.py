"""`FaceNetTrainer`: a Keras model whose `train_step` mines over the global batch.

Paper §3.2 mines triplets inside one large mini-batch (~1,800 faces). Under N
replicas each holds B/N of it, so each replica:
  1. embeds its own images;
  2. all-gathers embeddings and labels: every replica sees the global batch;
  3. mines with its own images as anchors (rows) against the whole batch
     (columns) - the miners work on an [A, B] distance matrix;
  4. all-reduces the additive `TripletTerms`, and divides its own loss sum
     by the global count, so the N replica losses sum to the single-device
     loss. `all_gather`'s gradient all-reduces the incoming gradient and
     takes this replica's slice, and the optimizer sums the replicas'
     gradients: the update equals one device's on the same global batch
     (checked in tests/test_train_step.py on 2 logical CPUs);
  5. applies the gradients.
`mining_scope='replica'` skips step 2 and mines inside each replica's share,
so the two can be compared. The loss and its statistics come from one pass.
`grad_cache_chunk > 0` computes the same step's gradient on activations of
that many images at a time (`grad_cache.py`). `softmax_weight > 0` adds a
cosine-margin softmax over `num_classes` training identities
(losses/cosine_softmax.py) to the triplet loss, averaged over the global batch.
"""
import keras
import tensorflow as tf

from facenet_tf import losses
from facenet_tf.training import grad_cache

HISTOGRAM_BINS = 40
# Distances between unit vectors: squared L2 in [0, 4], L2 and angular in [0, 2].
DISTANCE_RANGE = {"squared_l2": 4.0, "l2": 2.0, "angular": 2.0}


def _replica_context():
  ctx = tf.distribute.get_replica_context()
  if ctx is None:
    raise RuntimeError("train_step must run in a replica context "
                       "(directly, or inside strategy.run).")
  return ctx


def _all_gather(ctx, x):
  return ctx.all_gather(x, axis=0) if ctx.num_replicas_in_sync > 1 else x


def _histogram(dist, mask, limit):
  """Counts [HISTOGRAM_BINS] of `dist` where `mask`: O(A*B), XLA-friendly."""
  bins = tf.histogram_fixed_width_bins(dist, [0.0, limit], HISTOGRAM_BINS)
  return tf.math.unsorted_segment_sum(tf.cast(mask, tf.float32), bins,
                                      HISTOGRAM_BINS)


@keras.saving.register_keras_serializable(package="facenet_tf")
class FaceNetTrainer(keras.Model):
  """Wraps a `FaceEmbedder`; `train_step` takes (images, labels) batches.

  `grad_cache_chunk`: 0 embeds the per-replica batch in one pass; N > 0
  (a divisor of the per-replica batch) back-propagates it N images at a
  time through a gradient cache. Mining, loss and update are the same;
  BatchNorm then normalises each chunk with its own statistics.
  `softmax_weight > 0` (needs `num_classes`, and no gradient cache) adds
  `softmax_weight` x the cosine-margin softmax loss. `softmax_pretrain_steps`
  N > 0 turns the sum into two phases, by the optimizer's step count: steps
  < N train the softmax alone, later ones the triplet loss alone.
  `distill_weight > 0` adds a distillation loss (`distill_loss`: 'cosine',
  'relational' or §7's 'harmonic', losses/distillation.py) to the teacher
  targets that then
  come with each batch, (images, labels, targets); `triplet_weight` scales
  the triplet loss (0: distillation alone, the mining still logged).
  `distill_center` (a list of D floats, the training set's mean unit
  target) centres the targets of the cosine and relational losses; the §7
  harmonic loss keeps them raw.
  """

  def __init__(self, embedder, mining="semihard", margin=0.2,
               metric="squared_l2", mining_scope="global", grad_cache_chunk=0,
               num_classes=0, softmax_weight=0.0, softmax_scale=30.0,
               softmax_margin=0.35, softmax_pretrain_steps=0,
               triplet_weight=1.0, distill_weight=0.0, distill_loss="cosine",
               distill_center=None, **kwargs):
    super().__init__(**kwargs)
    if distill_loss not in losses.DISTILL_LOSSES:
      raise ValueError(f"Unknown distill_loss {distill_loss!r}; expected one "
                       f"of {losses.DISTILL_LOSSES}.")
    if min(triplet_weight, distill_weight) < 0 or not (
        triplet_weight or distill_weight or softmax_weight):
      raise ValueError(f"Loss weights must be >= 0 and not all 0: "
                       f"triplet_weight={triplet_weight}, distill_weight="
                       f"{distill_weight}, softmax_weight={softmax_weight}.")
    if grad_cache_chunk < 0:
      raise ValueError(f"grad_cache_chunk must be >= 0 (0 = off), got "
                       f"{grad_cache_chunk}.")
    if softmax_weight and (grad_cache_chunk or num_classes < 2):
      raise ValueError(f"softmax_weight > 0 needs num_classes >= 2 (got "
                       f"{num_classes}) and grad_cache_chunk = 0 (got "
                       f"{grad_cache_chunk}).")
    if softmax_pretrain_steps and not softmax_weight:
      raise ValueError("softmax_pretrain_steps > 0 needs softmax_weight > 0.")
    if mining_scope not in ("global", "replica"):
      raise ValueError(f"mining_scope must be 'global' or 'replica', got "
                       f"{mining_scope!r}.")
    if mining not in losses.MINERS:
      raise ValueError(f"Unknown mining {mining!r}; expected one of "
                       f"{sorted(losses.MINERS)}.")
    losses.distances.check_metric(metric)
    self.embedder = embedder
    self.mining, self.margin = mining, margin
    self.metric, self.mining_scope = metric, mining_scope
    self.grad_cache_chunk = grad_cache_chunk
    self.num_classes, self.softmax_weight = num_classes, softmax_weight
    self.softmax_scale, self.softmax_margin = softmax_scale, softmax_margin
    self.softmax_pretrain_steps = softmax_pretrain_steps
    self.triplet_weight, self.distill_weight = triplet_weight, distill_weight
    self.distill_loss = distill_loss
    self.distill_center = (None if distill_center is None
                           else [float(v) for v in distill_center])
    self.classifier = None
    if softmax_weight:
      self.classifier = losses.CosineClassifier(
          num_classes, softmax_scale, softmax_margin, name="classifier")
      self.classifier.build(embedder.outputs[0].shape)
    # The same layers, also returning the pre-normalisation embedding, whose
    # norm TensorBoard shows (the L2-normalised one is 1 by construction).
    self._heads = keras.Model(
        embedder.input,
        [embedder.get_layer("embedding").output, embedder.outputs[0]])

  @classmethod
  def from_experiment(cls, config, embedder, optimizer, **kwargs):
    """The trainer of an experiment config, compiled with `optimizer`.

    (Keras owns `from_config`: it rebuilds a trainer from `get_config`.)

    Args:
      config: an experiment config (facenet_tf/config.py): its `loss`
        section and train.grad_cache_chunk set the loss and the step.
      embedder: the FaceEmbedder to train.
      optimizer: a Keras optimizer (training/optimizers.py).
      **kwargs: what the config does not hold: `num_classes` (the training
        identities, for the softmax), a subclass's own arguments.
    """
    loss = config.loss
    trainer = cls(embedder, mining=loss.mining, margin=loss.margin,
                  metric=loss.metric, mining_scope=loss.mining_scope,
                  grad_cache_chunk=config.train.grad_cache_chunk,
                  softmax_weight=loss.softmax_weight,
                  softmax_scale=loss.softmax_scale,
                  softmax_margin=loss.softmax_margin,
                  softmax_pretrain_steps=loss.softmax_pretrain_steps,
                  triplet_weight=loss.triplet_weight,
                  distill_weight=loss.distill_weight,
                  distill_loss=loss.distill_loss, **kwargs)
    trainer.compile(optimizer=optimizer)
    return trainer

  def call(self, images, training=False):
    return self.embedder(images, training=training)

  def _gather(self, ctx, x):
    return _all_gather(ctx, x) if self.mining_scope == "global" else x

  def _offset(self, ctx, local):
    """Where this replica's anchors sit among the gathered keys."""
    return (ctx.replica_id_in_sync_group * local
            if self.mining_scope == "global" else 0)

  def distances(self, ctx, labels, embeddings):
    """(dist, pos, neg) [A, B]: this replica's anchors vs the (gathered) keys."""
    keys, key_labels = self._gather(ctx, embeddings), self._gather(ctx, labels)
    local = tf.shape(labels)[0]
    # Anchor i of this replica is column offset + i of the gathered batch.
    same_item = tf.equal(tf.range(local)[:, None] + self._offset(ctx, local),
                         tf.range(tf.shape(key_labels)[0])[None, :])
    dist = losses.distance_matrix(embeddings, keys, self.metric, same_item)
    pos, neg = losses.label_masks(labels, key_labels, same_item)
    return dist, pos, neg

  def mine(self, labels, embeddings):
    """Local `TripletTerms` and distance histograms for this replica's anchors."""
    dist, pos, neg = self.distances(_replica_context(),
                                    tf.reshape(labels, [-1]), embeddings)
    terms = losses.MINERS[self.mining](dist, pos, neg, self.margin)
    limit = DISTANCE_RANGE[self.metric]
    hist = {"d_ap": _histogram(dist, pos, limit),
            "d_an": _histogram(dist, neg, limit)}
    return terms, hist

  def _loss(self, ctx, labels, embeddings, targets=None):
    """This replica's scaled share of the global loss, and the logs' inputs."""
    terms, hist = self.mine(labels, embeddings)
    totals = losses.TripletTerms(*tf.nest.map_structure(
        tf.stop_gradient, ctx.all_reduce("sum", list(terms))))
    # This replica's share of the global mean: the N shares sum to it.
    loss = self.triplet_weight * tf.math.divide_no_nan(terms.loss_sum,
                                                       totals.loss_count)
    softmax, distill = tf.constant(0.0), tf.constant(0.0)
    if self.classifier is not None:
      # This replica's share of the mean over the global batch.
      global_size = tf.cast(tf.size(labels) * ctx.num_replicas_in_sync,
                            tf.float32)
      softmax = self.classifier(embeddings, labels) / global_size
      loss = self._weighted(loss, softmax)
    if self.distill_weight:
      distill = self._distill_share(ctx, embeddings, targets,
                                    tf.reshape(labels, [-1]))
      loss += self.distill_weight * distill
    # Weight decay is counted once over the replicas, not N times.
    reg = (tf.add_n(self.embedder.losses) / ctx.num_replicas_in_sync
           if self.embedder.losses else tf.constant(0.0))
    scaled = self.optimizer.scale_loss(loss + tf.cast(reg, loss.dtype))
    return scaled, (totals, hist, reg, softmax, distill)

  def _distill_share(self, ctx, embeddings, targets, labels):
    """This replica's share of the global distillation loss (its anchors'
    sum over the all-reduced count), as the triplet loss is shared."""
    if targets is None:
      raise ValueError("distill_weight > 0 needs batches of (images, labels, "
                       "teacher targets): shards with teacher targets.")
    if self.distill_center is not None and self.distill_loss != "harmonic":
      targets = losses.distillation_centred_targets(targets,
                                                    self.distill_center)
    if self.distill_loss == "cosine":
      terms = losses.distillation_cosine_terms(embeddings, targets)
    elif self.distill_loss == "harmonic":  # §7, the teacher as frozen v1
      v1 = losses.distillation_unit_targets(targets)
      dist, pos, neg = losses.union_distances(
          embeddings, v1, labels, self._gather(ctx, embeddings),
          self._gather(ctx, v1), self._gather(ctx, labels),
          self._offset(ctx, tf.shape(labels)[0]), self.metric)
      mined = losses.MINERS[self.mining](dist, pos, neg, self.margin)
      terms = losses.DistillTerms(mined.loss_sum, mined.loss_count)
    else:  # relational: this replica's rows against the gathered batch
      terms = losses.distillation_relational_terms(
          embeddings, targets, self._gather(ctx, embeddings),
          self._gather(ctx, targets), self._offset(ctx, tf.shape(targets)[0]))
    count = tf.stop_gradient(ctx.all_reduce("sum", terms.count))
    return tf.math.divide_no_nan(terms.loss_sum, count)

  def _weighted(self, triplet, softmax):
    """triplet + w x softmax, or one of the two by phase (pre-training)."""
    if not self.softmax_pretrain_steps:
      return triplet + self.softmax_weight * softmax
    # The optimizer's count is checkpointed, so a resumed run keeps its phase.
    pretraining = tf.cast(
        self.optimizer.iterations < self.softmax_pretrain_steps, triplet.dtype)
    return ((1.0 - pretraining) * triplet
            + pretraining * self.softmax_weight * softmax)

  def _loss_fn(self, ctx, images, labels, targets=None):
    """The step's loss: [raw, embeddings] of `images` -> (scaled, aux)."""
    del images  # a subclass may embed them with another model (harmonic)
    return lambda outputs: self._loss(ctx, labels, outputs[1], targets)

  def train_step(self, data):
    # (images, labels), or (images, labels, teacher targets) to distil.
    images, labels, *targets = data
    ctx = _replica_context()
    variables = self.trainable_variables
    loss_fn = self._loss_fn(ctx, images, labels, *targets)
    if self.grad_cache_chunk:
      grads, (raw, _), aux = grad_cache.cached_gradients(
          self._heads, images, self.grad_cache_chunk, loss_fn, variables)
    else:
      with tf.GradientTape() as tape:
        raw, embeddings = self._heads(images, training=True)
        scaled, aux = loss_fn([raw, embeddings])
      grads = tape.gradient(scaled, variables)
    self.optimizer.apply(grads, variables)
    return self._logs(ctx, raw, *aux)

  def _logs(self, ctx, raw, totals, hist, reg, softmax, distill):
    """Global statistics: identical on every replica."""
    _, stats = losses.summarize(totals)
    if self.classifier is not None:
      stats["softmax_loss"] = ctx.all_reduce("sum", tf.stop_gradient(softmax))
    if self.distill_weight:
      stats["distill_loss"] = ctx.all_reduce("sum", tf.stop_gradient(distill))
    norms = _all_gather(ctx, tf.norm(tf.cast(raw, tf.float32), axis=1))
    stats.update({
        "regularization_loss": ctx.all_reduce("sum", tf.cast(reg, tf.float32)),
        "embedding_norm_mean": tf.reduce_mean(norms),
        "embedding_norm_min": tf.reduce_min(norms),
        "embedding_norm_max": tf.reduce_max(norms),
        "hist_d_ap": ctx.all_reduce("sum", hist["d_ap"]),
        "hist_d_an": ctx.all_reduce("sum", hist["d_an"]),
    })
    return stats

  def get_config(self):
    config = super().get_config()
    config.update({
        "embedder": keras.saving.serialize_keras_object(self.embedder),
        "mining": self.mining, "margin": self.margin, "metric": self.metric,
        "mining_scope": self.mining_scope,
        "grad_cache_chunk": self.grad_cache_chunk,
        "num_classes": self.num_classes, "softmax_weight": self.softmax_weight,
        "softmax_scale": self.softmax_scale,
        "softmax_margin": self.softmax_margin,
        "triplet_weight": self.triplet_weight,
        "distill_weight": self.distill_weight,
        "distill_loss": self.distill_loss,
        "distill_center": self.distill_center,
        "softmax_pretrain_steps": self.softmax_pretrain_steps})
    return config

  @classmethod
  def from_config(cls, config):
    config = dict(config)
    config["embedder"] = keras.saving.deserialize_keras_object(
        config["embedder"])
    return cls(**config)
