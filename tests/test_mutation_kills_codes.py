"""Kills the surviving mutants of the identifier check characters (docs/mutation.md, conformance/codes).

The check-character functions are public (``conformance.codes``): their ``ValueError`` tells the caller
what is wrong with the input — the length it got, or the character that is not in the alphabet. No
existing test looked at those messages, so mutants that blank them (``ValueError(None)``) or that raise
something else than ``ValueError`` survived.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from conformance.codes import org_check_char, uscc_check_char
from conformance.codes.citizen_id import citizen_check_char
from conformance.codes.elicense_id import mod37_36_check

LENGTH_CASES: list[tuple[str, Callable[[str], str], str, str]] = [
    # (name, function, input of the wrong length, words the message must carry)
    ("uscc", uscc_check_char, "9142010012345678", "17 characters, got 16"),
    ("org-code", org_check_char, "1234567", "8 characters, got 7"),
    ("citizen-id", citizen_check_char, "4201061990010112345", "17 digits, got 19"),
]


@pytest.mark.parametrize(("name", "func", "value", "words"), LENGTH_CASES, ids=[c[0] for c in LENGTH_CASES])
def test_a_wrong_length_is_named_in_the_error(name: str, func: Callable[[str], str], value: str, words: str) -> None:
    """校验码函数收到长度不对的输入时，ValueError 写明应有长度与实际长度。
    A wrong-length input raises ValueError naming the expected and the actual length.

    Kills ``uscc_check_char__mutmut_3``, ``org_check_char__mutmut_3``, ``citizen_check_char__mutmut_3``
    (``raise ValueError(None)``)."""
    with pytest.raises(ValueError) as info:
        func(value)
    assert words in str(info.value), f"{name}：错误信息未写明长度 / the error does not name the length: {info.value}"


CHARACTER_CASES: list[tuple[str, Callable[[str], str], str, str]] = [
    # (name, function, input with one character outside the alphabet, that character)
    ("uscc", uscc_check_char, "91420100MA4K2ABCI", "I"),  # GB 32100 leaves out I, O, S, V, Z
    ("org-code", org_check_char, "MA4K2AB!", "!"),
    ("citizen-id", citizen_check_char, "42010619900101A23", "A"),
    ("elicense-id", mod37_36_check, "ABC-123", "-"),
]


@pytest.mark.parametrize(("name", "func", "value", "bad"), CHARACTER_CASES, ids=[c[0] for c in CHARACTER_CASES])
def test_a_character_outside_the_alphabet_is_named_in_the_error(
    name: str, func: Callable[[str], str], value: str, bad: str
) -> None:
    """校验码函数遇到字符集以外的字符时抛出 ValueError（不是别的异常），并指出该字符。
    A character outside the alphabet raises ValueError (not another exception) that names the character.

    Kills ``uscc_check_char__mutmut_12``, ``org_check_char__mutmut_12``, ``citizen_check_char__mutmut_13``,
    ``mod37_36_check__mutmut_4`` (``raise ValueError(None)``) and ``org_check_char__mutmut_13``
    (``exc.args[1]``: an IndexError instead of the ValueError)."""
    with pytest.raises(ValueError) as info:
        func(value)
    assert repr(bad) in str(info.value), (
        f"{name}：错误信息未指出非法字符 / the error does not name the character: {info.value}"
    )
