"""``tzsb-conform`` behaves as a command line is expected to: ``--version``; global options before or after
the subcommand; no traceback on a closed pipe or on Ctrl-C; argparse's own words in Chinese by default and in
English with ``--lang en``; progress on standard error during a long ``validate``.

The command is run as a subprocess (``python -m conformance.cli``) with this checkout first on ``PYTHONPATH``.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

import conformance
from conformance.cli import EXIT_BROKEN_PIPE, EXIT_INTERRUPTED, build_parser, main
from conformance.datagen import DataGen

ROOT = Path(__file__).resolve().parents[1]
BAD_USCC = "91420100MA4K2ABC1X"  # invalid check character: the verdict says why, in the chosen language


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"TZSB_LANG", "TZSB_PROGRESS_INTERVAL"}}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])
    env.update(extra)
    return env


def cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "conformance.cli", *args],
        capture_output=True,
        text=True,
        env=_env(**env),
        cwd=ROOT,
        timeout=300,
    )


# ------------------------------------------------------------------ --version


@pytest.mark.parametrize("args", [["--version"], ["-V"], ["validate", "--version"], ["load", "-V"]])
def test_version_prints_the_package_version(args: list[str]) -> None:
    done = cli(*args)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"tzsb-conform {conformance.__version__}"


# ------------------------------------------------------------------ global options anywhere


def test_lang_after_the_subcommand() -> None:
    done = cli("validate", "--lang", "en", "--code", "uscc", BAD_USCC)
    assert done.returncode == 1
    assert "is invalid" in done.stdout and "无效" not in done.stdout
    done = cli("validate", "--code", "uscc", BAD_USCC, "--lang=en")
    assert "is invalid" in done.stdout and "无效" not in done.stdout


def test_lang_before_the_subcommand_is_not_reset_by_it() -> None:
    """The subcommand's copy of ``--lang`` has no default of its own: it keeps what was given before it."""
    done = cli("--lang", "en", "validate", "--code", "uscc", BAD_USCC)
    assert "is invalid" in done.stdout and "无效" not in done.stdout
    done = cli("--lang", "zh", "validate", "--code", "uscc", BAD_USCC, TZSB_LANG="en")
    assert "无效" in done.stdout
    # the parser alone (its defaults from another language): the value before the subcommand survives it
    for given, default in (("en", "zh"), ("zh", "en")):
        assert build_parser(default).parse_args(["--lang", given, "validate", "--code", "uscc", "x"]).lang == given
        assert build_parser(default).parse_args(["load", "--target", "t.toml"]).lang == default


def test_the_last_lang_given_wins_and_the_environment_is_the_default() -> None:
    assert "无效" in cli("validate", "--code", "uscc", BAD_USCC, "--lang", "zh", TZSB_LANG="en").stdout
    assert "is invalid" in cli("validate", "--code", "uscc", BAD_USCC, TZSB_LANG="en").stdout


def test_every_subcommand_takes_every_global_option() -> None:
    parser = build_parser("zh")
    top = {s for a in parser._actions for s in a.option_strings} - {"-h", "--help"}
    assert {"--lang", "-V", "--version"} <= top
    subcommands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices
    assert {"validate", "serve", "run", "selfcheck", "clauses", "load"} <= set(subcommands)
    for name, sub in subcommands.items():
        assert top <= {s for a in sub._actions for s in a.option_strings}, name
        lang = next(a for a in sub._actions if a.dest == "lang")
        assert lang.default is argparse.SUPPRESS, name


# ------------------------------------------------------------------ closed pipe, Ctrl-C


@pytest.mark.parametrize("args", [["serve", "--list-defects"], ["clauses"]])
def test_a_closed_pipe_ends_quietly(args: list[str]) -> None:
    """``tzsb-conform serve --list-defects | head``: the reader is gone before the command writes."""
    read, write = os.pipe()
    os.close(read)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "conformance.cli", *args],
            stdout=write,
            stderr=subprocess.PIPE,
            text=True,
            env=_env(),
            cwd=ROOT,
            timeout=300,
        )
    finally:
        os.close(write)
    assert "Traceback" not in done.stderr and "BrokenPipeError" not in done.stderr, done.stderr
    assert done.returncode == EXIT_BROKEN_PIPE


def test_ctrl_c_prints_one_line_and_exits_130() -> None:
    """A real SIGINT while a command runs (outside a run's own signal handling)."""
    code = (
        "import os, signal, sys, time\n"
        "import conformance.cli.validate as v\n"
        "def interrupted(args, lang):\n"
        "    os.kill(os.getpid(), signal.SIGINT)\n"
        "    time.sleep(30)\n"
        "v.run_validate = interrupted\n"
        "from conformance.cli import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    for args, line in ((["validate", "--code", "uscc", "x"], "已中断"), (["--lang", "en", "validate"], "interrupted")):
        done = subprocess.run(
            [sys.executable, "-c", code, *args], capture_output=True, text=True, env=_env(), cwd=ROOT, timeout=60
        )
        assert done.returncode == EXIT_INTERRUPTED == 128 + signal.SIGINT
        assert "Traceback" not in done.stderr and "KeyboardInterrupt" not in done.stderr, done.stderr
        assert done.stderr.count("\n") == 1 and line in done.stderr


# ------------------------------------------------------------------ argparse's words


def test_help_speaks_chinese_by_default() -> None:
    done = cli("validate", "--help")
    assert done.returncode == 0
    for words in ("用法：", "位置参数", "选项", "显示此帮助信息并退出", "显示版本号并退出"):
        assert words in done.stdout, words
    for words in ("usage:", "positional arguments", "options:", "show this help message"):
        assert words not in done.stdout, words
    top = cli("--help").stdout
    assert "用法：" in top and "子命令" in top and "显示此帮助信息并退出" in top


@pytest.mark.parametrize(
    ("args", "zh", "en"),
    [
        (
            ["validate", "--no-such-option"],
            "无法识别的参数：--no-such-option",
            "unrecognized arguments: --no-such-option",
        ),
        (["validate", "--output", "xml"], "无效的选项值：'xml'", "invalid choice: 'xml'"),
        (["no-such-command"], "无效的选项值：'no-such-command'", "invalid choice: 'no-such-command'"),
        (["run"], "缺少必需的参数：--target", "the following arguments are required: --target"),
        (["validate", "--schema"], "参数 --schema：需要一个参数值", "argument --schema: expected one argument"),
        (["serve", "--port", "x"], "无效的 int 值：'x'", "invalid int value: 'x'"),
        (["validate", "--strict", "--lenient"], "不能与参数 --strict 同时使用", "not allowed with argument --strict"),
    ],
)
def test_usage_errors_speak_the_chosen_language(args: list[str], zh: str, en: str) -> None:
    done = cli(*args)
    assert done.returncode == 2 and done.stdout == ""
    assert "用法：" in done.stderr and "错误：" in done.stderr and zh in done.stderr, done.stderr
    english = cli(*args, "--lang", "en")
    assert english.returncode == 2
    assert "usage:" in english.stderr and "error:" in english.stderr and en in english.stderr, english.stderr
    assert not any("\u4e00" <= ch <= "\u9fff" for ch in english.stderr), english.stderr


def test_help_speaks_english_on_request() -> None:
    for done in (cli("validate", "--help", "--lang", "en"), cli("load", "--help", TZSB_LANG="en")):
        assert done.returncode == 0
        for words in ("usage:", "options:", "show this help message and exit"):
            assert words in done.stdout, words
        assert "用法" not in done.stdout and "显示此帮助信息" not in done.stdout


def test_the_translation_does_not_outlive_the_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["validate", "--help"])
    assert "用法：" in capsys.readouterr().out
    assert "usage:" in argparse.ArgumentParser(prog="other").format_help()


# ------------------------------------------------------------------ progress of validate


def _dump(path: Path, count: int) -> None:
    gen = DataGen(5)
    path.write_bytes(b"".join(orjson.dumps(gen.equipment()) + b"\n" for _ in range(count)))


def test_validate_reports_progress_on_stderr(tmp_path: Path) -> None:
    dump = tmp_path / "dump.jsonl"
    _dump(dump, 3000)
    done = cli("validate", str(dump), "--schema", "equipment", "--failures-only", TZSB_PROGRESS_INTERVAL="0")
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.startswith("校验进度：")]
    assert len(lines) >= 3, done.stderr  # one every 256 records with a zero interval
    assert str(dump) in lines[0] and "已校验 256 条" in lines[0] and "条/秒" in lines[0]
    assert "已校验 2,816 条" in lines[-1]
    assert "共 3000 行" in done.stdout and "校验进度" not in done.stdout  # the verdicts stay on stdout

    english = cli("validate", str(dump), "--schema", "equipment", "--failures-only", "--lang", "en",
                  TZSB_PROGRESS_INTERVAL="0")  # fmt: skip
    assert f"progress: {dump}: 256 records checked" in english.stderr and "records/s" in english.stderr


def test_validate_progress_can_be_turned_off_and_waits_for_its_interval(tmp_path: Path) -> None:
    dump = tmp_path / "dump.jsonl"
    _dump(dump, 1000)
    quiet = cli("validate", str(dump), "--schema", "equipment", "--no-progress", TZSB_PROGRESS_INTERVAL="0")
    assert quiet.returncode == 0 and quiet.stderr == ""
    later = cli("validate", str(dump), "--schema", "equipment", TZSB_PROGRESS_INTERVAL="3600")
    assert later.returncode == 0 and later.stderr == ""
    bad = cli("validate", str(dump), "--schema", "equipment", TZSB_PROGRESS_INTERVAL="soon")
    assert bad.returncode == 0 and "TZSB_PROGRESS_INTERVAL" in bad.stderr and "Traceback" not in bad.stderr


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a pseudo-terminal for standard error")
def test_validate_draws_a_bar_on_a_terminal(tmp_path: Path) -> None:
    """Standard error a terminal: the bar (rich) is drawn and cleared; standard output holds the verdicts only."""
    import pty

    dump = tmp_path / "dump.jsonl"
    _dump(dump, 3000)
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "conformance.cli", "validate", str(dump), "--schema", "equipment", "--failures-only"],
        stdout=subprocess.PIPE,
        stderr=slave,
        env=_env(TZSB_PROGRESS_INTERVAL="0", COLUMNS="200"),
        cwd=ROOT,
    )
    os.close(slave)
    seen = b""
    while True:
        try:
            chunk = os.read(master, 1 << 16)
        except OSError:  # EIO: the last holder of the terminal's other side has gone
            break
        if not chunk:
            break
        seen += chunk
    os.close(master)
    out = proc.stdout.read().decode() if proc.stdout else ""
    assert proc.wait(timeout=300) == 0
    screen = seen.decode("utf-8", "replace")
    assert "条/秒" in screen and dump.name in screen and "256 条" in screen, screen
    assert "\x1b[?25h" in screen  # the cursor is given back when the bar is cleared
    assert "共 3000 行" in out and "条/秒" not in out
