"""``tzsb-conform``: the command line of the harness.

Exit codes: 0 valid / all pass, 1 invalid / some fail, 2 usage or harness error, 130 interrupted (Ctrl-C),
141 standard output closed early (``... | head``; 128 + SIGPIPE, as a shell reports a program killed by it).

The global options (``--lang``, ``--version``) are accepted before or after the subcommand: every subcommand
parser gets them from one parent parser (:class:`_SubCommands`), whose defaults are ``SUPPRESS`` so that a
subcommand never overwrites a value given before it. argparse's own words follow ``--lang``
(:mod:`conformance.cli.argparse_i18n`).
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from conformance.cli.argparse_i18n import TranslatedParser
from conformance.harness import profiles
from conformance.harness.run_guard import BREAKER_FAILURES
from conformance.i18n import lang_from, t

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE (signal.SIGPIPE does not exist on Windows)


def _add_global_options(parser: argparse.ArgumentParser, lang: str, default: Any) -> None:
    """The options of the whole command line: on the main parser (``default``: its value when absent) and on
    the parent of every subcommand parser (``argparse.SUPPRESS``: absent there leaves the value given before)."""
    from conformance import __version__

    parser.add_argument("--lang", choices=["zh", "en"], default=default, help=t("opt.lang", lang))
    parser.add_argument(
        "-V",
        "--version",
        action="version",
        version=f"tzsb-conform {__version__}",
        default=argparse.SUPPRESS,
        help=t("opt.version", lang),
    )


class _SubCommands(argparse._SubParsersAction):  # type: ignore[type-arg]
    """Sub-parsers that all inherit the global options (``parents``), however and wherever they are added
    (``conformance.load.cli.register`` adds ``load``)."""

    def __init__(self, *args: Any, common: Sequence[argparse.ArgumentParser] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._common = list(common)

    def add_parser(self, name: str, **kwargs: Any) -> argparse.ArgumentParser:
        kwargs["parents"] = [*kwargs.get("parents", ()), *self._common]
        return super().add_parser(name, **kwargs)


def build_parser(lang: str) -> argparse.ArgumentParser:
    from conformance.codes import KINDS
    from conformance.contract.openapi import ROLES

    kinds = ", ".join(KINDS)
    p = TranslatedParser(prog="tzsb-conform", description=t("prog.description", lang), lang=lang)
    _add_global_options(p, lang, default=lang)
    common = TranslatedParser(add_help=False, lang=lang)  # built in the same language: its groups merge by title
    _add_global_options(common, lang, default=argparse.SUPPRESS)
    sub = p.add_subparsers(
        dest="command",
        required=True,
        title=t("commands", lang),
        metavar="COMMAND",
        action=_SubCommands,
        common=[common],
    )

    v = sub.add_parser("validate", help=t("cmd.validate", lang), description=t("cmd.validate", lang))
    v.add_argument("file", nargs="?", type=Path, help=t("opt.file", lang))
    v.add_argument("--code", nargs=2, metavar=("KIND", "VALUE"), help=t("opt.code", lang, kinds=kinds))
    v.add_argument("--schema", help=t("opt.schema", lang))
    rule = v.add_mutually_exclusive_group()
    rule.add_argument("--strict", action="store_true", help=t("opt.strict", lang))
    rule.add_argument("--lenient", action="store_true", help=t("opt.lenient", lang))
    v.add_argument("--failures-only", action="store_true", help=t("opt.failures_only", lang))
    v.add_argument("--max-errors", type=int, default=5, help=t("opt.max_errors", lang))
    v.add_argument("--output", choices=["text", "jsonl"], default="text", help=t("opt.output", lang))
    v.add_argument("--jobs", type=int, default=1, metavar="N", help=t("opt.validate_jobs", lang))
    v.add_argument("--no-progress", action="store_true", help=t("opt.no_progress", lang))

    s = sub.add_parser("serve", help=t("cmd.serve", lang), description=t("cmd.serve", lang))
    s.add_argument("--role", default="all", choices=["all", *ROLES], help=t("opt.role", lang))
    s.add_argument("--host", default="127.0.0.1", help=t("opt.host", lang))
    s.add_argument("--port", type=int, default=8700, help=t("opt.port", lang))
    s.add_argument("--db", type=Path, default=Path("reports/reference.sqlite3"), help=t("opt.db", lang))
    s.add_argument("--defect", action="append", default=[], metavar="NAME", help=t("opt.defect", lang))
    s.add_argument("--seed", type=int, default=None, help=t("opt.seed", lang))
    s.add_argument("--max-body", type=int, default=1024 * 1024, help=t("opt.max_body", lang))
    s.add_argument("--counterpart", action="append", default=[], metavar="ROLE=URL", help=t("opt.counterpart", lang))
    s.add_argument("--token-ttl", type=int, default=7200, help=t("opt.token_ttl", lang))
    s.add_argument("--tls", action="store_true", help=t("opt.tls", lang))
    s.add_argument("--tls-cert", type=Path, default=None, help=t("opt.tls_cert", lang))
    s.add_argument("--tls-key", type=Path, default=None, help=t("opt.tls_key", lang))
    s.add_argument("--public-url", default=None, metavar="URL", help=t("opt.public_url", lang))
    s.add_argument("--list-defects", action="store_true", help=t("opt.list_defects", lang))
    s.add_argument("--binding", type=Path, default=None, metavar="FILE", help=t("opt.binding_serve", lang))

    r = sub.add_parser("run", help=t("cmd.run", lang), description=t("cmd.run", lang))
    r.add_argument("--target", required=True, help=t("opt.target", lang))
    r.add_argument("--role", choices=ROLES, help=t("opt.role", lang))
    r.add_argument("--profile", choices=profiles.NAMES, default="quick", help=t("opt.profile", lang))
    r.add_argument("--client-id", default=None, help=t("opt.client_id", lang))
    r.add_argument("--feature", action="append", default=[], help=t("opt.feature", lang))
    r.add_argument("--out", type=Path, default=None, help=t("opt.out", lang))
    r.add_argument("--answers", default=None, help=t("opt.answers", lang))
    r.add_argument("--scope", choices=["full", "interface"], default="full", help=t("opt.scope", lang))
    r.add_argument(
        "--deadline",
        type=float,
        default=None,
        metavar="SECONDS",
        help=t("opt.deadline", lang, **{k: int(v.deadline_s) for k, v in profiles.PROFILES.items()}),
    )
    r.add_argument("--breaker", type=int, default=None, metavar="N", help=t("opt.breaker", lang, n=BREAKER_FAILURES))
    r.add_argument("--signing-key", type=Path, default=None, metavar="FILE", help=t("opt.signing_key", lang))
    r.add_argument("--pdf", action="store_true", help=t("opt.pdf", lang))

    sc = sub.add_parser("selfcheck", help=t("cmd.selfcheck", lang), description=t("cmd.selfcheck", lang))
    sc.add_argument("--contracts-only", action="store_true", help=t("opt.contracts_only", lang))
    sc.add_argument("--profile", choices=profiles.NAMES, default="quick", help=t("opt.profile", lang))
    sc.add_argument("--defects", action="store_true", help=t("opt.defects", lang))
    sc.add_argument("--jobs", type=int, default=2, help=t("opt.jobs", lang))
    sc.add_argument("--binding", type=Path, default=None, metavar="FILE", help=t("opt.binding_selfcheck", lang))
    sc.add_argument("--signing-key", type=Path, default=None, metavar="FILE", help=t("opt.signing_key", lang))
    sc.add_argument("--pdf", action="store_true", help=t("opt.pdf", lang))
    rp = sub.add_parser("report", help=t("cmd.report", lang), description=t("cmd.report", lang))
    rp.add_argument("run_dir", type=Path, metavar="RUN_DIR", help=t("opt.run_dir", lang))
    rp.add_argument("--pdf", action="store_true", help=t("opt.pdf", lang))
    vf = sub.add_parser("verify", help=t("cmd.verify", lang), description=t("cmd.verify", lang))
    vf.add_argument("run_dir", type=Path, metavar="RUN_DIR", help=t("opt.run_dir", lang))
    vf.add_argument("--fingerprint", default=None, metavar="FP", help=t("opt.fingerprint", lang))
    vf.add_argument("--json", action="store_true", help=t("opt.verify_json", lang))
    cl = sub.add_parser("clauses", help=t("cmd.clauses", lang), description=t("cmd.clauses", lang))
    cl.add_argument("--answers-template", metavar="ROLE", default=None, help=t("opt.answers_template", lang))
    cl.add_argument("--coverage", action="store_true", help=t("opt.coverage", lang))
    b = sub.add_parser("binding", help=t("cmd.binding", lang), description=t("cmd.binding", lang))
    b_sub = b.add_subparsers(dest="binding_command", required=True, metavar="ACTION")
    bc = b_sub.add_parser("check", help=t("cmd.binding_check", lang), description=t("cmd.binding_check", lang))
    bc.add_argument("file", type=Path, help=t("opt.binding_file", lang))
    # functional size and contract diff (docs/functional-size.md, docs/contract-diff.md)
    sz = sub.add_parser("size", help=t("cmd.size", lang), description=t("cmd.size", lang))
    sz.add_argument("--role", default=None, metavar="ROLE", help=t("opt.size_role", lang))
    sz.add_argument("--json", action="store_true", help=t("opt.size_json", lang))
    df = sub.add_parser("diff", help=t("cmd.diff", lang), description=t("cmd.diff", lang))
    df.add_argument("old", metavar="OLD", help=t("opt.diff_old", lang))
    df.add_argument("new", metavar="NEW", help=t("opt.diff_new", lang))
    df.add_argument("--reports", nargs="+", type=Path, default=None, metavar="DIR", help=t("opt.diff_reports", lang))
    df.add_argument("--json", action="store_true", help=t("opt.diff_json", lang))
    df.add_argument("--no-tests", action="store_true", help=t("opt.diff_no_tests", lang))
    from conformance.load.cli import register as register_load

    register_load(sub, lang)
    from conformance.cli.audit import register as register_audit  # GB/T 36344 data audit (docs/data-audit.md)
    from conformance.cli.generate import register as register_generate

    register_generate(sub, lang)
    register_audit(sub, lang)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """The command line; returns the exit code (usage errors, ``--help`` and ``--version`` exit through
    ``SystemExit`` as argparse does).

    A closed standard output (``tzsb-conform serve --list-defects | head``) ends the command quietly with
    141, as the Python documentation's note on SIGPIPE recommends: what is still buffered goes to
    ``os.devnull`` so that the flush at exit does not fail again. Ctrl-C outside a run's own handling
    (``conformance.harness.run_guard``) prints one line and exits 130. Any other exception is a fault of the tool:
    its traceback and a line saying so, and exit 2 (a harness error), never 1 (not met).
    """
    args_list = list(sys.argv[1:] if argv is None else argv)
    lang = lang_from(args_list)
    try:
        try:
            return _dispatch(args_list, lang)
        finally:
            sys.stdout.flush()  # a closed pipe shows here, inside the try, and not at interpreter exit
    except BrokenPipeError:
        _drop_stdout()
        return EXIT_BROKEN_PIPE
    except KeyboardInterrupt:
        print(t("interrupted", lang), file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:  # a fault of the tool: never exit 1, which says "not met" of what was tested
        traceback.print_exc(file=sys.stderr)
        message = (str(exc).strip().splitlines() or [""])[0][:500]
        print(t("internal_error", lang, error=type(exc).__name__, message=message), file=sys.stderr)
        return EXIT_USAGE


def _drop_stdout() -> None:
    """Standard output to ``os.devnull`` (the Python documentation's recipe for a closed pipe)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # no file descriptor (output captured in-process)
        pass


def _dispatch(args_list: list[str], lang: str) -> int:
    args = build_parser(lang).parse_args(args_list)
    lang = args.lang
    if getattr(args, "signing_key", None) is not None:
        from conformance.report.signing import use_key_file

        problem = use_key_file(args.signing_key)
        if problem:
            print(problem, file=sys.stderr)
            return EXIT_USAGE
    if args.command == "verify":
        from conformance.report.verify import run_verify

        return run_verify(args.run_dir, args.fingerprint, lang, as_json=args.json)
    if args.command == "report":
        from conformance.report.pdf import run_report

        return run_report(args.run_dir, lang, pdf=args.pdf)
    if args.command == "validate":
        from conformance.cli.validate import run_validate

        return run_validate(args, lang)
    if args.command == "serve":
        return _serve(args, lang)
    if args.command == "run":
        from conformance.harness.runner import run_suites

        return run_suites(
            target=args.target,
            role=args.role,
            profile=args.profile,
            client_id=args.client_id,
            features=args.feature,
            out=args.out,
            answers=args.answers,
            lang=lang,
            scope=args.scope,
            pdf=args.pdf,
            extra=[
                *([f"--tzsb-deadline={args.deadline}"] if args.deadline else []),
                *([f"--tzsb-breaker={args.breaker}"] if args.breaker else []),
            ],
        )
    if args.command == "selfcheck":
        from conformance.selfcheck.contract import run_selfcheck

        return run_selfcheck(
            lang,
            with_reference=not args.contracts_only,
            profile=args.profile,
            jobs=args.jobs,
            defects=args.defects,
            binding=args.binding,
            pdf=args.pdf,
        )
    if args.command == "binding":
        from conformance.cli.binding import run_check

        return run_check(args.file, lang)
    if args.command == "audit":
        from conformance.cli.audit import run as run_audit

        return run_audit(args, lang)
    if args.command == "generate":
        from conformance.cli.generate import run as run_generate

        return run_generate(args, lang)
    if args.command == "load":
        from conformance.load.cli import run as run_load

        return run_load(args, lang)
    if args.command == "size":
        from conformance.contract.size import run_size

        return run_size(args.role, args.json, lang)
    if args.command == "diff":
        from conformance.contract.diff import run_diff
        from conformance.selfcheck.coverage import decided_by

        return run_diff(args.old, args.new, args.reports, args.json, lang, None if args.no_tests else decided_by)
    if args.command == "clauses":
        from conformance.contract.clauses import run_list

        if args.coverage:
            from conformance.selfcheck.coverage import run_coverage

            return run_coverage(lang)
        return run_list(lang, args.answers_template)
    return EXIT_USAGE


def _serve(args: argparse.Namespace, lang: str) -> int:
    from conformance.reference.defects import DEFECTS, unknown
    from conformance.reference.server import ServerConfig, serve

    if args.list_defects:
        for d in DEFECTS:
            print(f"{d.name:<28} {d.role:<13} {', '.join(d.clauses):<40} {d.en if lang == 'en' else d.zh}")
        return EXIT_OK
    bad = unknown(args.defect)
    if bad:
        print(t("err.unknown_defect", lang, names=", ".join(bad)), file=sys.stderr)
        return EXIT_USAGE
    counterparts = {}
    for item in args.counterpart:
        role, sep, url = item.partition("=")
        if not sep or not url.startswith(("http://", "https://")):
            print(t("err.counterpart", lang, value=item), file=sys.stderr)
            return EXIT_USAGE
        counterparts[role] = url.rstrip("/")
    cfg = ServerConfig(
        role=args.role,
        host=args.host,
        port=args.port,
        db=args.db,
        defects=tuple(args.defect),
        seed=args.seed,
        max_body=args.max_body,
        counterparts=counterparts,
        token_ttl=args.token_ttl,
        tls=args.tls or args.tls_cert is not None,
        tls_cert=args.tls_cert,
        tls_key=args.tls_key,
        public_url=args.public_url,
        binding=args.binding,
    )
    try:
        return serve(cfg)
    except ValueError as exc:  # a public URL that is not an http(s) base URL, a binding that cannot be used
        print(exc, file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
