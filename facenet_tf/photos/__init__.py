"""Photos in, faces out: detection, alignment, embeddings, verification and
galleries over an exported model (see recognizer.py and gallery.py)."""
from facenet_tf.photos.gallery import Gallery
from facenet_tf.photos.gallery import GalleryError
from facenet_tf.photos.gallery import GalleryWarning
from facenet_tf.photos.gallery import Identification
from facenet_tf.data.reading import PhotoError
from facenet_tf.data.reading import read_photo
from facenet_tf.photos.recognizer import Face
from facenet_tf.photos.recognizer import FaceRecognizer
from facenet_tf.photos.recognizer import PhotoFaces
from facenet_tf.photos.recognizer import Verification

__all__ = ["Face", "FaceRecognizer", "Gallery", "GalleryError",
           "GalleryWarning", "Identification",
           "PhotoError", "PhotoFaces", "Verification", "read_photo"]
