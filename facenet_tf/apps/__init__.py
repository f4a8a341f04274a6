"""The command-line apps; importing them imports TensorFlow quietly."""
from facenet_tf.apps import quiet

quiet.import_tensorflow()
