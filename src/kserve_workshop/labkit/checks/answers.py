"""Reading learners' answers the same way in every lab: numbers, whole numbers, lists of classes.

Right answers come in many types: ``np.float32`` from numpy maths, ``np.int64`` from a prediction,
``np.ceil(...)`` (a float), a ``Fraction``, a numpy array where a list is asked for, a value rounded
the way a person rounds. These helpers accept all of them, refuse what only looks like a number
(``"0.95"``, ``True``), and raise ``CheckFailed`` naming the variable and what it should be.
"""

from __future__ import annotations

import decimal
import math
import numbers
from typing import Any

from ..grading import CheckFailed, quoted

#: Answers rounded to fewer decimals than this are too coarse to tell right from wrong.
MIN_DECIMALS = 2
#: Differences smaller than this are float noise (float32 keeps about 7 significant digits).
FLOAT_NOISE = 1e-6


def _scalar(value: Any) -> Any:
    """A 0-d numpy array or a one-element numpy value as its Python scalar; other values unchanged."""
    if hasattr(value, "ndim") and getattr(value, "ndim", None) == 0 and hasattr(value, "item"):
        try:
            return value.item()
        except Exception:  # noqa: BLE001 - an odd object: leave it to the type checks
            return value
    return value


def is_real(value: Any) -> bool:
    """A real number: int, float, numpy number, Fraction or Decimal; not a bool, not text."""
    value = _scalar(value)
    if isinstance(value, bool) or type(value).__name__ == "bool_":
        return False
    return isinstance(value, (numbers.Real, decimal.Decimal))


def real_number(value: Any, variable: str, *, expected: Any = "a number", hint: str | None = None) -> float:
    """``value`` as a finite float, or CheckFailed saying that `variable` must be a number."""
    if not is_real(value):
        if isinstance(value, str):
            hint = f"{value!r} is text, not a number: drop the quotes (or convert it with float())"
        elif isinstance(value, bool) or type(value).__name__ == "bool_":
            hint = "True and False are not numbers here: compute the number itself"
        elif type(value).__name__ == "CapacityPoint":  # by name: the load package stays unimported here
            hint = f"that is a whole point of the sweep: take the one number asked for, e.g. {variable} = point.concurrency"
        elif isinstance(value, (list, tuple)) or getattr(value, "ndim", 0):
            hint = (
                "an empty list: nothing passed the condition you selected with (check the comparison)"
                if len(value) == 0
                else "a list, not one number: give the one number asked for"
            )
        raise CheckFailed(f"`{variable}` must be a number", expected=expected, found=quoted(value), hint=hint)
    number = float(_scalar(value))
    if not math.isfinite(number):
        raise CheckFailed(f"`{variable}` must be a finite number", expected=expected, found=quoted(value), hint=hint)
    return number


def whole_number(
    value: Any, variable: str, *, expected: Any = "a whole number, e.g. 8", hint: str | None = None
) -> int:
    """``value`` as an int: ints, numpy ints and whole floats (``np.ceil(...)``, ``8.0``) are fine."""
    number = real_number(value, variable, expected=expected, hint=hint)
    if not number.is_integer():
        raise CheckFailed(
            f"`{variable}` must be a whole number",
            expected=expected,
            found=quoted(value),
            hint=hint or "round it: math.ceil() rounds up, round() to the nearest, int() down",
        )
    return int(number)


def decimals_shown(value: float) -> int:
    """How many decimals a number was written with (``round(x, 3)`` -> 3; ``0.1 + 0.2`` -> 17)."""
    text = repr(float(value))
    if "e" in text or "E" in text:
        mantissa, _, exponent = text.lower().partition("e")
        digits = len(mantissa.partition(".")[2].rstrip("0"))
        return max(0, digits - int(exponent))
    return len(text.partition(".")[2].rstrip("0"))


def same_at_shown_precision(answer: float, exact: float, *, min_decimals: int = MIN_DECIMALS) -> bool:
    """True when ``answer`` is ``exact``, possibly rounded to ``min_decimals`` decimals or more.

    ``round(0.95555, 3)`` (0.956) matches 0.95555; 0.96 matches it too (two decimals), 1.0 does not
    (one decimal is too coarse: it would also match many wrong answers).
    """
    if abs(answer - exact) <= FLOAT_NOISE * max(1.0, abs(exact)):
        return True
    decimals = decimals_shown(answer)
    if decimals < min_decimals:
        return False
    return abs(answer - exact) <= 0.5 * 10**-decimals + FLOAT_NOISE


def distinct_figures(expected: float, found: float, *, digits: int = 4) -> tuple[str, str]:
    """Both numbers with enough significant digits to tell them apart (never "0.0233" and "0.0233")."""
    for precision in range(digits, 18):
        left, right = f"{expected:.{precision}g}", f"{found:.{precision}g}"
        if left != right:
            return left, right
    return repr(expected), repr(found)


def class_indices(value: Any, variable: str, *, expected: Any = "a list of class indices, e.g. [1, 1]") -> list[int]:
    """A list (or tuple, or numpy array) of class indices as ints; whole floats like 1.0 are accepted.

    (A class index written as ``1.0`` names the same class as ``1``: the model server's JSON answer
    holds integers, but ``1.0 == 1`` in Python and in a JSON comparison, so it is not a mistake.)
    """
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):
        try:
            value = value.tolist()
        except Exception:  # noqa: BLE001
            pass
    if not isinstance(value, (list, tuple)):
        raise CheckFailed(
            f"`{variable}` must be a list",
            expected=expected,
            found=quoted(value),
            hint="a list of predictions, one per flower",
        )
    if value and all(isinstance(item, str) for item in value):
        raise CheckFailed(
            f"`{variable}` holds class names",
            expected=expected,
            found=quoted(value),
            hint="the server answers class indices (0, 1, 2): compare indices with indices",
        )
    indices = []
    for item in value:
        if not is_real(item) or not float(_scalar(item)).is_integer():
            raise CheckFailed(
                f"`{variable}` must hold class indices (whole numbers)",
                expected=expected,
                found=quoted(value),
                hint="use model.predict (class indices), not predict_proba (probabilities)",
            )
        indices.append(int(float(_scalar(item))))
    return indices
