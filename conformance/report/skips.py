"""Why a check did not decide its clause: the two kinds of "did not run" a verdict must tell apart.

* :func:`untested` — the check *should* decide its clause but could not run here: the target lacks the
  data it needs (an empty data set, no case the platform knows), a means of testing (the workflow driver,
  a client per post, the simulators' control API) or a counterpart. The clause is then **未测** with this
  reason and what would make it testable (``provide``), never 符合. A plain ``pytest.skip`` counts the same.
* :func:`vacuous` — the contract itself leaves nothing to check at this place (an operation with no path
  parameters has no path-parameter injection to try), or a check over what the run recorded found nothing
  of its kind (no 429 was answered, so no Retry-After to judge) while other checks decide the clause. The
  outcome is kept in the report but does not decide; a clause whose every check is vacuous is 未测 when it
  binds the role under test, 不适用 when the catalogue says it does not.

Both raise pytest's skip; the plugin reads the kind from the reason's prefix, so the reason survives in
``report.json`` and the JUnit file exactly as written here.
"""

from __future__ import annotations

from typing import NoReturn

import pytest

UNTESTED_PREFIX = "未测："
#: What makes a check on an empty data set testable.
EMPTY_DATA_SET_PROVIDE = (
    "为被测平台预置该数据集的记录（至少几页数据；参考服务器用 --seed），或在目标文件中指向有数据的环境 / "
    "seed the data set at the target (a few pages at least; the reference server: --seed), or point the "
    "target file at an environment with data"
)
VACUOUS_PREFIX = "无可检验项："


def untested(reason: str, *, provide: str | None = None) -> NoReturn:
    """Skip as 未测: this deciding check could not run. ``provide`` says what would make it testable."""
    text = reason if reason.startswith(UNTESTED_PREFIX) else UNTESTED_PREFIX + reason
    if provide:
        text += f"【如何补足 / to make it testable：{provide}】"
    pytest.skip(text)


def vacuous(reason: str) -> NoReturn:
    """Skip as not deciding: by the contract there is nothing to check here (not a lack of data)."""
    pytest.skip(reason if reason.startswith(VACUOUS_PREFIX) else VACUOUS_PREFIX + reason)


def is_vacuous(reason: str | None) -> bool:
    return bool(reason) and reason.lstrip().startswith(VACUOUS_PREFIX)  # type: ignore[union-attr]
