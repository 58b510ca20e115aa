"""What runs in a pod: the workshop's KServe servers, and nothing they do not import.

The custom image (``docker/custom-model``) copies only this package (and Lab 6's model file), so a module here imports
only the standard library, kserve, scikit-learn (with their dependencies) and this package;
``tests/test_dockerfile.py`` fails otherwise. The same modules run the local servers on a laptop.

- ``errors``: ``WorkshopError`` (the library's one expected-failure type, shared with it);
- ``iris``: the iris class and feature names, the docs' example input;
- ``sklearn_model``: ``make_model``, a ``kserve.Model`` that serves one scikit-learn model file
  as KServe's sklearn runtime does, and ``find_model_file``;
- ``server``: what every workshop server process shares (loopback-only REST, no gRPC, quiet logs,
  exit with the parent);
- ``sklearn_server``: the predictor's entry point (``python -m kserve_workshop.runtime.sklearn_server``);
- ``model_file``: a learner's model file (Lab 6's ``iris_model.py``) imported afresh, its
  ``kserve.Model`` classes found;
- ``model_file_server``: the entry point that serves one class of a model file (the image's);
- ``features``: named iris features -> model rows, class indices -> names (pure, no kserve import);
- ``transformer``: the workshop's reference ``IrisTransformer`` (V1 and V2 clients, either predictor
  protocol), which the checks and tests compare learners' transformers with, and its entry point
  ``transformer_server``.

Submodules are imported on use: kserve takes seconds to import and parses ``sys.argv`` when it does.
"""
