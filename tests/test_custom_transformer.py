"""Lab 6's transformer in-process: the feature conversions and the kserve.Model's three handlers.

The predictor's failures are exercised with httpx's MockTransport standing in for the predictor's
HTTP answers (the real two-server chain is in test_custom_chain.py).
"""

from __future__ import annotations

import asyncio
import math

import httpx
import pytest
from kserve import (
    InferenceRESTClient,
    InferInput,
    InferOutput,
    InferRequest,
    InferResponse,
    PredictorConfig,
    RESTConfig,
)
from kserve import context as kserve_context
from kserve.errors import InferenceError, InvalidInput

from kserve_workshop.runtime import features
from kserve_workshop.runtime.features import DOCS_FLOWERS, FEATURE_NAMES, FeatureError
from kserve_workshop.runtime.transformer import IrisTransformer, predictions_of
from kserve_workshop.training import DOCS_IRIS_INPUT, IRIS_CLASSES

FLOWER = dict(DOCS_FLOWERS[0])


def run(coroutine):
    return asyncio.run(coroutine)


# ----------------------------------------------------------------------------- feature_rows


def test_feature_rows_orders_columns_like_the_model_whatever_the_key_order():
    shuffled = [{name: flower[name] for name in reversed(FEATURE_NAMES)} for flower in DOCS_FLOWERS]
    assert features.feature_rows(shuffled) == DOCS_IRIS_INPUT
    assert features.feature_rows([{"sepal_length": 5, "sepal_width": 3, "petal_length": 1, "petal_width": 0}]) == [
        [5.0, 3.0, 1.0, 0.0]
    ]


def test_named_flowers_and_feature_rows_are_inverse():
    assert features.named_flowers(DOCS_IRIS_INPUT) == DOCS_FLOWERS
    assert features.feature_rows(features.named_flowers(DOCS_IRIS_INPUT)) == DOCS_IRIS_INPUT
    with pytest.raises(FeatureError, match="4 numbers"):
        features.named_flowers([[1.0, 2.0]])


@pytest.mark.parametrize(
    "instances, message",
    [
        ([], "non-empty list"),
        ({"sepal_length": 1.0}, "non-empty list"),
        ([[6.8, 2.8, 4.8, 1.4]], "flower 0 is a list, not a dict"),
        (
            [FLOWER, {**FLOWER, "sepal_lenght": 6.8}],
            "flower 1 has unknown feature 'sepal_lenght' \\(did you mean 'sepal_length'\\?\\)",
        ),
        ([{k: v for k, v in FLOWER.items() if k != "petal_width"}], "flower 0 is missing petal_width"),
        ([{**FLOWER, "petal_width": "1.4"}], "petal_width must be a number \\(in cm\\), got str '1.4'"),
        ([{**FLOWER, "sepal_width": True}], "sepal_width must be a number"),
        ([{**FLOWER, "sepal_width": None}], "sepal_width must be a number"),
        ([{**FLOWER, "petal_length": math.nan}], "petal_length must be a finite number"),
    ],
)
def test_feature_rows_rejects_bad_flowers_naming_the_problem(instances, message):
    with pytest.raises(FeatureError, match=message):
        features.feature_rows(instances)


def test_feature_error_is_a_value_error():
    assert issubclass(FeatureError, ValueError)


def test_flowers_from_v1_needs_instances():
    assert features.flowers_from_v1({"instances": DOCS_FLOWERS}) == DOCS_FLOWERS
    with pytest.raises(FeatureError, match=r"found \['inputs'\]"):
        features.flowers_from_v1({"inputs": []})
    with pytest.raises(FeatureError, match="V1 request"):
        features.flowers_from_v1([FLOWER])


# ------------------------------------------------------------------------------- V2 columns


def column(name, data, shape=None, datatype="FP32"):
    return {"name": name, "shape": shape or [len(data)], "datatype": datatype, "data": data}


def test_flowers_from_v2_zips_one_tensor_per_feature():
    body = features.v2_request(DOCS_FLOWERS)
    assert [tensor["name"] for tensor in body["inputs"]] == list(FEATURE_NAMES)
    assert features.flowers_from_v2(body["inputs"]) == DOCS_FLOWERS
    # [n, 1] columns with nested data are the same thing
    nested = [column(t["name"], [[v] for v in t["data"]], [2, 1], "FP64") for t in body["inputs"]]
    assert features.flowers_from_v2(nested) == DOCS_FLOWERS


@pytest.mark.parametrize(
    "inputs, message",
    [
        ([], "no inputs"),
        ([column("sepal_length", ["a"], datatype="BYTES")], "datatype BYTES; features are numbers"),
        ([column("sepal_length", [1.0, 2.0], [2, 4])], r"shape \[2, 4\]; each feature is one column"),
        ([column("sepal_length", [1.0, 2.0], [3])], r"shape \[3\] needs 3 values, data has 2"),
        ([column("sepal_length", [1.0]), column("sepal_width", [1.0, 2.0])], "same number of flowers"),
        ([column("sepal_length", [1.0]), column("sepal_length", [2.0])], "appears twice"),
    ],
)
def test_flowers_from_v2_rejects_malformed_tensors(inputs, message):
    with pytest.raises(FeatureError, match=message):
        features.flowers_from_v2(inputs)


def test_v1_request_copies_the_flowers():
    body = features.v1_request(DOCS_FLOWERS)
    body["instances"][0]["sepal_length"] = 0
    assert DOCS_FLOWERS[0]["sepal_length"] == 6.8


# ------------------------------------------------------------------------------- labels


def test_class_labels_maps_indices_to_names():
    assert features.class_labels([1, 1]) == ["versicolor", "versicolor"]
    assert features.class_labels([0, 2.0, 1]) == ["setosa", "virginica", "versicolor"]
    assert features.class_labels([]) == []
    assert tuple(features.CLASS_NAMES) == IRIS_CLASSES


@pytest.mark.parametrize(
    "predictions, message",
    [
        ([-1], "class -1, but the model has classes 0..2"),  # IRIS_CLASSES[-1] would say 'virginica'
        ([3], "class 3"),
        ([1.5], "not a class index"),
        (["1"], "not a class index"),
        ([True], "not a class index"),
    ],
)
def test_class_labels_rejects_what_is_not_a_class(predictions, message):
    with pytest.raises(FeatureError, match=message):
        features.class_labels(predictions)


def test_class_indices_turns_probabilities_into_the_likeliest_class():
    assert features.class_indices([[0.1, 0.7, 0.2], [0.9, 0.05, 0.05], 2]) == [1, 0, 2]


# ------------------------------------------------------------------------------- preprocess


def test_preprocess_v1_for_a_v1_predictor():
    model = IrisTransformer("iris", predictor_protocol="v1")
    assert run(model.preprocess({"instances": DOCS_FLOWERS})) == {"instances": DOCS_IRIS_INPUT}


def test_preprocess_v2_request_for_a_v2_predictor():
    model = IrisTransformer("iris", predictor_protocol="v2")
    inputs = [
        InferInput(t["name"], t["shape"], t["datatype"], t["data"]) for t in features.v2_request(DOCS_FLOWERS)["inputs"]
    ]
    request = run(model.preprocess(InferRequest("iris", inputs, request_id="req-1")))
    assert isinstance(request, InferRequest)
    assert (request.model_name, request.id) == ("iris", "req-1")
    (tensor,) = request.inputs
    assert (tensor.name, tensor.shape, tensor.datatype) == ("input-0", [2, 4], "FP32")
    assert tensor.data == [value for row in DOCS_IRIS_INPUT for value in row]


@pytest.mark.parametrize(
    "payload, message",
    [
        ({"instances": [{**FLOWER, "colour": "blue"}]}, "unknown feature 'colour'"),
        ({"instances": [[6.8, 2.8, 4.8, 1.4]]}, "not a dict of named features"),
        ({"data": []}, "a V1 request is"),
    ],
)
def test_preprocess_turns_bad_payloads_into_invalid_input(payload, message):
    with pytest.raises(InvalidInput, match=message):  # KServe answers InvalidInput with HTTP 400
        run(IrisTransformer("iris").preprocess(payload))


def test_preprocess_uses_the_given_conversion_and_its_value_errors():
    def fussy(flowers):
        raise ValueError("fussy says no")

    model = IrisTransformer("iris", to_rows=fussy)
    with pytest.raises(InvalidInput, match="fussy says no"):
        run(model.preprocess({"instances": DOCS_FLOWERS}))
    doubled = IrisTransformer("iris", to_rows=lambda flowers: [[2.0] * 4 for _ in flowers])
    assert run(doubled.preprocess({"instances": DOCS_FLOWERS})) == {"instances": [[2.0] * 4] * 2}


def test_predictor_protocol_is_checked():
    with pytest.raises(ValueError, match="predictor_protocol"):
        IrisTransformer("iris", predictor_protocol="grpc-v2")


# ------------------------------------------------------------------------------- postprocess


def v2_answer(data, shape=None, datatype="INT64"):
    return InferResponse("r", "iris", [InferOutput("output-0", shape or [len(data)], datatype, data)])


def test_postprocess_answers_like_the_predictor_when_called_alone():
    model = IrisTransformer("iris")
    assert run(model.postprocess({"predictions": [1, 1]})) == {"predictions": ["versicolor", "versicolor"]}
    answer = run(model.postprocess(v2_answer([0, 2])))
    assert isinstance(answer, InferResponse)
    (output,) = answer.outputs
    assert (output.name, output.shape, output.datatype, output.data) == ("label", [2], "BYTES", ["setosa", "virginica"])


def test_postprocess_labels_probability_answers():
    model = IrisTransformer("iris")
    answer = run(model.postprocess(v2_answer([0.1, 0.8, 0.1, 0.7, 0.2, 0.1], [2, 3], "FP32")))
    assert answer.outputs[0].data == ["versicolor", "setosa"]


def test_postprocess_rejects_an_answer_that_is_no_class():
    with pytest.raises(InferenceError, match="cannot be labelled: prediction 0 is class 7"):
        run(IrisTransformer("iris").postprocess({"predictions": [7]}))
    with pytest.raises(FeatureError, match="expected a V1 answer"):
        predictions_of({"something": 1})


def test_the_answer_follows_the_clients_protocol_not_the_predictors():
    model = IrisTransformer("iris", predictor_protocol="v2")

    async def v1_client_v2_predictor():
        request = await model.preprocess({"instances": DOCS_FLOWERS})
        assert isinstance(request, InferRequest)
        return await model.postprocess(v2_answer([1, 2]))

    assert run(v1_client_v2_predictor()) == {"predictions": ["versicolor", "virginica"]}


# ------------------------------------------------------------- the whole call, predictor mocked


def mock_predictor(handler, protocol="v1"):
    """An IrisTransformer whose HTTP client answers with ``handler`` (no network at all)."""
    model = IrisTransformer("iris")
    model._http_client_instance = InferenceRESTClient(
        RESTConfig(transport=httpx.MockTransport(handler), protocol=protocol)
    )
    return model


def configured(protocol):
    kserve_context.set_predictor_config(PredictorConfig("predictor.test", predictor_protocol=protocol))


def test_a_full_call_over_v1_and_v2_concurrently():
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        return httpx.Response(200, json={"predictions": [1, 2]})

    model = mock_predictor(handler)
    v2_inputs = [
        InferInput(t["name"], t["shape"], t["datatype"], t["data"]) for t in features.v2_request(DOCS_FLOWERS)["inputs"]
    ]

    async def both():
        configured("v1")
        return await asyncio.gather(
            model({"instances": DOCS_FLOWERS}, headers={}),
            model(InferRequest("iris", v2_inputs, request_id="x"), headers={}),
        )

    (v1_answer, _), (v2_response, _) = run(both())
    assert seen == ["/v1/models/iris:predict"] * 2
    assert v1_answer == {"predictions": ["versicolor", "virginica"]}
    assert isinstance(v2_response, InferResponse) and v2_response.id == "x"
    assert v2_response.outputs[0].data == ["versicolor", "virginica"]


@pytest.mark.parametrize(
    "status, error, message",
    [
        (400, InvalidInput, "the predictor rejected the request \\(HTTP 400\\): Expected 4 features"),
        (404, InferenceError, "does not serve a model named 'iris'"),
        (500, InferenceError, "failed with HTTP 500"),
    ],
)
def test_predictor_errors_are_explained(status, error, message):
    model = mock_predictor(lambda request: httpx.Response(status, json={"error": "Expected 4 features"}))

    async def call():
        configured("v1")
        return await model({"instances": DOCS_FLOWERS}, headers={})

    with pytest.raises(error, match=message):
        run(call())


def test_an_unreachable_predictor_is_named():
    def refuse(request):
        raise httpx.ConnectError("connection refused", request=request)

    model = mock_predictor(refuse)

    async def call():
        configured("v1")
        return await model({"instances": DOCS_FLOWERS}, headers={})

    with pytest.raises(InferenceError, match=r"cannot reach the predictor at http://predictor.test \(ConnectError"):
        run(call())
