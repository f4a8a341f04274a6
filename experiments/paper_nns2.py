"""The paper's recipe for nns2 at 160 px (paper_base: targets gpu8, tpu, smoke).

    facenet-train --config=experiments/paper_nns2.py:gpu8 --strategy mirrored \
        --workdir /runs/nns2 --config.data.tfrecords.dir=SHARDS \
        --config.eval.pairs=PAIRS --config.eval.images_dir=ALIGNED_LFW

Expected cost per target and the gradient-cache chunk of each budget:
WORKSPACE_NOTES.md (issue #18) and docs/guide.md.
"""
from experiments import paper_base


def get_config(arg=None):
  return paper_base.recipe("nns2", 160, arg,
                            smoke_budget_gib=0.17)
