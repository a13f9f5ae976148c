"""The model store: finding, validating and loading models."""
