"""Lab 6 answers as learners write them: the model file's functions, called by the check on good and bad
input, and its two kserve.Model classes, graded through KServe's model server (slow: each case
starts a server)."""

from __future__ import annotations

import numbers
import sys
from types import SimpleNamespace

import numpy as np
import pytest

from answer_cases import FAIL, PASS, Case, cases, grade, judge
from kserve_workshop.custom.chain import ServerChain
from kserve_workshop.custom.model_file import ModelFileServer, load_model_file
from kserve_workshop.labkit import check_guard
from kserve_workshop.processes import LocalModelServer
from kserve_workshop.runtime.features import DOCS_FLOWERS, FEATURE_NAMES
from kserve_workshop.training import IRIS_CLASSES, save_model, train_iris
from support.lab6_files import write_model_file

SLOW_FIXTURES = {"reference_predictor", "lab_model"}


def functions(**given):
    """What the notebook's ``iris_model`` offers the function checks: the file's functions."""
    return {"iris_model": SimpleNamespace(**given)}


# -- Exercise 1: named features to rows ----------------------------------------------------------


def rows_reference(flowers):
    rows = []
    for flower in flowers:
        if not isinstance(flower, dict):
            raise ValueError(f"a flower is a dict of {FEATURE_NAMES}")
        unknown = set(flower) - set(FEATURE_NAMES)
        if unknown:
            raise ValueError(f"unknown feature(s) {sorted(unknown)}")
        missing = [name for name in FEATURE_NAMES if name not in flower]
        if missing:
            raise ValueError(f"missing {missing}")
        for name in FEATURE_NAMES:
            if isinstance(flower[name], bool) or not isinstance(flower[name], (int, float)):
                raise ValueError(f"{name} must be a number")
        rows.append([float(flower[name]) for name in FEATURE_NAMES])
    return rows


def rows_exact_type(flowers):
    """Tests the type exactly: refuses np.float64, which is a float (and a number) all the same."""
    for flower in flowers:
        if not isinstance(flower, dict) or set(flower) != set(FEATURE_NAMES):
            raise ValueError(f"expected exactly {FEATURE_NAMES}, got {flower!r}")
        for name in FEATURE_NAMES:
            if type(flower[name]) not in (int, float):
                raise ValueError(f"{name} is not a number")
    return [[float(flower[name]) for name in FEATURE_NAMES] for flower in flowers]


def rows_generator(flowers):
    return (row for row in rows_reference(flowers))


def rows_numpy(flowers):
    for flower in flowers:
        if not isinstance(flower, dict) or sorted(flower) != sorted(FEATURE_NAMES):
            extra = sorted(set(flower) ^ set(FEATURE_NAMES)) if isinstance(flower, dict) else flower
            raise ValueError(f"expected exactly {FEATURE_NAMES}, differences: {extra}")
        bad = [
            name
            for name in FEATURE_NAMES
            if isinstance(flower[name], bool) or not isinstance(flower[name], numbers.Real)
        ]
        if bad:
            raise ValueError(f"not numbers: {bad}")
    return np.array([[flower[name] for name in FEATURE_NAMES] for flower in flowers], dtype=float)


def rows_tuples(flowers):
    return [tuple(float(v) for v in row) for row in rows_reference(flowers)]


def rows_unchecked(flowers):
    return [[flower[name] for name in FEATURE_NAMES] for flower in flowers]


def rows_float_converting(flowers):
    checked = []
    for flower in flowers:
        if set(flower) != set(FEATURE_NAMES):
            raise ValueError(f"expected {FEATURE_NAMES}, got {sorted(flower)} ({set(flower) ^ set(FEATURE_NAMES)})")
        checked.append([float(flower[name]) for name in FEATURE_NAMES])  # float("6.8") and float(True) pass
    return checked


def rows_in_dict_order(flowers):
    rows_reference(flowers)
    return [list(map(float, flower.values())) for flower in flowers]


def rows_generic_exception(flowers):
    for flower in flowers:
        if set(flower) != set(FEATURE_NAMES):
            raise Exception("bad flower")
    return rows_reference(flowers)


def rows_mutating(flowers):
    """Wrong (pops keys out of the caller's dicts); it must not spoil the check's own inputs."""
    rows = []
    for flower in flowers:
        rows.append([float(flower.pop(name)) for name in FEATURE_NAMES])
    return rows


@pytest.mark.parametrize(
    "case",
    cases(
        Case("reference", functions(to_feature_rows=rows_reference), PASS),
        Case("numpy-array", functions(to_feature_rows=rows_numpy), PASS),
        Case("tuples", functions(to_feature_rows=rows_tuples), PASS),
        Case("no-checks", functions(to_feature_rows=rows_unchecked), FAIL, "500 Internal Server Error"),
        Case("float-converts-text", functions(to_feature_rows=rows_float_converting), FAIL, "even when float() would"),
        Case("dict-order", functions(to_feature_rows=rows_in_dict_order), FAIL, "FEATURE_NAMES order"),
        Case("generic-exception", functions(to_feature_rows=rows_generic_exception), FAIL, "500"),
        Case("mutating", functions(to_feature_rows=rows_mutating), FAIL, None),
        Case("not-a-function", functions(to_feature_rows=[[6.8, 2.8, 4.8, 1.4]]), FAIL, "def to_feature_rows"),
        Case("exact-type-test", functions(to_feature_rows=rows_exact_type), FAIL, "np.float64 is a float"),
        Case("a-generator", functions(to_feature_rows=rows_generator), FAIL, "wrap it in list(...)"),
    ),
)
def test_to_feature_rows(case):
    judge("lab6.to_feature_rows", case)


def test_an_earlier_wrong_attempt_does_not_spoil_a_later_right_one():
    # The case: the check handed its own lists to the learner's function, which changed them.
    for function in (rows_mutating, lambda flowers: flowers.clear(), rows_unchecked):
        grade("lab6.to_feature_rows", functions(to_feature_rows=function))
    assert grade("lab6.to_feature_rows", functions(to_feature_rows=rows_reference)).passed
    assert DOCS_FLOWERS[0]["sepal_length"] == 6.8 and len(DOCS_FLOWERS) == 2


# -- Exercise 2: class indices to names ----------------------------------------------------------


def labels_reference(predictions):
    labels = []
    for index in predictions:
        if index not in range(len(IRIS_CLASSES)):
            raise ValueError(f"{index!r} is not a class index")
        labels.append(IRIS_CLASSES[int(index)])
    return labels


def labels_bounds(predictions):
    if any(not 0 <= p < len(IRIS_CLASSES) for p in predictions):
        raise ValueError("class index out of range 0..2")
    return [IRIS_CLASSES[p] for p in predictions]


def labels_numpy(predictions):
    indices = np.asarray(predictions, dtype=int)
    if indices.size and (indices.min() < 0 or indices.max() >= len(IRIS_CLASSES)):
        raise ValueError(f"no class for {indices.tolist()}")
    return np.array(IRIS_CLASSES)[indices]


def labels_upper_bound_only(predictions):
    if any(p >= len(IRIS_CLASSES) for p in predictions):
        raise ValueError("no such class")
    return [IRIS_CLASSES[p] for p in predictions]


@pytest.mark.parametrize(
    "case",
    cases(
        Case("reference", functions(to_labels=labels_reference), PASS),
        Case("bounds", functions(to_labels=labels_bounds), PASS),
        Case("numpy", functions(to_labels=labels_numpy), PASS),
        Case(
            "no-check",
            functions(to_labels=lambda predictions: [IRIS_CLASSES[p] for p in predictions]),
            FAIL,
            "ValueError",
        ),
        Case("negative-accepted", functions(to_labels=labels_upper_bound_only), FAIL, "rather than guess"),
        Case("indices-back", functions(to_labels=lambda predictions: list(predictions)), FAIL, "class names"),
        Case(
            "key-error",
            functions(to_labels=lambda ps: [dict(enumerate(IRIS_CLASSES))[p] for p in ps]),
            FAIL,
            "ValueError",
        ),
    ),
)
def test_to_labels(case):
    judge("lab6.to_labels", case)


# -- Exercise 3: the transformer, through KServe's model server --------------------------------------


@pytest.fixture(scope="module")
def lab_model(tmp_path_factory):
    """The iris model as the lab trains it (what a predictor with a fixed path would load)."""
    directory = tmp_path_factory.mktemp("lab6-model") / "model"
    save_model(train_iris(), directory)
    return directory


@pytest.fixture(scope="module")
def reference_predictor(lab_model):
    """KServe's model server with the workshop's sklearn predictor: what the learner's transformer calls."""
    with LocalModelServer(lab_model, "iris-transformer") as server:
        yield server


TRANSFORMER_BY_HAND = """
import kserve
from kserve.errors import InvalidInput

NAMES = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
CLASSES = {0: "setosa", 1: "versicolor", 2: "virginica"}


class IrisTransformer(kserve.Model):
    def __init__(self, name):
        super().__init__(name)
        self.ready = True

    async def preprocess(self, payload, headers=None):
        flowers = payload.get("instances") if isinstance(payload, dict) else None
        if not isinstance(flowers, list):
            raise InvalidInput("send {'instances': [flower, ...]}")
        rows = []
        for flower in flowers:
            if not isinstance(flower, dict) or sorted(flower) != sorted(NAMES):
                raise InvalidInput(f"a flower has exactly {NAMES}; this one: {flower}")
            bad = [n for n in NAMES if type(flower[n]) not in (int, float)]
            if bad:
                raise InvalidInput(f"not numbers: {bad}")
            rows.append([flower[n] for n in NAMES])
        return {"instances": rows}

    async def postprocess(self, response, headers=None):
        return {"predictions": [CLASSES[p] for p in response["predictions"]]}
"""


@pytest.fixture
def started():
    """Servers a case starts, stopped when the test ends."""
    servers = []
    yield servers
    for server in servers:
        server.stop()


def transformer_case(replacements=None, source=None):
    """The case's answers: a chain of the reference predictor and the variant's transformer."""

    def answers(reference_predictor, tmp_path, started):
        path = write_model_file(tmp_path, replacements, source=source)
        transformer = ModelFileServer(
            path,
            "IrisTransformer",
            reference_predictor.model_name,
            predictor=reference_predictor,
            name="answer-IrisTransformer",
        )
        started.append(transformer)
        return {"chain": ServerChain(reference_predictor, transformer.start())}

    return answers


@pytest.mark.parametrize(
    "case",
    cases(
        Case("reference", transformer_case(), PASS, "refused with a 400"),
        Case("by-hand-async", transformer_case(source=TRANSFORMER_BY_HAND), PASS),
        Case(
            "valueerror-let-through",
            transformer_case(
                {
                    '        try:\n            rows = to_feature_rows(payload["instances"])\n'
                    "        except ValueError as error:\n            raise InvalidInput(str(error)) from None\n": '        rows = to_feature_rows(payload["instances"])\n'
                }
            ),
            FAIL,
            "InvalidInput(str(error))",
        ),
        Case(
            "indices-not-names",
            transformer_case({'return {"predictions": to_labels(response["predictions"])}': "return response"}),
            FAIL,
            "postprocess turns the predictor's class indices into names",
        ),
        Case(
            "no-instances-check",
            transformer_case(
                {
                    '        if not isinstance(payload, dict) or "instances" not in payload:\n'
                    '            raise InvalidInput(\'expected a V1 request {"instances": [{"sepal_length": ..., ...}, ...]}\')\n': ""
                }
            ),
            FAIL,
            "check the body has 'instances'",
        ),
        Case(
            "rows-without-instances",
            transformer_case({'        return {"instances": rows}\n': "        return rows\n"}),
            FAIL,
            None,
        ),
        Case(
            "silent-message",
            transformer_case(
                {"raise InvalidInput(str(error)) from None": "raise InvalidInput('bad request') from None"}
            ),
            FAIL,
            "name the feature",
        ),
    ),
)
def test_transformer(case, reference_predictor, tmp_path, started):
    result = judge(
        "lab6.transformer", case, reference_predictor=reference_predictor, tmp_path=tmp_path, started=started
    )
    assert result.error is None


def test_a_transformer_running_an_older_file_is_not_graded(reference_predictor, tmp_path, started):
    answers = transformer_case()(reference_predictor, tmp_path, started)
    assert grade("lab6.transformer", answers).passed
    path = answers["chain"].transformer.model_file
    path.write_text(path.read_text().replace("raise InvalidInput(str(error))", "raise error"))
    result = grade("lab6.transformer", answers)
    assert not result.passed and "runs an older iris_model.py" in result.message
    assert "run the cell that starts the chain again" in result.hint
    answers["chain"].transformer.stop()
    result = grade("lab6.transformer", answers)
    assert not result.passed and "not running" in result.message


@pytest.mark.parametrize(
    "answer, says",
    [
        (None, "is not your transformer"),
        (SimpleNamespace(transformer="http://127.0.0.1:1", predictor=None), "is not your transformer"),
    ],
)
def test_a_transformer_check_without_a_chain_fails(answer, says):
    result = grade("lab6.transformer", {"chain": answer})
    assert not result.passed and says in result.message and result.hint


# -- Exercise 4: the predictor, through KServe's model server ----------------------------------------

PREDICTOR_BY_HAND = """
import os

import joblib
import kserve
import numpy as np
from kserve.errors import InvalidInput
from kserve.utils.utils import get_predict_input, get_predict_response


class IrisPredictor(kserve.Model):
    def __init__(self, name, model_dir):
        super().__init__(name)
        self.model_dir = model_dir

    def load(self):
        self.model = joblib.load(os.path.join(self.model_dir, "model.joblib"))
        self.ready = True
        return self.ready

    def predict(self, payload, headers=None):
        try:
            result = self.model.predict(np.asarray(get_predict_input(payload), dtype=float))
        except ValueError as error:  # scikit-learn's own message: wrong number of features, not numbers
            raise InvalidInput(str(error))
        return get_predict_response(payload, result, self.name)
"""


def predictor_case(replacements=None, source=None):
    def answers(tmp_path, lab_model):
        changes = {old: new.replace("LAB_MODEL", str(lab_model)) for old, new in (replacements or {}).items()}
        return {"iris_model": load_model_file(write_model_file(tmp_path, changes, source=source))}

    return answers


@pytest.mark.parametrize(
    "case",
    cases(
        Case("reference", predictor_case(), PASS, "over V1 and V2"),
        Case("by-hand", predictor_case(source=PREDICTOR_BY_HAND), PASS),
        Case(
            "fixed-path",
            predictor_case(
                {'files = sorted(self.model_dir.glob("*.joblib"))': 'files = [Path("LAB_MODEL") / "model.joblib"]'}
            ),
            FAIL,
            "not a fixed path",
        ),
        Case(
            "never-ready",
            predictor_case(
                {
                    "        self.ready = True\n        # END SOLUTION\n        return self.ready": "        # END SOLUTION\n        return self.ready"
                }
            ),
            FAIL,
            "self.ready to be True",
        ),
        Case(
            "no-input-checks",
            predictor_case(
                {
                    '        if getattr(rows, "ndim", 0) != 2 or rows.shape[1] != len(FEATURE_NAMES):\n': "        if False:\n",
                    '        if rows.dtype.kind not in "biuf":\n': "        if False:\n",
                }
            ),
            FAIL,
            "raise InvalidInput(...)",
        ),
        Case(
            "v1-only-answer",
            predictor_case(
                {
                    "return get_predict_response(payload, self.model.predict(rows), self.name)": 'return {"predictions": self.model.predict(rows).tolist()}'
                }
            ),
            FAIL,
            "get_predict_response(payload, result, self.name)",
        ),
        Case(
            "wrong-file-type",
            predictor_case({'glob("*.joblib")': 'glob("*.pkl")'}),
            FAIL,
            "IrisPredictor(name, model_dir)",
            where="hint",
        ),
    ),
)
def test_predictor(case, tmp_path, lab_model):
    judge("lab6.predictor", case, tmp_path=tmp_path, lab_model=lab_model)


def test_a_predictor_that_does_not_start_says_why(tmp_path, lab_model):
    result = grade("lab6.predictor", predictor_case({'glob("*.joblib")': 'glob("*.pkl")'})(tmp_path, lab_model))
    assert not result.passed and "did not start" in result.message
    assert "IrisPredictor.load() raised RuntimeError: expected one .joblib file" in result.found


# -- what a check survives -------------------------------------------------------------------------


def test_learner_code_that_exits_interrupts_or_never_returns_is_a_verdict(monkeypatch):
    monkeypatch.setattr(check_guard, "CHECK_TIME_LIMIT", 1.0)

    def forever(flowers):
        while True:
            pass

    for function, error in [
        (lambda flowers: sys.exit(1), "SystemExit"),
        (lambda flowers: exit(), "SystemExit"),
        (lambda flowers: (_ for _ in ()).throw(KeyboardInterrupt), "KeyboardInterrupt"),
        (forever, "Timeout"),
    ]:
        result = grade("lab6.to_feature_rows", functions(to_feature_rows=function))
        assert not result.passed and result.error == error, result.text()
        assert result.hint


def test_a_transformer_in_front_of_an_unfinished_predictor_points_at_the_predictor(lab_model, tmp_path, started):
    # The notebook's chain runs the learner's own predictor; one that does not answer class indices yet
    # is not the transformer's fault, and the check says where to look.
    path = write_model_file(
        tmp_path,
        {
            "return get_predict_response(payload, self.model.predict(rows), self.name)": "return get_predict_response(payload, self.model.predict_proba(rows), "
            "self.name)"
        },
    )
    predictor = ModelFileServer(path, "IrisPredictor", "iris", model_dir=lab_model, name="answer-IrisPredictor")
    transformer = ModelFileServer(path, "IrisTransformer", "iris", predictor=predictor, name="answer-IrisTransformer")
    started.extend([transformer, predictor])
    result = grade("lab6.transformer", {"chain": ServerChain(predictor.start(), transformer.start())})
    assert not result.passed and "does not answer class indices" in result.message
    assert "lab6.predictor" in result.hint


def test_the_predictor_checks_bad_rows_are_refused_by_the_workshops_own_predictor(reference_predictor):
    from kserve_workshop.custom.chain import post
    from kserve_workshop.labkit.checks.lab6_serving import BAD_ROWS

    for what, body in BAD_ROWS:
        assert post(reference_predictor.url, reference_predictor.model_name, body).status_code == 400, what
