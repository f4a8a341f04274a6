"""Deployment formats beyond the SavedModel: LiteRT (.tflite) and ONNX.

`convert.to_litert` / `convert.to_onnx` turn a facenet_tf SavedModel into
one file with the export's metadata inside; `facenet_tf.export_loaders.load`
runs any of the three formats behind one interface.
"""
