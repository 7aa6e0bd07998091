"""Kubernetes' canonical form of resource quantities ("0.5" -> "500m", "1.5Gi" -> "1536Mi").

The API server stores quantities in canonical form. Rendering them the same way means the
live object holds exactly what we rendered, so comparing the two finds no difference and
an idle reconcile makes no write. Mirrors k8s.io/apimachinery resource.Quantity.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal
from fractions import Fraction

_BINARY = {"Ki": 1, "Mi": 2, "Gi": 3, "Ti": 4, "Pi": 5, "Ei": 6}
_DECIMAL = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
_DECIMAL_SUFFIX = {exponent: suffix for suffix, exponent in _DECIMAL.items()}
_BINARY_SUFFIX = {power: suffix for suffix, power in _BINARY.items()}
_SYNTAX = re.compile(r"^([+-]?)([0-9]*)(?:\.([0-9]*))?(.*)$")
_MILLI = Fraction(1, 1000)


def canonical_quantity(text: str) -> str:
    """The string the API server stores for `text` in a container's resources.

    Two quirks of resource.Quantity are reproduced: a string already in a "canonical
    enough" shape is kept verbatim ("1.5e-2", "1Gi"), and resource lists are rounded up
    to milli-units ("3.3333" -> "3334m").
    """
    match = _SYNTAX.match(text.strip())
    if not match or not (match[2] or match[3]):
        raise ValueError(f"not a quantity: {text!r}")
    # Like resource.Quantity: leading zeros are dropped before anything else.
    sign, num, denom, suffix = match[1], match[2].lstrip("0") or "0", match[3] or "", match[4]
    if suffix in _BINARY:
        style, exponent = "binary", 10 * _BINARY[suffix]
    elif suffix in _DECIMAL:
        style, exponent = "decimal", _DECIMAL[suffix]
    elif re.fullmatch(r"[eE][+-]?[0-9]+", suffix):
        style, exponent = "exponent", int(suffix[1:])
    else:
        raise ValueError(f"not a quantity: {text!r}")
    if _kept_verbatim(style, num, denom, exponent):
        return text.strip()

    magnitude = Fraction(Decimal(f"{num}.{denom or 0}"))
    value = magnitude * (2**exponent if style == "binary" else Fraction(10) ** exponent)
    value = Fraction(math.ceil(value / _MILLI)) * _MILLI
    if sign == "-":
        value = -value
    if style == "binary" and (abs(value) < 1024 or value.denominator != 1):
        style = "decimal"  # small or fractional byte counts are written in decimal
    if value == 0:
        return "0"
    if style == "binary":
        power = max(p for p in range(7) if value % 1024**p == 0)
        return f"{int(value / 1024**power)}{_BINARY_SUFFIX.get(power, '')}"
    exponent = max(e for e in range(-9, 19, 3) if (value / Fraction(10) ** e).denominator == 1)
    mantissa = int(value / Fraction(10) ** exponent)
    if style == "exponent":
        return f"{mantissa}e{exponent}" if exponent else str(mantissa)
    return f"{mantissa}{_DECIMAL_SUFFIX[exponent]}"


def _kept_verbatim(style: str, num: str, denom: str, exponent: int) -> bool:
    """resource.ParseQuantity's fast path: when it keeps the input string as given."""
    if style == "binary":
        if denom or len(num) + int(exponent * 3 / 10) + 1 > 15:
            return False
        return exponent % 10 == 0 and int(num) & 0x07 != 0
    if len(num) + len(denom) > 18:
        return False
    scale = exponent - len(denom)
    shifted = num + denom
    # Only scales down to milli survive the rounding of resource lists unchanged.
    return scale >= -3 and scale % 3 == 0 and not shifted.endswith("000") and shifted[0] != "0"


def canonical_resources(resources: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
    """A container's `resources` with every quantity in canonical form."""
    return {
        group: {name: canonical_quantity(amount) for name, amount in amounts.items()}
        for group, amounts in resources.items()
    }
