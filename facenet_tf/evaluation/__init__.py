"""Evaluation: verification (LFW protocol), recognition, clustering."""
