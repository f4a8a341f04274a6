"""facenet_tf: FaceNet (Schroff et al., CVPR 2015) in TensorFlow 2 / Keras 3."""
import setuptools

EVAL = ["scikit-learn>=1.4,<2", "matplotlib>=3.8,<4"]

setuptools.setup(
    name="facenet_tf",
    version="0.1.0",
    description="FaceNet embeddings and triplet training for TF 2 / Keras 3",
    python_requires=">=3.11",
    packages=setuptools.find_packages(
        include=["facenet_tf", "facenet_tf.*", "data_pipelines",
                 "data_pipelines.*"]),
    install_requires=[
        # TF 2.21 ships Keras 3; tensorflow-addons is deliberately absent.
        "tensorflow>=2.21,<2.22",
        "tensorflow-datasets>=4.9.9,<5",
        "absl-py>=2.1,<3",
        "numpy>=1.26,<3",
        "ml-collections>=1.0,<2",
        "mtcnn>=1.0,<1.1",
    ],
    extras_require={
        "eval": EVAL,
        "test": ["pytest>=8,<10"] + EVAL,
    },
)
