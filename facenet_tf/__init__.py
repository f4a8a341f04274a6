"""facenet_tf: FaceNet (Schroff et al., CVPR 2015) in TensorFlow 2 / Keras 3.

Importing facenet_tf does not import TensorFlow; when a module first does,
TensorFlow's start-up lines are hidden (quiet_import.py; undo with
`facenet_tf.quiet_import.uninstall()` before that).
"""
from facenet_tf import quiet_import

__version__ = "0.1.0"

quiet_import.install()
