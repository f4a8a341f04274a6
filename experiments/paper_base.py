"""The paper's recipe at full scale (§3.2, §4): what the paper_<arch> configs share.

    facenet-train --config=experiments/paper_nn2.py:gpu8 --strategy mirrored \
        --workdir /runs/nn2 \
        --config.data.tfrecords.dir=/data/vggface2_shards \
        --config.eval.pairs=/data/lfw/pairs.txt \
        --config.eval.images_dir=/data/lfw_aligned
    facenet-train --config=experiments/paper_nn2.py:tpu --strategy tpu \
        --tpu local --workdir /runs/nn2 ...the same three data flags...

The data flags name shards written by data_pipelines.build_tfrecords from an
aligned photo tree (docs/guide.md) and an LFW-format pairs file. Targets:

  gpu8   8 GPUs, one host (--strategy mirrored): mixed_bfloat16, XLA, a
         memory budget of 64 GiB per device (an 80 GB A100/H100);
  tpu    8 TPU cores (--strategy tpu): mixed_bfloat16, XLA (always on a
         TPU), static shapes (the sampler's batches have a fixed size), a
         budget of 14 GiB per core (a 16 GB v5e chip); each core takes 225
         images of the global batch;
  smoke  seconds on a CPU with nothing prepared (big_vision's :runlocal):
         the recipe's model, image size, loss, optimizer and the budget's
         gradient cache on a small P x K + R batch of the built-in
         synthetic faces, verified on held-out synthetic identities (as
         `facenet-train --workdir W`, config.py). The real targets still
         demand shards and a pairs file. To smoke-test your own data:

    facenet-train --config=experiments/paper_nn2.py:smoke --workdir W \
        --config.data.source=tfrecords --config.data.tfrecords.dir=SHARDS \
        --config.eval.pairs=PAIRS --config.eval.images_dir=ALIGNED_LFW

The batch is the paper's (§3.2): P = 40 identities x K = 40 faces ("around
40 faces per identity") + R = 200 random negatives = 1,800 images, divisible
by 8 replicas in identities (P / 8 = 5) and negatives (R / 8 = 25). Semi-hard
triplets with margin 0.2 over the whole global batch (§3.1-3.2), a 128-d
embedding (§5.3), AdaGrad at 0.05 lowered to finalise the model (§4; the
schedule is not given: here /10 at 60% and again at 85% of the steps).
Augmentation, weight decay and the step count are not in the paper either:
random crops and flips, 1e-4, and 100,000 steps (180M images, ~55 epochs of
VGGFace2's 3.3M). The gradient-cache chunk comes from the budget
(training/memory_budget.py): the rule and the chunk each recipe gets are in
WORKSPACE_NOTES.md (issue #18).
"""
from facenet_tf import config as config_lib

TARGETS = ("gpu8", "tpu")
P, K, R = 40, 40, 200
STEPS = 100_000
BUDGET_GIB = {"gpu8": 64.0, "tpu": 14.0}


def recipe(arch, image_size, arg, smoke_budget_gib):
  """The recipe for `arch` at `image_size` on the hardware target of `arg`.

  `arg` is `[TARGET][,smoke]` (config.parse_arg; TARGET gpu8 by default):
  `smoke` is the recipe's CPU run of seconds on synthetic faces, whatever
  the target, with `smoke_budget_gib` as its budget: small enough that the
  rule cuts its 20-image batch into chunks (of 10, for the factor measured).
  """
  target, smoke = config_lib.parse_arg(arg, TARGETS, "gpu8", "TARGET")
  c = config_lib.get_config()
  c.model.name, c.model.image_size = arch, image_size
  c.model.weight_decay = 1e-4
  c.data.source = "tfrecords"
  c.data.p, c.data.k, c.data.r = P, K, R
  # Identities with fewer than K faces fill their K with repeats, so small
  # identities still train (pk_sampler); a budget of unique images is
  # data-set dependent.
  c.data.tfrecords.min_images_policy = "replace"
  c.loss.mining, c.loss.margin = "semihard", 0.2
  c.optimizer.name, c.optimizer.learning_rate = "adagrad", 0.05
  c.optimizer.schedule = "piecewise"
  c.train.steps = STEPS
  c.optimizer.boundaries = (int(0.6 * STEPS), int(0.85 * STEPS))
  c.optimizer.learning_rates = (0.05, 0.005, 0.0005)
  c.train.log_every = 100
  c.train.checkpoint_every = c.train.eval_every = 5000
  if smoke:
    c.data.source = "synthetic"
    c.data.synthetic = config_lib.get_config(config_lib.SMOKE).data.synthetic
    c.data.p, c.data.k, c.data.r = 4, 4, 4
    c.train.steps, c.train.log_every = 2, 1
    c.optimizer.boundaries, c.optimizer.learning_rates = (1,), (0.05, 0.005)
    c.train.checkpoint_every = c.train.eval_every = 2
    c.train.projector_samples = 20
    c.train.memory_budget_gb = smoke_budget_gib
  else:
    c.model.dtype_policy = "mixed_bfloat16"
    c.train.jit_compile = True
    c.train.memory_budget_gb = BUDGET_GIB[target]
  return c
