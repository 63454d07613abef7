"""Kubernetes resource quantities, parsed so that sizes can be compared and summed.

The grammar is Kubernetes' own (apimachinery `resource.Quantity`); we accept the subset
users write in practice: a decimal number with an optional binary (Ki..Ei) or decimal
(n, u, m, k, M, G, T, P, E) suffix.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

_SUFFIX = {
    "Ki": Decimal(2) ** 10,
    "Mi": Decimal(2) ** 20,
    "Gi": Decimal(2) ** 30,
    "Ti": Decimal(2) ** 40,
    "Pi": Decimal(2) ** 50,
    "Ei": Decimal(2) ** 60,
    "n": Decimal("1e-9"),
    "u": Decimal("1e-6"),
    "m": Decimal("1e-3"),
    "": Decimal(1),
    "k": Decimal("1e3"),
    "M": Decimal("1e6"),
    "G": Decimal("1e9"),
    "T": Decimal("1e12"),
    "P": Decimal("1e15"),
    "E": Decimal("1e18"),
}
_QUANTITY = re.compile(r"^(?P<num>[0-9]+(\.[0-9]+)?|\.[0-9]+)(?P<suffix>Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?$")

GI = Decimal(2) ** 30
MI = Decimal(2) ** 20


def parse_quantity(text: object) -> Decimal | None:
    """Return the quantity in base units (cores or bytes), or None when `text` is not one."""
    if isinstance(text, bool):
        return None
    if isinstance(text, int | float):
        text = str(text)
    if not isinstance(text, str):
        return None
    match = _QUANTITY.match(text.strip())
    if not match:
        return None
    try:
        number = Decimal(match.group("num"))
    except InvalidOperation:  # pragma: no cover - the regex already guarantees a number
        return None
    return number * _SUFFIX[match.group("suffix") or ""]


def format_cpu(cores: Decimal) -> str:
    millis = int((cores * 1000).to_integral_value())
    return f"{millis // 1000}" if millis % 1000 == 0 else f"{millis}m"


def format_bytes(value: Decimal) -> str:
    for suffix, size in (("Ti", Decimal(2) ** 40), ("Gi", GI), ("Mi", MI), ("Ki", Decimal(1024))):
        if value >= size and value % size == 0:
            return f"{int(value / size)}{suffix}"
    return str(int(value))
