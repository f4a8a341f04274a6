"""Training: the global-mining train step, strategies, optimisers, train_lib."""
