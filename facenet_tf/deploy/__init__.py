"""Deployment formats beyond the SavedModel: LiteRT (.tflite) and ONNX.

`convert.to_litert` / `convert.to_onnx` turn a facenet_tf SavedModel into
one file with the export's metadata inside; `runtimes.load` runs any of the
three formats behind the SavedModel loader's interface.
"""
