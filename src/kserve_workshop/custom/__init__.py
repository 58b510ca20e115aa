"""Lab 6 on this machine: the custom transformer and the iris predictor as two local KServe servers.

- ``chain``: ``LocalTransformer``, ``LocalChain`` (transformer + predictor, started and stopped
  together) and a client for the chain, local or behind the ingress.

The transformer itself (``IrisTransformer``, its features and its entry point) runs in a pod too,
so it lives in ``kserve_workshop.runtime``.
"""
