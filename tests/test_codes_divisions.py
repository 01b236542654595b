"""GB/T 2260 with history: the current table, the codes of past tables, citizen IDs judged against the
table of their time, and the refresh script (offline: it is run on a miniature source)."""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import random
import shutil
import sys
from pathlib import Path
from types import ModuleType

import pytest

from conformance.codes import KINDS, check, citizen_check_char, lists
from conformance.contract.documents import CODELISTS_DIR, codelist

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "refresh_divisions.py"


def _load_script(path: Path = SCRIPT, name: str = "refresh_divisions_under_test") -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def refresh() -> ModuleType:
    return _load_script()


def citizen_id(code: str, rng: random.Random, birth: str | None = None) -> str:
    """A number with a valid check character (the personal part is random, never a real person's)."""
    if birth is None:
        day = dt.date(1930, 1, 1) + dt.timedelta(days=rng.randrange(0, 365 * 80))
        birth = day.strftime("%Y%m%d")
    body = f"{code}{birth}{rng.randrange(1000):03d}"
    return body + citizen_check_char(body)


# ------------------------------------------------------------------ the current table

NEW_CODES = {
    "460303": "南沙区",  # 2020
    "540481": "米林市",  # 2023 (was 540422 米林县)
    "540581": "错那市",  # 2023 (was 540530 错那县)
    "653228": "和康县",  # 2024
    "653229": "和安县",  # 2024
    "659012": "白杨市",  # 2023
}


@pytest.mark.parametrize("code", sorted(NEW_CODES))
def test_codes_created_2020_to_2024_are_current(code: str) -> None:
    item = lists.divisions()[code]
    assert item["name"] == NEW_CODES[code] and not item.get("doubtful")
    for strict in (True, False):
        result = check("division", code, strict=strict)
        assert result.ok and not result.problems, result.problems
    periods = lists.division_history()[code]
    assert periods[-1]["to"] is None and 2020 <= periods[-1]["from"] <= 2024


@pytest.mark.parametrize(("old", "new", "new_name"), [("540422", "540481", "米林市"), ("540530", "540581", "错那市")])
def test_an_abolished_code_in_a_new_record_warns_and_names_its_successor(old: str, new: str, new_name: str) -> None:
    assert old not in lists.divisions() and old not in lists.division_codes()
    assert lists.division_successors(old) == (new,)
    for strict in (True, False):
        result = check("division", old, strict=strict)
        assert result.ok and [p.part for p in result.warnings] == ["division"], result.problems
        warning = result.warnings[0]
        assert new in warning.zh and new_name in warning.zh and "2023" in warning.zh
        assert new in warning.en and "no longer in the GB/T 2260 table" in warning.en


def test_every_code_abolished_since_1981_warns_in_a_new_record() -> None:
    """The rule is general: any code of a past table that is not current warns (never passes silently)."""
    current = lists.divisions()
    abolished = [
        c for c, es in lists.division_history().items() if c not in current and not any(e.get("summary") for e in es)
    ]
    assert len(abolished) > 3000
    for code in abolished:
        result = check("division", code)
        assert result.ok and len(result.warnings) == 1, (code, result.problems)


def test_sansha_has_xisha_and_nansha_districts() -> None:
    div = lists.divisions()
    assert div["460300"]["name"] == "三沙市" and div["460300"]["level"] == "prefecture"
    for code, name in (("460302", "西沙区"), ("460303", "南沙区")):
        assert div[code]["name"] == name and div[code]["parent"] == "460300" and not div[code].get("doubtful")
        assert lists.division_history()[code][0]["from"] == 2020
    # the statistical codes of the 群岛 are not GB/T 2260 codes; 460301 was never 西沙区
    for code in ("460321", "460322", "460323"):
        assert code not in div and lists.functional_zones()[code]["level"] == "statistical"
    assert "460301" not in div
    assert all(e.get("summary") for e in lists.division_history().get("460301", ()))


def test_statistical_codes_are_not_gb_t_2260() -> None:
    strict = check("division", "232761")
    assert not strict.ok and "统计用区划代码" in strict.message()
    assert check("division", "232761", strict=False).ok


# ------------------------------------------------------------------ citizen IDs: the table of their time

#: 海南省 1988–2001: county-level units directly under the province, prefecture part 00 (GB/T 2260-1991/1995/1999).
HAINAN_1988_2001 = [f"4600{n:02d}" for n in (*range(1, 8), *range(21, 40))]


def test_hainan_codes_of_1988_to_2001_are_known() -> None:
    in_history = sorted(c for c in lists.division_history() if c.startswith("4600") and c != "460000")
    assert in_history == HAINAN_1988_2001
    for code in HAINAN_1988_2001:
        for entry in lists.division_history()[code]:
            assert entry["from"] >= 1988 and entry["to"] is not None and entry["to"] <= 2001


@pytest.mark.parametrize("code", HAINAN_1988_2001)
def test_hainan_citizen_ids_are_valid_in_strict_and_lenient_mode(code: str) -> None:
    rng = random.Random(f"hainan:{code}")
    for _ in range(3):
        value = citizen_id(code, rng)
        for strict in (True, False):
            result = check("citizen-id", value, strict=strict)
            assert result.ok and not result.warnings, (value, result.problems)
            [note] = [p for p in result.problems if p.part == "address code"]
            assert note.severity == "info" and "号码终身不变" in note.zh
            assert lists.division_successors(code) and lists.division_successors(code)[0] in note.zh


def test_hainan_code_in_a_new_record_is_abolished_not_malformed() -> None:
    for strict in (True, False):
        result = check("division", "460001", strict=strict)
        assert result.ok and "469001" in result.warnings[0].zh and "结构错误" not in result.message()


def test_prefecture_00_rule_holds_where_no_table_says_otherwise() -> None:
    for code in ("420012", "460008", "460040", "110001"):
        assert code not in lists.division_history()
        for strict in (True, False):
            assert "结构错误" in check("division", code, strict=strict).message(), code
            value = citizen_id(code, random.Random(code))
            result = check("citizen-id", value, strict=strict)
            assert not result.ok and "结构错误" in result.message(), code


def test_a_code_that_never_existed_is_an_error_for_a_citizen_id() -> None:
    value = citizen_id("429999", random.Random(1))
    strict = check("citizen-id", value)
    assert not strict.ok and [p.part for p in strict.errors] == ["address code"]
    assert "1981 年以来任何一年" in strict.errors[0].zh
    lenient = check("citizen-id", value, strict=False)
    assert lenient.ok and [p.part for p in lenient.warnings] == ["address code"]
    unknown_province = check("citizen-id", citizen_id("990105", random.Random(2)))
    assert not unknown_province.ok and unknown_province.errors[0].part == "address code"


@pytest.mark.parametrize(
    ("code", "mentions"),
    [
        ("440524", "440513"),  # 潮阳县 (the standard's own example), now part of 潮阳区 …
        ("110103", "110101"),  # 崇文区 → 东城区 (2010)
        ("330103", "330105"),  # 下城区 → 拱墅区 (2021)
        ("440301", "市辖区"),  # GB/T 2260 summary code, carried by numbers issued in 深圳
        ("230824", "230522"),  # 民政部 data 1984–1990 (errata: 230834 in the standard), now 友谊县 of 双鸭山市
    ],
)
def test_a_code_of_any_past_table_is_fine_with_a_note_of_its_era(code: str, mentions: str) -> None:
    value = citizen_id(code, random.Random(code), birth="19700101")
    for strict in (True, False):
        result = check("citizen-id", value, strict=strict)
        assert result.ok and not result.warnings, result.problems
        [note] = result.problems
        assert note.severity == "info" and note.part == "address code" and mentions in note.zh, note


def test_the_birth_date_is_not_compared_with_the_years_of_the_code() -> None:
    """Born 1950, registered later in 南沙区 (created 2020): the code is the one given at registration."""
    result = check("citizen-id", citizen_id("460303", random.Random(3), birth="19500101"))
    assert result.ok and not result.problems
    hainan = check("citizen-id", citizen_id("460001", random.Random(4), birth="19500101"))
    assert hainan.ok and not hainan.warnings


def test_residence_permit_codes_are_noted() -> None:
    result = check("citizen-id", citizen_id("830000", random.Random(5), birth="19800101"))
    assert result.ok and not result.warnings
    assert [p.severity for p in result.problems] == ["info"] and "居住证" in result.problems[0].zh
    assert not check("division", "830000").ok  # not a GB/T 2260 code


def test_the_generator_takes_a_code_of_any_table() -> None:
    rng = random.Random(6)
    value = KINDS["citizen-id"].generate(rng, division="460001")
    assert value.startswith("460001") and check("citizen-id", value).ok
    assert KINDS["citizen-id"].generate(rng, division="429999")[:6] in lists.division_codes()


# ------------------------------------------------------------------ the data files


def test_current_and_history_tables_agree() -> None:
    current = lists.divisions()
    history = lists.division_history()
    in_use = {c for c, es in history.items() if any(e["to"] is None and not e.get("summary") for e in es)}
    gb = {c for c, it in current.items() if not it.get("grouping") and not it.get("reported")}
    assert in_use == gb
    for code, entries in history.items():
        for e in entries:
            assert e["to"] is None or e["from"] < e["to"], e
            for s in e.get("successors") or ():
                assert s["code"] in history or s["code"] in current, (code, s)
                assert s.get("change") is None or s["change"] in lists.division_changes()
    for code in current:
        assert code in history or current[code].get("reported"), code


def test_data_files_stay_small_enough_for_the_wheel() -> None:
    for name in ("divisions.json", "divisions-history.json"):
        assert (CODELISTS_DIR / name).stat().st_size < 2 * 1024 * 1024, name


def test_code_lists_were_built_from_the_pinned_source(refresh: ModuleType) -> None:
    """Offline freshness: both files record the source commit they were built from; the script's PIN
    is the commit a refresh reads (``--bump`` moves it). A pin newer than the data fails here."""
    for name in ("divisions", "divisions-history"):
        doc = codelist(name)
        assert refresh.staleness(doc, refresh.PIN) == [], refresh.staleness(doc, refresh.PIN)
        assert doc["upstream"]["repository"] == refresh.PIN["repository"]
    assert codelist("divisions")["upstream"] == codelist("divisions-history")["upstream"]


def test_staleness_reports_a_pin_newer_than_the_data(refresh: ModuleType) -> None:
    doc = codelist("divisions")
    newer = {**refresh.PIN, "commit": "0" * 40, "commitDate": "2099-01-01", "latestTable": 2098}
    reasons = refresh.staleness(doc, newer)
    assert len(reasons) == 4 and any("2099-01-01" in r for r in reasons)


def test_bump_rewrites_the_pin_of_the_script(refresh: ModuleType, tmp_path: Path) -> None:
    copy = tmp_path / "refresh_copy.py"
    shutil.copy(SCRIPT, copy)
    pin = {**refresh.PIN, "commit": "f" * 40, "commitDate": "2026-12-01", "latestTable": 2025}
    refresh.rewrite_pin(copy, pin)
    rewritten = _load_script(copy, "refresh_copy_under_test").PIN
    assert rewritten == pin


# ------------------------------------------------------------------ the refresh script on a miniature source


def _mini_source(refresh: ModuleType, *, drop_from_2000: str = "") -> object:
    tables = {
        1999: ["460000 海南省", "460001 通什市", "460100 海口市", "460102 振东区"],
        2000: ["460000 海南省", "460001 通什市", "460100 海口市", "460102 振东区"],
        2001: ["460000 海南省", "460100 海口市", "460102 振东区", "460105 秀英区", "469001 五指山市"],
    }
    codes = {
        "items": [
            {
                "code": 460000,
                "name": "海南省",
                "start": 1999,
                "children": [
                    {
                        "code": 460001,
                        "name": "通什市",
                        "start": 1999,
                        "end": 2001,
                        "succ": [{"code": 469001, "desc": 0}],
                    },
                    {
                        "code": 460100,
                        "name": "海口市",
                        "start": 1999,
                        "children": [
                            {"code": 460102, "name": "振东区", "start": 1999},
                            {"code": 460105, "name": "秀英区", "start": 2001},
                        ],
                    },
                    {"code": 469001, "name": "五指山市", "start": 2001},
                ],
            }
        ],
        "descriptions": {
            "2001": [
                "# 民政部关于通什市更名为五指山市的批复\n文号：民发〔2001〕170号\n日期：2001年7月5日\n来源：[公报](https://example.invalid/a)\n\n正文"
            ]
        },
    }
    errata = "- 1999-2000年海口市振东区原代码为“460103”，更正为“460102”，原因：国标。\n"
    files = {
        f"data/{y}.txt": "\n".join(
            ln for ln in lines if not (y == 2000 and ln.startswith(drop_from_2000 or "x"))
        ).encode()
        for y, lines in tables.items()
    }
    files["codes.json"] = json.dumps(codes, ensure_ascii=False).encode()
    files["errata.md"] = errata.encode()
    return refresh.Source(files, "a" * 40, "2002-01-01")


def test_refresh_builds_both_files_from_the_source(refresh: ModuleType) -> None:
    previous = {
        "functionalZones": [{"code": "460171", "name": "某开发区", "level": "functional-zone", "parent": "460100"}]
    }
    current, history = refresh.build(_mini_source(refresh), previous, reported=[])
    items = {it["code"]: it for it in current["items"]}
    assert sorted(items) == ["460000", "460100", "460102", "460105", "469000", "469001"]
    assert items["469000"]["grouping"] and items["469001"]["parent"] == "469000"
    assert items["460102"]["parent"] == "460100" and items["460100"]["parent"] == "460000"
    assert current["date"] == "2001-12-31" and current["upstream"]["commit"] == "a" * 40
    assert "460171" in {z["code"] for z in current["functionalZones"]}
    entries = {(e["code"], e["from"]): e for e in history["items"]}
    tongshi = entries[("460001", 1999)]
    assert tongshi["to"] == 2001 and tongshi["successors"] == [{"code": "469001", "year": 2001, "change": "2001-0"}]
    assert history["changes"]["2001-0"]["docNo"] == "民发〔2001〕170号"
    assert history["changes"]["2001-0"]["url"] == "https://example.invalid/a"
    summary = entries[("460101", 1999)]  # 海口市 has districts: GB/T 2260 lists 460101 市辖区
    assert summary["summary"] and summary["name"] == "市辖区" and summary["to"] is None
    assert entries[("469000", 2001)]["summary"]
    erratum = entries[("460103", 1999)]
    assert erratum["errata"] and erratum["to"] == 2001 and erratum["name"] == "振东区"
    assert erratum["successors"][0]["code"] == "460102" and erratum["parent"] == "460100"
    assert [r["code"] for r in history["residencePermitCodes"]] == ["810000", "820000", "830000"]
    # the writers give the same documents back
    assert json.loads(refresh.dump_history(history)) == history
    assert json.loads(refresh.dump_current(current)) == current


def test_refresh_applies_reported_changes_only_after_the_newest_table(refresh: ModuleType) -> None:
    reported = [
        {"code": "460106", "name": "新区", "parent": "460100", "year": 2002, "replaces": ["460102"], "evidence": "e"},
        {"code": "460107", "name": "旧闻", "parent": "460100", "year": 2001, "evidence": "e"},
    ]
    current, _ = refresh.build(_mini_source(refresh), None, reported=reported)
    items = {it["code"]: it for it in current["items"]}
    assert items["460106"]["doubtful"] and items["460106"]["reported"] and items["460106"]["parent"] == "460100"
    assert items["460102"]["supersededBy"] == "460106" and items["460102"]["doubtful"]
    assert "460107" not in items  # the source's table of 2001 would have it: not applied


def test_refresh_stops_on_an_inconsistent_source(refresh: ModuleType) -> None:
    with pytest.raises(SystemExit, match=r"460001 in a codes\.json period covering 2000"):
        refresh.build(_mini_source(refresh, drop_from_2000="460001"), None, reported=[])
