"""``tzsb-conform``: the command line of the harness.

Exit codes: 0 valid / all pass, 1 invalid / some fail, 2 usage or harness error.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from conformance.i18n import t

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse exits 2 on usage errors, as we want
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: {message}\n")


def build_parser(lang: str) -> argparse.ArgumentParser:
    from conformance.codes import KINDS

    kinds = ", ".join(KINDS)
    p = _Parser(prog="tzsb-conform", description=t("prog.description", lang))
    p.add_argument("--lang", choices=["zh", "en"], default=lang, help=t("opt.lang", lang))
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    v = sub.add_parser("validate", help=t("cmd.validate", lang), description=t("cmd.validate", lang))
    v.add_argument("file", nargs="?", type=Path, help=t("opt.file", lang))
    v.add_argument("--code", nargs=2, metavar=("KIND", "VALUE"), help=t("opt.code", lang, kinds=kinds))
    v.add_argument("--schema", help=t("opt.schema", lang))
    v.add_argument("--lenient", action="store_true", help=t("opt.lenient", lang))
    v.add_argument("--failures-only", action="store_true", help=t("opt.failures_only", lang))
    v.add_argument("--max-errors", type=int, default=5, help=t("opt.max_errors", lang))
    v.add_argument("--output", choices=["text", "jsonl"], default="text", help=t("opt.output", lang))

    sub.add_parser("selfcheck", help=t("cmd.selfcheck", lang), description=t("cmd.selfcheck", lang))
    sub.add_parser("clauses", help=t("cmd.clauses", lang), description=t("cmd.clauses", lang))
    return p


def main(argv: Sequence[str] | None = None) -> int:
    from conformance.i18n import lang_from

    args_list = list(sys.argv[1:] if argv is None else argv)
    lang = lang_from(args_list)
    args = build_parser(lang).parse_args(args_list)
    lang = args.lang
    try:
        if args.command == "validate":
            from conformance.validate_cmd import run_validate

            return run_validate(args, lang)
        if args.command == "selfcheck":
            from conformance.contract_check import run_selfcheck

            return run_selfcheck(lang)
        if args.command == "clauses":
            from conformance.clauses import run_list

            return run_list(lang)
    except KeyboardInterrupt:
        return EXIT_USAGE
    return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
