"""The command-line apps. Importing one does not import TensorFlow: flags
parse first, and each app imports the library inside its main."""
