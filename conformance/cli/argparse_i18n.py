"""argparse's own words (``usage:``, ``options:``, its error messages) in Chinese.

The standard library's ``argparse`` imports ``gettext`` and ``ngettext`` from :mod:`gettext` as the module
globals ``argparse._`` and ``argparse.ngettext`` and calls them for every word it prints: when a parser is
built (the ``positional arguments`` / ``options`` group titles, the help of ``-h``), when it formats usage
and help, and when it reports an error. :func:`argparse_language` installs a small catalogue
(:class:`ArgparseCatalog`, a :class:`gettext.NullTranslations` whose messages are the dictionary below) in
those two names for the time of a ``with`` block and puts the previous ones back afterwards;
:class:`TranslatedParser` opens that block around each of its methods that makes argparse speak, so the
translation never leaks into other code of the process (pytest's own parser, for one). English (``en``)
leaves argparse's words as they are.

The message ids are argparse's own strings (Python 3.11–3.13); a string not listed is printed as argparse
wrote it.
"""

from __future__ import annotations

import argparse
import functools
import gettext
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

#: argparse's words → Chinese. Plural messages: ``(singular, plural)`` → one Chinese text.
ZH: dict[str, str] = {
    "usage: ": "用法：",
    "options": "选项",
    "positional arguments": "位置参数",
    "subcommands": "子命令",
    "show this help message and exit": "显示此帮助信息并退出",
    "show program's version number and exit": "显示程序版本号并退出",
    "%(heading)s:": "%(heading)s：",
    " (default: %(default)s)": "（默认：%(default)s）",
    "%(prog)s: error: %(message)s\n": "%(prog)s：错误：%(message)s\n",
    "%(prog)s: warning: %(message)s\n": "%(prog)s：警告：%(message)s\n",
    "argument %(argument_name)s: %(message)s": "参数 %(argument_name)s：%(message)s",
    "the following arguments are required: %s": "缺少必需的参数：%s",
    "one of the arguments %s is required": "须给出以下参数之一：%s",
    "not allowed with argument %s": "不能与参数 %s 同时使用",
    "unrecognized arguments: %s": "无法识别的参数：%s",
    "invalid choice: %(value)r (choose from %(choices)s)": "无效的选项值：%(value)r（可选：%(choices)s）",
    "invalid %(type)s value: %(value)r": "无效的 %(type)s 值：%(value)r",
    "expected one argument": "需要一个参数值",
    "expected at most one argument": "最多接受一个参数值",
    "expected at least one argument": "至少需要一个参数值",
    "ambiguous option: %(option)s could match %(matches)s": "有歧义的选项：%(option)s 可匹配 %(matches)s",
    "ignored explicit argument %r": "忽略了多余的参数值 %r",
    "unexpected option string: %s": "意外的选项：%s",
    "unknown parser %(parser_name)r (choices: %(choices)s)": "未知的子命令 %(parser_name)r（可选：%(choices)s）",
    "can't open '%(filename)s': %(error)s": "无法打开“%(filename)s”：%(error)s",
    "argument '%(argument_name)s' is deprecated": "参数“%(argument_name)s”已弃用",
    "option '%(option)s' is deprecated": "选项“%(option)s”已弃用",
    "command '%(parser_name)s' is deprecated": "子命令“%(parser_name)s”已弃用",
}
ZH_PLURAL: dict[tuple[str, str], str] = {
    ("expected %s argument", "expected %s arguments"): "需要 %s 个参数值",
    ("conflicting option string: %s", "conflicting option strings: %s"): "选项冲突：%s",
}


class ArgparseCatalog(gettext.NullTranslations):
    """A translation held in two dictionaries (no ``.mo`` file)."""

    def __init__(self, messages: dict[str, str], plurals: dict[tuple[str, str], str]) -> None:
        super().__init__()
        self._messages = messages
        self._plurals = plurals

    def gettext(self, message: str) -> str:
        # argparse also passes None (a sub-parsers group without a description) and non-ids (titles given)
        return self._messages.get(message, message) if isinstance(message, str) else message

    def ngettext(self, msgid1: str, msgid2: str, n: int) -> str:
        found = self._plurals.get((msgid1, msgid2))
        if found is not None:
            return found
        return msgid1 if n == 1 else msgid2


CATALOGS: dict[str, ArgparseCatalog] = {"zh": ArgparseCatalog(ZH, ZH_PLURAL)}


@contextmanager
def argparse_language(lang: str) -> Iterator[None]:
    """argparse speaks ``lang`` inside the block (Chinese for ``zh``; its own English otherwise)."""
    saved = argparse._, argparse.ngettext  # type: ignore[attr-defined]
    catalog = CATALOGS.get(lang)
    if catalog is None:
        argparse._, argparse.ngettext = gettext.gettext, gettext.ngettext  # type: ignore[attr-defined]
    else:
        argparse._, argparse.ngettext = catalog.gettext, catalog.ngettext  # type: ignore[attr-defined]
    try:
        yield
    finally:
        argparse._, argparse.ngettext = saved  # type: ignore[attr-defined]


F = TypeVar("F", bound=Callable[..., Any])


def _speaking(method: F) -> F:
    """Run a parser method with argparse speaking the parser's language."""

    @functools.wraps(method)
    def wrapper(self: TranslatedParser, *args: Any, **kwargs: Any) -> Any:
        with argparse_language(self.lang):
            return method(self, *args, **kwargs)

    return wrapper  # type: ignore[return-value]


class TranslatedParser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose argparse words are in ``lang`` (keyword argument; default Chinese).

    Sub-parsers made by :meth:`add_subparsers` are of the same language unless ``parser_class`` says otherwise.
    """

    def __init__(self, *args: Any, lang: str = "zh", **kwargs: Any) -> None:
        self.lang = lang
        with argparse_language(lang):  # the group titles and the help of -h are translated here
            super().__init__(*args, **kwargs)

    @_speaking
    def add_subparsers(self, **kwargs: Any) -> Any:
        kwargs.setdefault("parser_class", functools.partial(type(self), lang=self.lang))
        return super().add_subparsers(**kwargs)

    parse_args = _speaking(argparse.ArgumentParser.parse_args)  # type: ignore[assignment]
    parse_known_args = _speaking(argparse.ArgumentParser.parse_known_args)  # type: ignore[assignment]
    format_usage = _speaking(argparse.ArgumentParser.format_usage)
    format_help = _speaking(argparse.ArgumentParser.format_help)
    error = _speaking(argparse.ArgumentParser.error)  # type: ignore[assignment]
