"""LFW View 2, one fold: train on the people of the other 9 folds, test on its pairs.

The standard procedure (LFW README): the people of people.txt's folds other
than N train the model; the pairs of pairs.txt's fold N are the test, with
the threshold chosen on the pairs of the other 9 folds. View 2's folds are
numbered 1..10 here (people.txt and pairs.txt list them in the same order;
facenet_tf.evaluation.lfw_protocol counts them from 0). Data for fold 10, once:

    python -m data_pipelines.lfw_subset --people ../shared/data/lfw/people.txt \\
        --folds 0,1,2,3,4,5,6,7,8 --output_dir /tmp/facenet_lfw/view2_train_f10_tree
    python -m data_pipelines.build_tfrecords \\
        --input_dir /tmp/facenet_lfw/view2_train_f10_tree \\
        --output_dir /tmp/facenet_lfw/view2_train_f10 --name view2f10 --num_shards 8

Train, then read fold 10 of the evaluation (`folds[9]` in the JSON; the
10-fold mean also averages folds whose people were trained on, so only the
test fold's accuracy is the View 2 figure):

    facenet-train --config=experiments/lfw_view2.py:10 --workdir /tmp/lfw_view2_f10
    facenet-eval --workdir /tmp/lfw_view2_f10 \\
        --pairs ../shared/data/lfw/pairs.txt --crop_fraction 0.55 --json

Everything else is experiments/lfw_view1.py's CPU config (resnet_small, 64
px); verification runs once, at the end (6,000 pairs). Result:
WORKSPACE_NOTES.md (#9).
"""
import os

from facenet_tf import config as config_lib

from experiments import lfw_view1

FOLDS = tuple(str(fold) for fold in range(1, 11))


def get_config(arg=None):
  test_fold, smoke = config_lib.parse_arg(arg, FOLDS, "10", "TEST_FOLD")
  c = lfw_view1.get_config(config_lib.SMOKE if smoke else None)
  c.data.tfrecords.dir = f"/tmp/facenet_lfw/view2_train_f{int(test_fold)}"
  c.eval.pairs = os.path.join(lfw_view1.LFW_DIR, "pairs.txt")
  c.train.eval_every = 0
  return config_lib.validate(c)
