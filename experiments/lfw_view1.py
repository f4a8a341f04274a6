"""LFW View 1: train on peopleDevTrain identities, verify on pairsDevTest.

The two lists share no identity (LFW README). Data, once (about 70 s):

    python -m data_pipelines.lfw_subset \
        --people ../shared/data/lfw/peopleDevTrain.txt \
        --output_dir /tmp/facenet_lfw/devtrain_tree
    python -m data_pipelines.build_tfrecords \
        --input_dir /tmp/facenet_lfw/devtrain_tree \
        --output_dir /tmp/facenet_lfw/devtrain --name devtrain --num_shards 8

Train (CPU, 2 cores; `:smoke` for a run of seconds):

    facenet-train --config=experiments/lfw_view1.py --workdir /tmp/lfw_view1

Model: nns2 (4.3M params) at 96x96, 558 train images/s on this machine
(nn4 at 96: 57/s). DevTrain has 9,525 images of 4,038 people, but only
1,184 people with >= 2 images and 430 with >= 4: K = 4 with balanced
sampling with replacement below 4 (`replace`), P = 32, plus R = 32 random
negatives (one-image people included). Adam with a cosine schedule: on a
CPU budget it converges in far fewer steps than the paper's AdaGrad 0.05.
Expected result and the accuracy-vs-minutes curve: WORKSPACE_NOTES.md (#9).
"""
import os

from facenet_tf import config as config_lib

_LFW = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                    "shared", "data", "lfw")


def get_config(arg=None):
  c = config_lib.get_config()
  c.model.name = "nns2"
  c.model.image_size = 96
  c.model.weight_decay = 1e-4
  c.data.source = "tfrecords"
  c.data.p, c.data.k, c.data.r = 32, 4, 32
  c.data.tfrecords.dir = "/tmp/facenet_lfw/devtrain"
  c.data.tfrecords.min_images_policy = "replace"
  c.data.tfrecords.brightness_delta = 20.0
  c.data.tfrecords.contrast = 0.2
  c.eval.pairs = os.path.normpath(os.path.join(_LFW, "pairsDevTest.txt"))
  # Training crops 96 px of the 112 px tree after resizing it to 109
  # (the sampler's 182 -> 160 padding ratio): 0.62 x 96 / 109 of LFW's side.
  c.eval.crop_fraction = 0.55
  c.optimizer.name = "adam"
  c.optimizer.learning_rate = 1e-3
  c.optimizer.schedule = "cosine"
  c.optimizer.warmup_steps = 200
  c.train.steps = 12000
  c.train.log_every = 100
  c.train.checkpoint_every = 500
  c.train.eval_every = 500
  if arg == "smoke":
    c.data.p, c.data.k, c.data.r = 8, 4, 8
    c.optimizer.warmup_steps = 2
    c.train.steps, c.train.log_every = 10, 5
    c.train.checkpoint_every = c.train.eval_every = 5
  elif arg:
    raise config_lib.ConfigError(
        f"Unknown config argument {arg!r}; expected '' or 'smoke'.")
  return config_lib.validate(c)
