"""absl apps: parse flags, then call one library function."""
