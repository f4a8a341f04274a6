"""Offline data tools: alignment, TFRecord conversion, protocol files."""
