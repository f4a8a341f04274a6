"""Input: the image-file reader, record schema, P x K sampler, decode,
augmentation, evaluation input, synthetic faces."""
