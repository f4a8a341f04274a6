"""Face alignment shared by training data, evaluation, the photo API and exports."""
