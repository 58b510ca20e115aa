"""Lab 6: a custom transformer written as a ``kserve.Model``, served by KServe's own server.

- ``features``: named iris features -> model rows, class indices -> names (pure, no kserve import);
- ``transformer``: ``IrisTransformer``, the ``kserve.Model`` with preprocess / postprocess;
- ``server_main``: its subprocess and container entry point;
- ``chain``: transformer + predictor as two local KServe servers, and a client for the chain.

Submodules are imported on use: ``transformer`` imports kserve (seconds, and it parses sys.argv).
"""
