"""Export a store model as an ONNX Runtime GenAI folder (Android, and any ORT GenAI runtime), checked by running it."""
