"""Lab 8: LightGBM and XGBoost on KServe's runtimes, one V2 protocol for all.

Module map:

* ``runtimes``: facts about KServe v0.20.0's runtimes (files, library versions, ClusterServingRuntime
  formats, priorities, protocols, images) and the rule KServe uses to pick one;
* ``data``: the wine data set and its split;
* ``models``: train, save (refusing library versions the runtime cannot load), load like the runtime;
* ``predictors``: ``kserve.Model`` subclasses following the LightGBM/XGBoost runtimes' contracts;
* ``server_main`` / ``servers``: KServe's model server for one model on 127.0.0.1, one per framework;
* ``requests``: the named-feature V2 request, and what a runtime makes of a request;
* ``compare``: the comparison table and its plot;
* ``cluster``: the lab's InferenceServices with the uploaded model's URI.
"""
