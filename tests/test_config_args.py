"""The one config-argument grammar: `[CHOICE][,smoke]` (config.parse_arg).

Every config file's `get_config(arg)` (`--config=FILE:ARG`) accepts "",
"smoke", each CHOICE listed below and CHOICE + ",smoke"; anything else is a
ConfigError that names the grammar and the choices. Validation is stubbed
out: it checks data directories (LFW shards, CelebA trees) that CI lacks,
and the argument is parsed before it.
"""
import importlib
import sys

import pytest

from facenet_tf import config as config_lib

# module: (its CHOICEs, the default); () accepts only "" and "smoke".
ACCEPTED = {
    "facenet_tf.config": ((), None),
    "experiments.harmonic_lfw": ((), None),
    "experiments.lfw_view1": (("cpu", "gpu"), "cpu"),
    "experiments.lfw_view2": (tuple(str(f) for f in range(1, 11)), "10"),
    "experiments.ablate_batch": (("k2", "k4", "k8", "b64", "b256"), "k4"),
    "experiments.ablate_embedding_dim": (("64", "128", "256", "512"), "128"),
    "experiments.ablate_image_quality": (("base",), "base"),
    "experiments.ablate_mining": (
        ("semihard", "hardest_negative", "batch_all", "random"), "semihard"),
    "experiments.faces_geometry": (("box", "landmarks", "dlib"), "landmarks"),
    "experiments.faces_view1": (("box", "landmarks", "dlib"), "landmarks"),
    "experiments.faces_view2": (("box", "landmarks", "dlib"), "landmarks"),
    "experiments.faces_table6": (("25", "50", "100"), "100"),
    "experiments.paper_nn2": (("gpu8", "tpu"), "gpu8"),
    "experiments.paper_nn4": (("gpu8", "tpu"), "gpu8"),
    "experiments.paper_nns2": (("gpu8", "tpu"), "gpu8"),
    "experiments.paper_inception_resnet_v1": (("gpu8", "tpu"), "gpu8"),
}


@pytest.fixture
def get_config(monkeypatch):
  monkeypatch.setattr(config_lib, "validate", lambda c: c)
  return lambda module, arg: importlib.import_module(module).get_config(arg)


@pytest.mark.unit
@pytest.mark.parametrize("module", sorted(ACCEPTED))
def test_every_listed_argument_builds_its_config(module, get_config):
  choices, default = ACCEPTED[module]
  plain = get_config(module, "")
  assert get_config(module, None) == plain
  if choices:
    assert get_config(module, default) == plain
  for choice in choices or [None]:
    full = get_config(module, choice)
    smoke = get_config(module, f"{choice},smoke" if choice else "smoke")
    assert smoke.train.steps < full.train.steps, (module, choice)
  # Each choice changes the config (none is ignored).
  configs = [get_config(module, choice).to_json() for choice in choices]
  assert len(set(configs)) == len(choices)


@pytest.mark.unit
@pytest.mark.parametrize("module", sorted(ACCEPTED))
def test_any_other_argument_names_the_grammar(module, get_config):
  choices, default = ACCEPTED[module]
  first = choices[0] if choices else "smoke"
  wrong = ["nope", ",smoke", "smoke,smoke", " smoke", "SMOKE",
           f"smoke,{first}", f"{first},{first}", f"{first},smoke,x"]
  expected = (f",smoke or smoke, with {{}} one of: {', '.join(choices)} "
              f"(default {default})." if choices else
              "; expected '' or 'smoke'.")
  for arg in wrong:
    with pytest.raises(config_lib.ConfigError) as error:
      get_config(module, arg)
    message = str(error.value)
    assert message.startswith(f"Unknown config argument {arg!r}; expected")
    what = message.split("expected ")[1].split(",")[0]  # e.g. GEOMETRY
    assert message.endswith(expected.format(what)), (module, arg, message)


@pytest.mark.unit
@pytest.mark.parametrize("arg, parsed", [
    (None, ("d", False)), ("", ("d", False)), ("smoke", ("d", True)),
    ("a", ("a", False)), ("b,smoke", ("b", True))])
def test_parse_arg(arg, parsed):
  assert config_lib.parse_arg(arg, ("a", "b"), "d") == parsed
  assert config_lib.parse_arg(None) == (None, False)


@pytest.mark.unit
@pytest.mark.parametrize("module", ["experiments.faces_view2",
                                    "experiments.faces_teacher"])
def test_a_steps_override_carries_the_derived_intervals(module, get_config,
                                                       monkeypatch):
  """`--config.train.steps=1600` on a faces recipe: checkpoint and eval every
  1600 // 8 = 200 steps, warm-up 1600 // 30 = 53, as if STEPS were 1600 (the
  overrides are applied through config_flags, as facenet-train applies them)."""
  from absl import flags  # pylint: disable=import-outside-toplevel
  from ml_collections import config_flags  # pylint: disable=import-outside-toplevel
  del get_config  # its fixture stubs validation out (no shards in CI)
  path = importlib.import_module(module).__file__

  def parse(*overrides):
    argv = ["prog", f"--config={path}", *overrides]
    monkeypatch.setattr(sys, "argv", argv)  # config_flags reads sys.argv
    values = flags.FlagValues()
    config_flags.DEFINE_config_file("config", flag_values=values)
    values(argv)
    return values.config

  c = parse("--config.train.steps=1600")
  assert (c.train.steps, c.train.checkpoint_every, c.train.eval_every,
          c.optimizer.warmup_steps) == (1600, 200, 200, 53)
  assert '"checkpoint_every": 200' in c.to_json()  # the workdir's config.json
  # An explicit interval still wins over the derived one.
  c = parse("--config.train.steps=1600", "--config.train.eval_every=100")
  assert (c.train.eval_every, c.train.checkpoint_every) == (100, 200)


@pytest.mark.unit
def test_teacher_distill_sees_as_many_faces_in_smaller_batches(get_config):
  """faces_teacher `distill` trains on batches of 2 x 2 + 60 = 64 faces for
  2,400 x 288 / 64 = 10,800 steps: the faces `both` sees in 2,400 batches of
  288; its intervals follow (10,800 // 8 = 1,350, warm-up // 30 = 360)."""
  both = get_config("experiments.faces_teacher", "both")
  distill = get_config("experiments.faces_teacher", "distill")
  faces = lambda c: config_lib.global_batch(c) * c.train.steps
  assert (distill.data.p, distill.data.k, distill.data.r) == (2, 2, 60)
  assert faces(both) == faces(distill) == 2400 * 288
  assert (distill.train.steps, distill.train.checkpoint_every,
          distill.optimizer.warmup_steps) == (10800, 1350, 360)
