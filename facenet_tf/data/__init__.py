"""tf.data input: record schema, P x K sampler, decode, augmentation, synthetic faces."""
