"""The iris data set's names, and the input of KServe's own iris example.

Here, in the code the custom image ships, because the transformer labels its answers with them;
``training`` and the labs import them from here too.
"""

from __future__ import annotations

from .frozen import freeze

IRIS_CLASSES = ("setosa", "versicolor", "virginica")
IRIS_FEATURES = ("sepal length (cm)", "sepal width (cm)", "petal length (cm)", "petal width (cm)")
#: The input of KServe's iris example; the docs' answer is ``{"predictions": [1, 1]}``. Read-only
#: (``frozen``): an answer that changed it would change it for every later cell and check.
DOCS_IRIS_INPUT = freeze([[6.8, 2.8, 4.8, 1.4], [6.0, 3.4, 4.5, 1.6]])
