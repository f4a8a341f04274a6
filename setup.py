"""facenet_tf: FaceNet (Schroff et al., CVPR 2015) in TensorFlow 2 / Keras 3."""
import setuptools

DEPLOY = ["ai-edge-litert>=2.3,<3", "tf2onnx>=1.17,<2", "onnx>=1.17,<2",
          "onnxruntime>=1.20,<2"]
# facenet-eval --output_dir's ROC and distance plots (evaluation/plots.py).
EVAL = ["matplotlib>=3.8,<4"]
TFDS = ["tensorflow-datasets>=4.9.9,<5"]

setuptools.setup(
    name="facenet_tf",
    version="0.1.0",
    description="FaceNet embeddings and triplet training for TF 2 / Keras 3",
    python_requires=">=3.11",
    # The reference model (a SavedModel) ships inside the package.
    package_data={"facenet_tf.pretrained": ["*.json", "*.md", "*/*.pb",
                                            "*/*/*"]},
    include_package_data=True,
    packages=setuptools.find_packages(
        include=["facenet_tf", "facenet_tf.*", "data_pipelines",
                 "data_pipelines.*"]),
    install_requires=[
        # TF 2.21 ships Keras 3; tensorflow-addons is deliberately absent.
        "tensorflow>=2.21,<2.22",
        "absl-py>=2.1,<3",
        "numpy>=1.26,<3",
        "ml-collections>=1.0,<2",
        "mtcnn>=1.0,<1.1",
        # TF 2.21 no longer pulls it in; summaries' histogram and projector
        # plugins, and the UI to read the logs, come from it.
        "tensorboard>=2.20,<3",
        "tqdm>=4.60",  # progress bars of the evaluation apps
        "Pillow>=10",  # PGM/TIFF decoding (ORL), PNG re-encoding
        # The landmarks alignment's warp (warpAffine); headless: no GUI libs.
        "opencv-python-headless>=4.8,<6",
    ],
    entry_points={"console_scripts": [
        "facenet-train=facenet_tf.apps.train:run",
        "facenet-export=facenet_tf.apps.export:run",
        "facenet-eval=facenet_tf.apps.eval:run",
        "facenet-embed=facenet_tf.apps.embed:run",
        "facenet-compare=facenet_tf.apps.compare:run",
        "facenet-cluster=facenet_tf.apps.cluster:run",
        "facenet-recognize=facenet_tf.apps.recognize:run",
    ]},
    extras_require={
        "eval": EVAL,
        # facenet_tf/data/tfds_folder.py: an identity tree as a TFDS dataset.
        "tfds": TFDS,
        # align / build_tfrecords / facenet-embed --runner beam; 2.77 co-installs with TF 2.21 (it
        # needs protobuf < 7, TF accepts >= 6.31.1).
        "beam": ["apache-beam>=2.77,<3"],
        # The approximate nearest-neighbour index of large galleries
        # (facenet_tf/evaluation/ann_index.py): FAISS IVF-PQ, chosen over
        # ScaNN by bench_knn (and ScaNN 1.4.2 fails to import under TF 2.21).
        "index": ["faiss-cpu>=1.9,<2"],
        # facenet-export --format litert / onnx and their runtimes
        # (facenet_tf/deploy/): TF's own LiteRT converter, the ai-edge-litert
        # interpreter (tf.lite.Interpreter is deprecated), tf2onnx, ONNX Runtime.
        "deploy": DEPLOY,
        # The teacher of experiments/faces_teacher.py, for data preparation
        # only (data_pipelines/teacher_targets.py): dlib's public-domain
        # face-recognition ResNet and shape predictor; the model files ship in
        # face-recognition-models (nothing downloads). Never needed to train
        # or serve; the tests use stored targets.
        "teacher": ["dlib-bin>=20,<21", "face-recognition-models>=0.3,<0.4"],
        # pytest-xdist: pytest.ini runs the suite on every core (up to 4).
        # SciPy and scikit-learn are the tests' reference implementations
        # (clustering, ROC); the library itself does not import them.
        # import-linter: lint-imports keeps .importlinter's layers
        # (tests/test_import_layers.py).
        "test": ["pytest>=8,<10", "pytest-xdist>=3.5,<4", "apache-beam>=2.77,<3",
                 "faiss-cpu>=1.9,<2", "scikit-learn>=1.4,<2", "scipy>=1.11,<2",
                 "import-linter>=2.1,<3"]
                + EVAL + TFDS + DEPLOY,
    },
)
