"""The paper's recipe for nn4 at 96 px (paper_base: targets gpu8, tpu, smoke).

    facenet-train --config=experiments/paper_nn4.py:gpu8 --strategy mirrored \
        --workdir /runs/nn4 --config.data.tfrecords.dir=SHARDS \
        --config.eval.pairs=PAIRS --config.eval.images_dir=ALIGNED_LFW

Expected cost per target and the gradient-cache chunk of each budget:
WORKSPACE_NOTES.md (issue #18) and docs/guide.md.
"""
from experiments import paper_base


def get_config(arg=None):
  return paper_base.recipe("nn4", 96, arg,
                            smoke_budget_gib=0.35)
