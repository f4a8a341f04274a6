"""The final evaluation of a harmonic run (arXiv v3 §7, Fig. 8).

On the run's verification data (held-out synthetic identities, or
config.eval.pairs), each image embedded once by each model at its own
input size:

    v1_v1, v2_v2, v1_v2   evaluation/compatibility.py's three modes
    baseline_v1_init      the v2 start model (before §7's training) as the
                          probe against v1's gallery: the incompatible
                          baseline, near chance for independent models

Results go to TensorBoard's eval/ (`<mode>_accuracy`, `_val`, `_auc`) and
to results.json, and the projector shows v1's and v2's embeddings of the
same images side by side (§7 Fig. 10).
"""
import json

from absl import logging
import numpy as np

from facenet_tf import workdir as workdir_lib
from facenet_tf.evaluation import compatibility
from facenet_tf.training import evaluators
from facenet_tf.training import summaries

_SCALARS = ("accuracy", "val", "auc")


def evaluate(config, workdir, v1, v2, v2_verifier, writer, step):
  """The four results, as compatibility.summary dicts by name.

  Args:
    config: the resolved run config (harmonic_lib.resolve).
    workdir: the run's workdir (the projector goes to its tensorboard/).
    v1, v2: the frozen v1 and the trained v2 FaceEmbedders.
    v2_verifier: evaluators.verifier(config, v2's image size).
    writer: the run's summaries.TrainSummaries.
    step: the step the eval scalars are written at.
  """
  # 1. The same images and pairs at v1's input size (the synthetic set is
  #    rendered again at that size; a pairs file is read again).
  v1_verifier = (v2_verifier if tuple(v1.image_size) == tuple(v2.image_size)
                 else evaluators.verifier(config, tuple(v1.image_size)))
  start, _ = workdir_lib.restore_embedder(config.harmonic.init_workdir)
  # 2. Each image once per model.
  emb_v1 = v1_verifier.embed(v1)
  emb_v2, names = v2_verifier.embed(v2), v2_verifier.names
  emb_start = v2_verifier.embed(start)
  # 3. The three modes, and the start model as v2 for the baseline.
  pairs = v2_verifier.pairs
  far = config.eval.target_far
  results = compatibility.evaluate_compatibility(emb_v1, emb_v2, *pairs, far)
  results["baseline_v1_init"] = compatibility.evaluate_compatibility(
      emb_v1, emb_start, *pairs, far)["v1_v2"]
  out = {name: compatibility.summary(r) for name, r in results.items()}
  # 4. TensorBoard and the log.
  writer.write_eval(step, {f"{name}_{key}": value[key]
                           for name, value in out.items() for key in _SCALARS})
  for name, value in out.items():
    logging.info("%s: accuracy %.4f +- %.4f, VAL %.4f @ FAR %.5f, AUC %.4f",
                 name, value["accuracy"], value["accuracy_std"],
                 value["val"], value["far"], value["auc"])
  n = config.train.projector_samples
  summaries.write_projector(
      workdir, np.concatenate([emb_v1[:n], emb_v2[:n]]),
      [f"v1 {name}" for name in names[:n]] +
      [f"v2 {name}" for name in names[:n]])
  return out


def write_results(workdir, results):
  with open(workdir_lib.path(workdir, "results.json"), "w") as f:
    json.dump(results, f, indent=2)
