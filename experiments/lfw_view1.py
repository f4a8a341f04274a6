"""LFW View 1: train on peopleDevTrain identities, verify on pairsDevTest.

The two lists share no identity (LFW README). Data, once (about 70 s):

    python -m data_pipelines.lfw_subset \
        --people ../shared/data/lfw/peopleDevTrain.txt \
        --output_dir /tmp/facenet_lfw/devtrain_tree
    python -m data_pipelines.build_tfrecords \
        --input_dir /tmp/facenet_lfw/devtrain_tree \
        --output_dir /tmp/facenet_lfw/devtrain --name devtrain --num_shards 8

Train (CPU, 2 cores; `:smoke` for a run of seconds, `:gpu` for the larger
GPU config, `:gpu,smoke` for its run of seconds):

    facenet-train --config=experiments/lfw_view1.py --workdir /tmp/lfw_view1_best
    facenet-eval --workdir /tmp/lfw_view1_best \
        --pairs ../shared/data/lfw/pairsDevTest.txt --crop_fraction 0.55 --flip

Model: resnet_small (ResNet-10, 1.26M params, 64 M multiply-adds) at 64x64,
~300 train images/s on this machine (nns2 at 96: 270-400 under load and a
lower curve; both in WORKSPACE_NOTES.md #9). DevTrain has 9,525 images of
4,038 people, but only 1,184 people with >= 2 images and 430 with >= 4:
K = 4 with balanced sampling with replacement below 4 (`replace`), P = 64,
plus R = 32 random negatives (one-image people included). Adam with a cosine
schedule: on a CPU budget it converges in far fewer steps than the paper's
AdaGrad 0.05. A cosine-margin softmax auxiliary (loss.softmax_weight) was
slower in the first 300 steps (0.694 vs 0.771) and is off.
Expected result and the accuracy-vs-minutes curve: WORKSPACE_NOTES.md (#9).
"""
import os

from facenet_tf import config as config_lib

LFW_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                    "shared", "data", "lfw")


def get_config(arg=None):
  target, smoke = config_lib.parse_arg(arg, ("cpu", "gpu"), "cpu", "TARGET")
  c = config_lib.get_config()
  c.model.name = "resnet_small"
  c.model.image_size = 64
  c.model.weight_decay = 1e-4
  c.data.source = "tfrecords"
  c.data.p, c.data.k, c.data.r = 64, 4, 32
  c.data.tfrecords.dir = "/tmp/facenet_lfw/devtrain"
  c.data.tfrecords.min_images_policy = "replace"
  c.data.tfrecords.brightness_delta = 20.0
  c.data.tfrecords.contrast = 0.2
  c.eval.pairs = os.path.normpath(os.path.join(LFW_DIR, "pairsDevTest.txt"))
  # The sampler resizes the 112 px tree (0.62 of LFW's side) by the 182/160
  # padding ratio and crops the model size: 0.62 x 160 / 182 = 0.545 of the
  # side at any model size, so the evaluation crop matches it.
  c.eval.crop_fraction = 0.55
  c.optimizer.name = "adam"
  c.optimizer.learning_rate = 1e-3
  c.optimizer.schedule = "cosine"
  c.optimizer.warmup_steps = 100
  c.train.steps = 3200
  c.train.log_every = 50
  c.train.checkpoint_every = 400
  c.train.eval_every = 400
  if target == "gpu":
    # Untested here (no GPU was lent to these sessions): Inception-ResNet-v1
    # at 112 px, the paper's batch scale as far as DevTrain allows.
    c.model.name, c.model.image_size = "inception_resnet_v1", 112
    c.model.dtype_policy = "mixed_bfloat16"
    c.data.p, c.data.k, c.data.r = 180, 4, 180
    c.train.steps, c.train.jit_compile = 20000, True
    c.train.checkpoint_every = c.train.eval_every = 1000
  if smoke:
    c.data.p, c.data.k, c.data.r = 8, 4, 8
    c.optimizer.warmup_steps = 2
    c.train.steps, c.train.log_every = 10, 5
    c.train.checkpoint_every = c.train.eval_every = 5
  return config_lib.validate(c)
