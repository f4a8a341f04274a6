"""facenet_tf: FaceNet (Schroff et al., CVPR 2015) in TensorFlow 2 / Keras 3."""
__version__ = "0.1.0"
