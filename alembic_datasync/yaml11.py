"""What YAML 1.1 (PyYAML's dialect) makes of what is written, for both loaders and the messages.

YAML 1.1 reads some unquoted text as something else: ``NO`` as the boolean
false, ``1.10`` as the number 1.1, ``0755`` as the octal number 493, ``12:30``
as the base-60 number 750.  The loaders keep the text of such scalars
(`is_retyped_plain_scalar`), and the type checks explain what YAML made of it
(`yaml_reading`) and how to write what was meant.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Hashable
from typing import Any

from yaml.nodes import Node, ScalarNode

from .display import show

YAML_TAG = "tag:yaml.org,2002:"
MERGE_TAG = YAML_TAG + "merge"
STR_TAG = YAML_TAG + "str"
NULL_TAG = YAML_TAG + "null"


def is_retyped_plain_scalar(node: Node) -> bool:
    """True for an unquoted scalar YAML read as something other than a string or null."""
    # Plain style is None from PyYAML's own parser, "" from libyaml's.
    return isinstance(node, ScalarNode) and not node.style and node.tag not in (STR_TAG, NULL_TAG)


def mapping_key(key: Any) -> Hashable:
    """How a YAML mapping tells its keys apart: ``true`` and ``1`` are two keys, not one."""
    return ("bool", key) if isinstance(key, bool) else key


def yaml_reading(value: Any, text: str) -> str:
    """What YAML 1.1 made of an unquoted scalar: ``the boolean false``, ``the octal number 493``."""
    if isinstance(value, bool):
        return f"the boolean {show(value)}"
    if isinstance(value, int | float):
        return f"the {number_kind(value, text)} {show(value)}"
    if isinstance(value, dt.datetime):
        return f"the timestamp {show(value)}"
    if isinstance(value, dt.date):
        return f"the date {show(value)}"
    return show(value)


def number_kind(value: Any, text: str) -> str:
    """How YAML 1.1 read a number: ``number``, ``octal number``, ``base-60 number``..."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return ""
    digits = text.replace("_", "").lstrip("+-").lower()
    if ":" in digits:
        return "base-60 number"
    if digits.startswith("0x"):
        return "hexadecimal number"
    if digits.startswith("0b"):
        return "binary number"
    if isinstance(value, int) and len(digits) > 1 and digits.startswith("0"):
        return "octal number"
    return "number"


def misread_number(value: Any, text: str) -> str | None:
    """The way out when YAML read a number that fits but was hardly meant; else None.

    YAML 1.2 and most people read 0755 as 755, and nobody writes base 60 on
    purpose: a time or a ratio was meant.
    """
    kind = number_kind(value, text)
    if kind == "octal number":
        decimal_reading = int(text.replace("_", ""), 10)
        if decimal_reading != value:
            return f"{decimal_reading} for the decimal number"
    if kind == "base-60 number":
        return f'quote it if it is text: "{text}"'
    return None


def surprising(value: Any, text: str) -> bool:
    """True when YAML read ``text`` as something a reader would not guess (on, 0755, 12:30)."""
    if isinstance(value, bool):
        return text.lower() not in ("true", "false")
    return not yaml_reading(value, text).startswith("the number ")
