"""The electronic dossier (DB42/T 2279-2024 §7.5, §9): code, metadata, content files, query interface.

With the workflow driver the suite files its own dossiers: a new applicant A gets three cases
archived one after the other (准予许可 after a 补齐补正; 不予许可; 准予许可 with a 预归档退回 when
the target declares ``pre-archive-return``) and a second new applicant B one case. Their codes
must be 05 + 01100000 + the authority's division + the applicant's USCC + the decision year +
0001, 0002, 0003 (B: 0001); the metadata must match the cases, in the JSON view and in each stored form (§9.3.2:
XML, or the text form of dossier-metadata.schema.json ``x-text-form``; the forms the dossier names by
``metadataXmlUrl`` / ``metadataTxtUrl``, else both canonical paths are tried); the files must be named
``<卷宗号><许可环节>_<顺序号>``, be valid OFD (default) or PDF and cover the stages of §7.5.5.
Without the driver the checks that need no knowledge of the case run on dossiers found through the
dossier query interface (none found: 未测).

The code's parts are read from both ends (category, item and division from the start, year and
sequence from the end, the USCC in between), so one wrong part does not make the others wrong.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
import re
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

import defusedxml.ElementTree as DefusedET
import pytest

from conformance.check.media import ofd_problems, pdf_problems
from conformance.check.metadata_text import parse_text, text_form
from conformance.check.schema import validator
from conformance.check.xsd import load_schema, validate_xml
from conformance.codes import check
from conformance.codes import lists as code_lists
from conformance.contract import documents as contracts
from conformance.contract.openapi import role_operations
from conformance.datagen.licensing import authority_of, items, new_applicant
from conformance.suites.support.workflow import (
    DRIVER,
    PRE_ARCHIVE_RETURN,
    Case,
    Desk,
    Findings,
    Violation,
    Walker,
    allowed_roles,
    brief,
    data_of,
    when,
)

pytestmark = [pytest.mark.role("licensing")]
driver = pytest.mark.feature(DRIVER)

SAMPLE_SIZE = {"quick": 3, "standard": 10, "certification": 50}
#: Pause before the last archiving of applicant A, so that 创建时间 and 更新时间 (Table 2 rows 8, 9) differ.
ARCHIVE_PAUSE = {"quick": 0.0, "standard": 2.1, "certification": 2.1}
TIME_TOLERANCE = dt.timedelta(seconds=1)
#: A dossier code as §9.2 builds it: 42 digits and capital letters.
CODE = re.compile(r"[0-9A-Z]{42}")


def _parts() -> tuple[str, ...]:
    """The dossier parts (§7.5.5; dossier.schema.json files[].stage)."""
    return tuple(contracts.json_schema("dossier")["properties"]["files"]["items"]["properties"]["stage"]["enum"])


def _stage_codes() -> tuple[str, ...]:
    return tuple(s["code"] for s in contracts.codelist("workflow")["stages"])


def _metadata_pairs() -> list[tuple[str, str]]:
    """Table 2 in order: (JSON property of dossier-metadata.schema.json, XML element of dossier-metadata.xsd)."""
    keys = contracts.json_schema("dossier-metadata")["required"]
    xsd = load_schema("dossier-metadata")
    elements = [e.local_name for e in xsd.elements["dossierMetadata"].type.content.iter_elements()]
    assert len(keys) == len(elements) == 9, (keys, elements)
    return list(zip(keys, elements, strict=True))


# ---------------------------------------------------------------------------------- what the suite holds
@dataclass(repr=False)
class Filed:
    """A case the suite walked to 归档, with what it saw of its dossier on the way."""

    label: str
    applicant: str  # "A" / "B"
    case: Case
    granted: bool
    corrected: bool
    returned: bool
    snapshots: dict[str, tuple[int | None, dict[str, Any] | None, str | None]] = field(default_factory=dict)
    decided_at: dt.datetime | None = None
    archived_at: dt.datetime | None = None
    ex: dict[str, Any] = field(default_factory=dict)  # moment → the exchange of the dossier read then

    def __repr__(self) -> str:
        return f"Filed({self.label} {self.case.case_no})"


@dataclass(repr=False)
class Sample:
    """One dossier as the query interface serves it, with its metadata (XML and / or text, §9.3.2) and files."""

    dossier: dict[str, Any]
    filed: Filed | None = None
    #: the metadata XML and text as read: (status, body); None when the form was not asked for
    xml: tuple[int | None, bytes] | None = None
    txt: tuple[int | None, bytes] | None = None
    #: the forms the dossier names by their addresses (metadataXmlUrl / metadataTxtUrl)
    named: tuple[str, ...] = ()
    register: tuple[int | None, bytes] | None = None
    files: dict[str, tuple[int | None, bytes]] = field(default_factory=dict)
    by_code: Any = None
    by_case: Any = None
    reference: list[Any] = field(default_factory=list)
    #: what was read (view, xml, file:<name>, by_code, ref …) → exchange
    ex: dict[str, Any] = field(default_factory=dict)

    def evidence(self, kinds: tuple[str, ...]) -> list[Any]:
        out = [x for k, x in self.ex.items() if k in kinds or (k.startswith("file:") and "file" in kinds)]
        if self.filed is not None and "snapshots" in kinds:
            out += list(self.filed.ex.values())
        return out

    def __repr__(self) -> str:
        return f"Sample({self.code})"

    @property
    def code(self) -> str:
        return str(self.dossier.get("dossierCode", ""))

    @property
    def metadata(self) -> dict[str, Any]:
        m = self.dossier.get("metadata")
        return m if isinstance(m, dict) else {}


@dataclass(repr=False)
class Dossiers:
    samples: list[Sample]
    filed: list[Filed]
    aborted: list[str]
    by_uscc: dict[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        return f"Dossiers({[s.code for s in self.samples]}, filed={[f.label for f in self.filed]})"

    def of(self, applicant: str) -> list[Filed]:
        return [f for f in self.filed if f.applicant == applicant]


# ---------------------------------------------------------------------------------- filing cases
def _last(client: Any) -> Any:
    exchanges = client.evidence.exchanges
    return exchanges[-1] if exchanges else None


def _snap(desk: Desk, filed: Filed, moment: str) -> None:
    r = desk.dossier(filed.case.case_no)
    filed.ex[moment] = _last(desk.harness)
    view = data_of(r) if r.status == 200 else None
    filed.snapshots[moment] = (r.status, view if isinstance(view, dict) else None, filed.case.view.get("dossierCode"))


def _file_case(
    walker: Walker,
    label: str,
    applicant_key: str,
    applicant: dict[str, Any],
    rng: random.Random,
    *,
    granted: bool,
    corrected: bool = False,
    returned: bool = False,
    pause_before_archive: float = 0.0,
    channel: str = "online",
) -> Filed:
    case = walker.open(rng.choice(sorted(items())), applicant, rng=rng, channel=channel)
    filed = Filed(label, applicant_key, case, granted, corrected, returned)
    if corrected:
        walker.perform(case, "accept", "correction", "accept")
        walker.resubmit(case)
    plan = [  # (step, outcome, the moment the dossier is read after it)
        ("accept", "accepted", None),
        ("review", "passed" if granted else "failed", None),
        ("decide", "granted" if granted else "refused", None),
        *([("certify", "certified", None), ("issue", "issued", None)] if granted else []),
        ("conclude", "concluded", "concluded"),
        *([("pre-archive", "returned", "returned"), ("conclude", "concluded", None)] if returned else []),
        ("pre-archive", "passed", "catalogued"),
        ("archive", "archived", "archived"),
    ]
    for step, outcome, moment in plan:
        if step == "archive" and pause_before_archive:
            time.sleep(pause_before_archive)
        data = walker.perform(case, step, outcome, allowed_roles(step, outcome)[0])
        if step == "decide":
            filed.decided_at = when((data.get("history") or [{}])[-1].get("at"))
        if step == "archive":
            filed.archived_at = when((data.get("history") or [{}])[-1].get("at"))
        if moment:
            _snap(walker.desk, filed, moment)
    return filed


def _absolute(client: Any, ref: Any) -> str | None:
    if not isinstance(ref, str) or not ref:
        return None
    if ref.startswith(("http://", "https://")):
        return ref
    if ref.startswith("/"):
        return client.base_url + ref
    return urljoin(client.base_url + "/", ref)


def _fetch(client: Any, url: str | None, **kw: Any) -> Any:
    """GET a URL the target handed out; the token goes only to the target's own origin."""
    if url is None:
        return None
    same = urlsplit(url)[:2] == urlsplit(client.base_url)[:2]
    return client.get(url, auth=same, **kw)


#: The stored forms of the metadata (§9.3.2 "*.txt或XML"): form → (the dossier's address of it, the canonical path's end).
METADATA_FORMS = {"xml": ("metadataXmlUrl", "metadata.xml"), "txt": ("metadataTxtUrl", "metadata.txt")}


def _metadata_forms(client: Any, sample: Sample) -> None:
    """Read the metadata in the forms the dossier names by their addresses; when it names none, try both canonical
    paths (a form the system does not store answers 404 there)."""
    code = sample.code
    named = tuple(form for form, (key, _) in METADATA_FORMS.items() if sample.dossier.get(key))
    sample.named = named
    for form, (key, path) in METADATA_FORMS.items():
        url = _absolute(client, sample.dossier.get(key))
        if url is None and not named and code:
            url = f"{client.base_url}/api/v1/dossiers/{quote(code)}/{path}"
        r = _fetch(client, url)
        if r is not None:
            body = (_declared_text(r) if form == "txt" else r.content) if r.status == 200 else b""
            setattr(sample, form, (r.status, body))
            sample.ex[form] = _last(client)


#: encodings a text answer may declare besides UTF-8: the national character set (GB 18030 and its subset GBK)
DECLARED_CHARSETS = {"gb18030": "gb18030", "gbk": "gb18030", "gb2312": "gb18030"}


def _declared_text(r: Any) -> bytes:
    """A text form as UTF-8: one served with ``charset=GB18030`` (or GBK, GB2312) declared in its Content-Type is
    read in that encoding, since HTTP says how to read it; undeclared or UTF-8 bytes are judged as they are."""
    charset = (r.header("Content-Type") or "").lower().partition("charset=")[2].split(";")[0].strip(" \"'")
    codec = DECLARED_CHARSETS.get(charset)
    if codec is None:
        return r.content
    try:
        return r.content.decode(codec).encode("utf-8")
    except UnicodeDecodeError:
        return r.content  # not what it declares: judged as sent


def _complete(client: Any, sample: Sample) -> Sample:
    code = sample.code
    valid_code = bool(CODE.fullmatch(code))
    _metadata_forms(client, sample)
    for f in sample.dossier.get("files") or []:
        if isinstance(f, dict) and isinstance(f.get("fileName"), str):
            r = _fetch(client, _absolute(client, f.get("url")))
            sample.files[f["fileName"]] = (
                (r.status, r.content if r.status == 200 else b"") if r is not None else (None, b"")
            )
            if r is not None:
                sample.ex[f"file:{f['fileName']}"] = _last(client)
    if valid_code:
        sample.by_code = client.get(f"/api/v1/dossiers/{quote(code)}")
        sample.ex["by_code"] = _last(client)
        r = client.get(f"/api/v1/dossiers/{quote(code)}/register.xml")
        sample.register = (r.status, r.content if r.status == 200 else b"")
        sample.ex["register"] = _last(client)
    ref = _absolute(client, sample.dossier.get("referenceUrl"))
    sample.reference = [_fetch(client, ref), client.get(ref, auth=False) if ref else None]
    if ref:
        sample.ex["ref"], sample.ex["ref-anonymous"] = client.evidence.exchanges[-2:]
    if sample.filed is not None:
        sample.by_case = client.get("/api/v1/dossiers", params={"caseNo": sample.filed.case.case_no})
        sample.ex["by_case"] = _last(client)
    return sample


def _profile(target: Any) -> str:
    return target.profile if target.profile in SAMPLE_SIZE else "quick"


@pytest.fixture(scope="module")
def dossiers(tzsb_client: Any, tzsb_target: Any) -> Dossiers:
    """The dossiers under test: filed by the suite through the driver, else found through the query interface."""
    desk = Desk(tzsb_client)
    client = desk.harness
    profile = _profile(tzsb_target)
    if DRIVER not in tzsb_target.features:
        r = client.get("/api/v1/dossiers", params={"page": 1, "size": SAMPLE_SIZE[profile]})
        page = data_of(r)
        found = page.get("items") if isinstance(page, dict) else None
        if r.status != 200 or not isinstance(found, list):
            pytest.fail(f"电子卷宗检索失败：{brief(r)}")
        if not found:
            pytest.skip("未测：目标未声明流程驱动接口，且卷宗调用接口中没有电子卷宗")
        listing = _last(client)
        return Dossiers(
            [_complete(client, Sample(d, ex={"view": listing})) for d in found if isinstance(d, dict)], [], []
        )
    desk.all_officers()
    walker = Walker(desk, Findings(), authority_of(tzsb_target))
    rng = random.Random(secrets.randbits(32))
    with_return = PRE_ARCHIVE_RETURN in tzsb_target.features
    a, b = new_applicant(rng), new_applicant(rng)
    plan = [
        ("A1", "A", a, {"granted": True, "corrected": True}),
        ("A2", "A", a, {"granted": False}),
        ("A3", "A", a, {"granted": True, "returned": with_return, "pause_before_archive": ARCHIVE_PAUSE[profile]}),
        ("B1", "B", b, {"granted": True, "channel": "offline"}),
    ]
    filed: list[Filed] = []
    aborted: list[str] = []
    for label, key, applicant, how in plan:
        try:
            filed.append(_file_case(walker, label, key, applicant, rng, **how))
        except Violation as exc:
            aborted.append(f"办件 {label} 未能走到归档：{exc.detail[:300]}")
    samples = []
    for f in filed:
        r = desk.dossier(f.case.case_no)
        view = data_of(r)
        if r.status == 200 and isinstance(view, dict):
            samples.append(_complete(client, Sample(view, f, ex={"view": _last(client)})))
        else:
            aborted.append(f"办件 {f.label}（{f.case.case_no}）归档后查不到电子卷宗：{brief(r)}")
    out = Dossiers(samples, filed, aborted)
    for key, applicant in (("A", a), ("B", b)):
        out.by_uscc[key] = client.get("/api/v1/dossiers", params={"uscc": applicant["idNumber"], "page": 1, "size": 50})
    return out


def _judge(
    problems: list[str],
    checked: int,
    what: str,
    dossiers: Dossiers,
    request: pytest.FixtureRequest,
    kinds: tuple[str, ...] = ("view",),
) -> None:
    """Fail with the problems (the exchanges of the dossiers they name become this test's evidence, with a curl);
    skip (未测) when nothing could be checked."""
    if problems:
        linked = []
        for s in dossiers.samples:
            names = [s.code, *s.files, *([s.filed.case.case_no, f"办件 {s.filed.label}"] if s.filed else [])]
            if any(n and n in p for p in problems for n in names):
                linked += [x for x in s.evidence(kinds) if x is not None]
        for x in linked:
            x.test = request.node.nodeid
        curl = f"\n重现（curl）：{linked[0].curl()}" if linked else ""
        raise AssertionError("\n".join(problems[:40]) + curl)
    if not checked:
        why = "；".join(dossiers.aborted[:3])
        pytest.skip(f"未测：没有可检验{what}的电子卷宗" + (f"（{why}）" if why else ""))


def _need_filed(dossiers: Dossiers) -> list[Sample]:
    return [s for s in dossiers.samples if s.filed is not None]


def _coded(samples: list[Sample]) -> list[Sample]:
    """The samples whose code is 42 digits and capital letters (those the query interface can be asked for)."""
    return [s for s in samples if CODE.fullmatch(s.code)]


def _codes_in(r: Any) -> list[Any] | None:
    """The dossier codes of a dossier query's page (None: no page)."""
    page = data_of(r) if r is not None else None
    return (
        [d.get("dossierCode") for d in page.get("items", []) if isinstance(d, dict)] if isinstance(page, dict) else None
    )


# ---------------------------------------------------------------------------------- §9.2 the code
def _code_problems(s: Sample, part: str) -> list[str]:
    code = s.code
    f = s.filed
    app = f.case.application if f else None
    m = s.metadata
    out: list[str] = []
    if part == "length":
        if len(code) != 42:
            res = check("dossier-code", code, mode="issued")
            out.append(f"卷宗编码 {code} 为 {len(code)} 位：{res.reason('zh')}")
    elif part == "category":
        cat, _item = code_lists.use_registration()
        if code[:2] != cat:
            known = "、".join(f"{k} {v['name']}" for k, v in code_lists.licence_categories().items())
            out.append(f"卷宗编码 {code} 的许可类别代码 {code[:2]!r} 应为 {cat}（表3：{known}）")
    elif part == "item":
        _cat, item = code_lists.use_registration()
        if code[2:10] != item:
            out.append(f"卷宗编码 {code} 的许可事项代码 {code[2:10]!r} 应为 {item}（SG 6-2021）")
    elif part == "division":
        div = code[10:16]
        res = check("division", div, mode="issued")
        if not res.ok:
            out.append(f"卷宗编码 {code} 的行政区划代码 {div!r} 不符合 GB/T 2260：{res.reason('zh')}")
        if m.get("authorityDivision") not in (None, div):
            out.append(
                f"卷宗编码 {code} 的行政区划代码 {div} 与元数据的许可机关行政区划 {m.get('authorityDivision')} 不一致"
            )
        if app and div != app["authority"]["division"]:
            out.append(
                f"卷宗编码 {code} 的行政区划代码 {div} 不是许可机关 {app['authority']['name']} 的 {app['authority']['division']}"
            )
    elif part == "uscc":
        unit = code[16:-8] if len(code) > 24 else ""
        res = check("uscc", unit, mode="issued")
        if len(unit) != 18 or not res.ok:
            out.append(
                f"卷宗编码 {code} 中的统一社会信用代码部分 {unit!r}（{len(unit)} 位）不是有效的18位代码：{res.reason('zh')}"
            )
        if m.get("uscc") not in (None, unit):
            out.append(f"卷宗编码 {code} 中的统一社会信用代码 {unit} 与元数据的 {m.get('uscc')} 不一致")
        if app and unit != app["applicant"]["idNumber"]:
            out.append(f"卷宗编码 {code} 中的统一社会信用代码 {unit!r} 不是行政相对人的 {app['applicant']['idNumber']}")
    elif part == "year":
        year = code[-8:-4]
        if not (year.isascii() and year.isdigit() and 1950 <= int(year) <= dt.date.today().year):
            out.append(f"卷宗编码 {code} 的创建年份 {year!r} 不是不晚于今年的4位年份")
    elif part == "decision-year" and f and f.decided_at and code[-8:-4] != f"{f.decided_at.year:04d}":
        out.append(f"卷宗编码 {code} 的创建年份 {code[-8:-4]} 不是许可决定的年份 {f.decided_at.year}")
    return out


CODE_PARTS = [
    ("length", ("DB42.9.2.2",)),
    ("category", ("DB42.9.2.3", "DB42.9.2.4")),
    ("item", ("DB42.9.2.5",)),
    ("division", ("DB42.9.2.6",)),
    ("uscc", ("DB42.9.2.8",)),
    ("year", ("DB42.9.2.9",)),
]


@pytest.mark.parametrize("part", [pytest.param(p, marks=pytest.mark.clause(*cs), id=p) for p, cs in CODE_PARTS])
def test_dossier_code_part(part: str, dossiers: Dossiers, request: pytest.FixtureRequest) -> None:
    """卷宗编码（§9.2）的各部分：42位（各部分之和；标准正文写34位）；许可类别 05（表3）；许可事项 01100000；
    许可机关行政区划（GB/T 2260，与元数据、办件一致）；行政相对人统一社会信用代码（GB 32100，与办件一致）；创建年份。

    前置条件：以 [credentials] 访问。目标声明流程驱动特性 workflow-driver 时，本工具自行生成卷宗（需每个岗位的客户端
    [clients.officer-<岗位>]，缺少时未测）：新相对人 A 依次归档三件（A1：补齐补正并再次推送后准予许可；A2：不予许可；
    A3：准予许可，声明 pre-archive-return 时经预归档退回与再次办结，standard 与 certification 档归档前暂停 2.1 秒），
    新相对人 B 归档一件线下申请（B1，准予许可）；未声明时取卷宗调用接口检索到的第一页卷宗（quick 3 个、standard 10、
    certification 50），检索失败时报错，没有卷宗时未测；没有可检验本项的卷宗或文件时未测。
    测试步骤：
    1. 取得卷宗：声明 workflow-driver 时按计划推送申请（pushApplication）并由各岗位执行步骤（performStep）直至归档，再
       查询各办件的卷宗（getCaseDossier）；否则检索卷宗调用接口（queryDossiers，page=1）；
    2. 按 §9.2 从两端拆分每个卷宗的编码（dossierCode），核对参数所指的部分。
    预期结果：length：编码为 42 位；category：前 2 位为使用登记的许可类别代码（表3）；item：第 3–10 位为许可事项代码
    01100000；division：第 11–16 位为有效的 GB/T 2260 区划代码，与元数据的许可机关行政区划（有时）一致，自行生成的卷宗
    还等于受理机关的区划；uscc：区划之后、末 8 位之前为有效的 18 位统一社会信用代码，与元数据的 uscc（有时）一致，自行
    生成的卷宗还等于申请人的代码；year：倒数第 8–5 位为 1950 年至今年的 4 位年份。
    """
    problems = [p for s in dossiers.samples for p in _code_problems(s, part)]
    _judge(problems, len(dossiers.samples), "卷宗编码", dossiers, request, ("view",))


@driver
@pytest.mark.clause("DB42.9.2.10")
def test_dossier_code_year_is_the_decision_year(dossiers: Dossiers, request: pytest.FixtureRequest) -> None:
    """卷宗编码的创建年份宜取第一次许可决定的年份。

    前置条件：目标声明流程驱动特性 workflow-driver（未声明时未测），目标文件有每个岗位的客户端
    [clients.officer-<岗位>]（缺少时未测），以 [credentials] 推送与查询；本工具自行生成卷宗：新相对人 A 依次归档三件
    （A1：补齐补正并再次推送后准予许可；A2：不予许可；A3：准予许可，声明 pre-archive-return 时经预归档退回与再次办结，
    standard 与 certification 档归档前暂停 2.1 秒），新相对人 B 归档一件线下申请（B1，准予许可）；办件未能走到归档或归
    档后查不到卷宗时，该件不参与判定，没有可判定的办件时未测。
    测试步骤：
    1. 按计划推送申请（pushApplication）并由各岗位执行步骤（performStep）直至归档，办结、预归档退回、预归档通过（编
       目）与归档之后各查询一次该办件的卷宗（getCaseDossier）；
    2. 归档后再查询各办件的卷宗（getCaseDossier）；
    3. 取每件卷宗编码的创建年份，与决定步骤办理记录时间的年份比较。
    预期结果：每件（有决定时间）卷宗编码倒数第 8–5 位等于其决定步骤办理时间的年份。
    """
    samples = [s for s in _need_filed(dossiers) if s.filed and s.filed.decided_at]
    problems = [p for s in samples for p in _code_problems(s, "decision-year")]
    _judge(problems, len(samples), "创建年份", dossiers, request)


@driver
@pytest.mark.clause("DB42.9.2.11")
def test_sequence_numbers_run_from_0001_per_applicant_and_year(
    dossiers: Dossiers, request: pytest.FixtureRequest
) -> None:
    """同一行政相对人、同一年份内的卷宗序列号从 0001 起依次编号：新相对人 A 的三个卷宗为 0001、0002、0003，B 的为 0001。

    前置条件：目标声明流程驱动特性 workflow-driver（未声明时未测），目标文件有每个岗位的客户端
    [clients.officer-<岗位>]（缺少时未测），以 [credentials] 推送与查询；本工具自行生成卷宗：新相对人 A 依次归档三件
    （A1：补齐补正并再次推送后准予许可；A2：不予许可；A3：准予许可，声明 pre-archive-return 时经预归档退回与再次办结，
    standard 与 certification 档归档前暂停 2.1 秒），新相对人 B 归档一件线下申请（B1，准予许可）；办件未能走到归档或归
    档后查不到卷宗时，该件不参与判定，没有可判定的办件时未测。
    测试步骤：
    1. 按计划推送申请（pushApplication）并由各岗位执行步骤（performStep）直至归档，办结、预归档退回、预归档通过（编
       目）与归档之后各查询一次该办件的卷宗（getCaseDossier）；
    2. 归档后再查询各办件的卷宗（getCaseDossier）；
    3. 按相对人分组，依归档顺序取卷宗编码的末 4 位。
    预期结果：A 的三件卷宗序列号依次为 0001、0002、0003，B 的为 0001（某相对人的办件未全部取得卷宗时不判定该相对人）。
    """
    problems, checked = [], 0
    for key in ("A", "B"):
        samples = [s for s in _need_filed(dossiers) if s.filed and s.filed.applicant == key]
        if len(samples) != len(dossiers.of(key)) or not samples:
            continue
        checked += 1
        got = [s.code[-4:] for s in samples]
        want = [f"{n:04d}" for n in range(1, len(samples) + 1)]
        if got != want:
            problems.append(
                f"新行政相对人 {key}（{samples[0].filed.case.application['applicant']['idNumber']}）依次归档的卷宗"  # type: ignore[union-attr]
                f"序列号为 {got}，应为 {want}（卷宗编码 {[s.code for s in samples]}）"
            )
    _judge(problems, checked, "序列号", dossiers, request, ("view",))


@pytest.mark.clause("DB42.9.2.1")
def test_dossier_codes_are_unique(dossiers: Dossiers, request: pytest.FixtureRequest) -> None:
    """系统内任意两个卷宗的编码不同（按行政相对人检索到的卷宗也各不相同）。

    前置条件：以 [credentials] 访问。目标声明流程驱动特性 workflow-driver 时，本工具自行生成卷宗（需每个岗位的客户端
    [clients.officer-<岗位>]，缺少时未测）：新相对人 A 依次归档三件（A1：补齐补正并再次推送后准予许可；A2：不予许可；
    A3：准予许可，声明 pre-archive-return 时经预归档退回与再次办结，standard 与 certification 档归档前暂停 2.1 秒），
    新相对人 B 归档一件线下申请（B1，准予许可）；未声明时取卷宗调用接口检索到的第一页卷宗（quick 3 个、standard 10、
    certification 50），检索失败时报错，没有卷宗时未测；没有可检验本项的卷宗或文件时未测。
    测试步骤：
    1. 取得卷宗：声明 workflow-driver 时按计划推送申请（pushApplication）并由各岗位执行步骤（performStep）直至归档，再
       查询各办件的卷宗（getCaseDossier）；否则检索卷宗调用接口（queryDossiers，page=1）；
    2. 声明 workflow-driver 时，再分别以 A、B 的统一社会信用代码检索卷宗（queryDossiers，uscc）；
    3. 比较各卷宗的编码。
    预期结果：所取卷宗的编码两两不同；按相对人检索到的每一页中，卷宗编码不重复。
    """
    codes = [s.code for s in dossiers.samples]
    problems = [f"卷宗编码 {c} 被 {codes.count(c)} 个卷宗使用" for c in sorted(set(codes)) if codes.count(c) > 1]
    for key, r in dossiers.by_uscc.items():
        found = _codes_in(r) or []
        problems += [
            f"按相对人 {key} 检索到的卷宗编码 {c} 出现 {found.count(c)} 次"
            for c in sorted(set(found))
            if found.count(c) > 1
        ]
    _judge(problems, len(codes), "编码唯一性", dossiers, request, ("view",))


@driver
@pytest.mark.clause("DB42.7.5.3.2")
def test_one_number_per_dossier_that_never_changes(dossiers: Dossiers, request: pytest.FixtureRequest) -> None:
    """一卷一档：卷宗编号分配后不再变化（办结、退回、编目、归档各时点、办件状态和元数据中相同），不同卷宗编号不同。

    前置条件：目标声明流程驱动特性 workflow-driver（未声明时未测），目标文件有每个岗位的客户端
    [clients.officer-<岗位>]（缺少时未测），以 [credentials] 推送与查询；本工具自行生成卷宗：新相对人 A 依次归档三件
    （A1：补齐补正并再次推送后准予许可；A2：不予许可；A3：准予许可，声明 pre-archive-return 时经预归档退回与再次办结，
    standard 与 certification 档归档前暂停 2.1 秒），新相对人 B 归档一件线下申请（B1，准予许可）；办件未能走到归档或归
    档后查不到卷宗时，该件不参与判定，没有可判定的办件时未测。
    测试步骤：
    1. 按计划推送申请（pushApplication）并由各岗位执行步骤（performStep）直至归档，办结、预归档退回、预归档通过（编
       目）与归档之后各查询一次该办件的卷宗（getCaseDossier）；
    2. 归档后再查询各办件的卷宗（getCaseDossier）；
    3. 收集每件在各时点的卷宗编号、当时办件状态中的卷宗编号、归档后卷宗与其元数据中的编号。
    预期结果：各时点查询到的卷宗都有编号；每件收集到的编号（有值者）全部相同；不同办件的卷宗编号不同。
    """
    problems, checked = [], 0
    for s in _need_filed(dossiers):
        f = s.filed
        assert f is not None
        seen = {s.code, s.metadata.get("dossierCode")}
        for moment, (_status, view, state_code) in f.snapshots.items():
            seen |= {view.get("dossierCode") if view else None, state_code}
            if view and view.get("dossierCode") is None:
                problems.append(f"办件 {f.label} 在“{moment}”时的卷宗没有编号")
        seen.discard(None)
        checked += 1
        if len(seen) != 1:
            problems.append(f"办件 {f.label}（{f.case.case_no}）的卷宗编号前后不一：{sorted(seen)}")
    codes = [s.code for s in _need_filed(dossiers)]
    if len(set(codes)) != len(codes):
        problems.append(f"不同办件的卷宗编号相同：{codes}")
    _judge(problems, checked, "卷宗编号", dossiers, request, ("view", "snapshots"))


@driver
@pytest.mark.clause("DB42.7.5.3.1")
def test_the_number_is_given_on_entering_pre_archive(dossiers: Dossiers, request: pytest.FixtureRequest) -> None:
    """进入预归档后分配卷宗编号：至迟在预归档审阅通过（编目）时卷宗已有编号（§7.5.3 与 §7.5.4 的先后不一，二者均接受）。

    前置条件：目标声明流程驱动特性 workflow-driver（未声明时未测），目标文件有每个岗位的客户端
    [clients.officer-<岗位>]（缺少时未测），以 [credentials] 推送与查询；本工具自行生成卷宗：新相对人 A 依次归档三件
    （A1：补齐补正并再次推送后准予许可；A2：不予许可；A3：准予许可，声明 pre-archive-return 时经预归档退回与再次办结，
    standard 与 certification 档归档前暂停 2.1 秒），新相对人 B 归档一件线下申请（B1，准予许可）；办件未能走到归档或归
    档后查不到卷宗时，该件不参与判定，没有可判定的办件时未测。
    测试步骤：
    1. 按计划推送申请（pushApplication）并由各岗位执行步骤（performStep）直至归档，办结、预归档退回、预归档通过（编
       目）与归档之后各查询一次该办件的卷宗（getCaseDossier）；
    2. 取每件预归档通过（编目）之后的卷宗与办件状态。
    预期结果：每件预归档通过后，查询到的卷宗或办件状态中已有卷宗编号。
    """
    problems = []
    for f in dossiers.filed:
        status, view, state_code = f.snapshots.get("catalogued", (None, None, None))
        if not ((view or {}).get("dossierCode") or state_code):
            problems.append(f"办件 {f.label}（{f.case.case_no}）预归档通过后仍没有卷宗编号（卷宗查询 HTTP {status}）")
    _judge(problems, len(dossiers.filed), "编号分配", dossiers, request, ("snapshots",))


# ---------------------------------------------------------------------------------- §7.5 pre-archive and archive
@driver
@pytest.mark.clause("DB42.7.5.2.2", "DB42.7.5.6.a1.1", "DB42.7.5.5.a.1", "DB42.4.6.1")
def test_conclusion_opens_the_pre_archive(dossiers: Dossiers, request: pytest.FixtureRequest) -> None:
    """办结是预归档的标志环节：办结之后即可查到办件的电子卷宗（拟成卷或已成卷），其中已有决定环节的文件（随办随归）。

    前置条件：目标声明流程驱动特性 workflow-driver（未声明时未测），目标文件有每个岗位的客户端
    [clients.officer-<岗位>]（缺少时未测），以 [credentials] 推送与查询；本工具自行生成卷宗：新相对人 A 依次归档三件
    （A1：补齐补正并再次推送后准予许可；A2：不予许可；A3：准予许可，声明 pre-archive-return 时经预归档退回与再次办结，
    standard 与 certification 档归档前暂停 2.1 秒），新相对人 B 归档一件线下申请（B1，准予许可）；办件未能走到归档或归
    档后查不到卷宗时，该件不参与判定，没有可判定的办件时未测。
    测试步骤：
    1. 按计划推送申请（pushApplication）并由各岗位执行步骤（performStep）直至归档，办结、预归档退回、预归档通过（编
       目）与归档之后各查询一次该办件的卷宗（getCaseDossier）；
    2. 取每件办结之后查询到的卷宗。
    预期结果：每件办结后 getCaseDossier 返回 200 与卷宗，成卷状态为“拟成卷”或“已成卷”，其中有决定环节（stage 为决定）
    的文件。
    """
    problems = []
    for f in dossiers.filed:
        status, view, _ = f.snapshots.get("concluded", (None, None, None))
        if status != 200 or not view:
            problems.append(f"办件 {f.label}（{f.case.case_no}）办结后查不到电子卷宗（HTTP {status}）")
            continue
        if view.get("status") not in ("拟成卷", "已成卷"):
            problems.append(f"办件 {f.label} 办结后卷宗状态为 {view.get('status')!r}，应为拟成卷或已成卷")
        if not any(isinstance(x, dict) and x.get("stage") == "决定" for x in view.get("files") or []):
            problems.append(f"办件 {f.label} 办结后卷宗中没有决定环节的文件")
    _judge(problems, len(dossiers.filed), "预归档", dossiers, request, ("snapshots",))


STATUS_TESTS = [
    ("DB42.7.5.4.1", "catalogued", "已成卷", "预归档审阅通过（编目）"),
    ("DB42.7.5.4.2", "returned", "拟成卷", "预归档退回"),
    ("DB42.7.5.6.b2.1", "archived", "已归档", "归档成功"),
    ("DB42.7.5.6.b3.1", "archived", "已归档", "归档"),
]


def _status_param(cid: str, moment: str, status: str, what: str) -> Any:
    returned = [pytest.mark.feature(PRE_ARCHIVE_RETURN)] if moment == "returned" else []
    return pytest.param(moment, status, what, id=cid, marks=[pytest.mark.clause(cid), *returned])


@driver
@pytest.mark.parametrize(("moment", "status", "what"), [_status_param(*t) for t in STATUS_TESTS])
def test_dossier_status_follows_the_steps(
    moment: str, status: str, what: str, dossiers: Dossiers, request: pytest.FixtureRequest
) -> None:
    """卷宗成卷状态随步骤更新：编目后已成卷，退回后拟成卷（编号不变），归档后标识为已归档。

    前置条件：预归档退回（DB42.7.5.4.2）另需可选特性 pre-archive-return（未声明时不适用）；目标声明流程驱动特性
    workflow-driver（未声明时未测），目标文件有每个岗位的客户端 [clients.officer-<岗位>]（缺少时未测），以
    [credentials] 推送与查询；本工具自行生成卷宗：新相对人 A 依次归档三件（A1：补齐补正并再次推送后准予许可；A2：不予
    许可；A3：准予许可，声明 pre-archive-return 时经预归档退回与再次办结，standard 与 certification 档归档前暂停
    2.1 秒），新相对人 B 归档一件线下申请（B1，准予许可）；办件未能走到归档或归档后查不到卷宗时，该件不参与判定，没有
    可判定的办件时未测。
    测试步骤：
    1. 按计划推送申请（pushApplication）并由各岗位执行步骤（performStep）直至归档，办结、预归档退回、预归档通过（编
       目）与归档之后各查询一次该办件的卷宗（getCaseDossier）；
    2. 取每件在参数所指时点（编目、退回或归档之后）查询到的卷宗。
    预期结果：该时点 getCaseDossier 返回 200，卷宗成卷状态为参数所指的状态：编目后“已成卷”，预归档退回后“拟成卷”，归档
    后“已归档”。
    """
    problems, checked = [], 0
    for f in dossiers.filed:
        if moment not in f.snapshots:
            continue
        checked += 1
        got_status, view, _ = f.snapshots[moment]
        if got_status != 200 or not view or view.get("status") != status:
            problems.append(
                f"办件 {f.label}（{f.case.case_no}）{what}后卷宗状态应为 {status}，实为 "
                f"{(view or {}).get('status')!r}（HTTP {got_status}）"
            )
    _judge(problems, checked, what, dossiers, request, ("snapshots",))


# ---------------------------------------------------------------------------------- §9.1 metadata
def _txt_values(s: Sample) -> dict[str, str] | None:
    """The metadata of the text form as the JSON form's properties (None: no text form, or not readable whole)."""
    body = _stored(s, "txt")
    return parse_text(body)[0] if body is not None else None


def _xml_values(body: bytes) -> dict[str, str] | None:
    ns = load_schema("dossier-metadata").target_namespace
    try:
        root = DefusedET.fromstring(body)
    except Exception:
        return None
    return {el.tag.split("}", 1)[-1]: (el.text or "").strip() for el in root if el.tag.startswith(f"{{{ns}}}")}


def _stored(s: Sample, form: str) -> bytes | None:
    got = getattr(s, form)
    return got[1] if got is not None and got[0] == 200 else None


def _xml_form_problems(s: Sample, body: bytes) -> list[str]:
    ns = load_schema("dossier-metadata").target_namespace
    issues = [i for i in validate_xml(body, "dossier-metadata") if i.layer == "parser"]
    if issues:
        return [f"卷宗 {s.code} 的元数据 XML 无法解析：{issues[0].message_zh}"]
    root = DefusedET.fromstring(body)
    if root.tag != f"{{{ns}}}dossierMetadata":
        return [f"卷宗 {s.code} 的元数据 XML 根元素为 {root.tag}，应为 {{{ns}}}dossierMetadata"]
    return []


def _txt_form_problems(s: Sample, body: bytes) -> list[str]:
    _, issues = parse_text(body)
    return [
        f"卷宗 {s.code} 的元数据 txt 不是规定的 txt 形式：{i.path + '：' if i.path else ''}{i.message_zh}"
        for i in issues[:3]
    ]


@pytest.mark.clause("DB42.9.3.2.1")
def test_metadata_is_stored_as_txt_or_xml(dossiers: Dossiers, request: pytest.FixtureRequest) -> None:
    """元数据以 *.txt 或 XML 形式存放（§9.3.2）：每个卷宗的元数据至少有一种形式可取得，卷宗给出地址的形式都可取得；
    XML 形式是格式良好、无 DTD/实体的 XML，根元素为 dossier-metadata.xsd 的 dossierMetadata；txt 形式符合本项目对 txt 的
    规定（dossier-metadata.schema.json 的 x-text-form：UTF-8，每个表2元素一行、按表2顺序，“元素名称：值”）。

    前置条件：以 [credentials] 访问。目标声明流程驱动特性 workflow-driver 时，本工具自行生成卷宗（需每个岗位的客户端
    [clients.officer-<岗位>]，缺少时未测）：新相对人 A 依次归档三件（A1：补齐补正并再次推送后准予许可；A2：不予许可；
    A3：准予许可，声明 pre-archive-return 时经预归档退回与再次办结，standard 与 certification 档归档前暂停 2.1 秒），
    新相对人 B 归档一件线下申请（B1，准予许可）；未声明时取卷宗调用接口检索到的第一页卷宗（quick 3 个、standard 10、
    certification 50），检索失败时报错，没有卷宗时未测；没有可检验本项的卷宗或文件时未测。
    测试步骤：
    1. 取得卷宗：声明 workflow-driver 时按计划推送申请（pushApplication）并由各岗位执行步骤（performStep）直至归档，再
       查询各办件的卷宗（getCaseDossier）；否则检索卷宗调用接口（queryDossiers，page=1）；
    2. 读取每个卷宗的元数据：卷宗给出 metadataXmlUrl / metadataTxtUrl 时读取所给地址，都未给出时读取
       getDossierMetadataXml 与 getDossierMetadataTxt（txt 声明 GB18030/GBK/GB2312 字符集时按其解码）；
    3. 解析所取得的 XML 与 txt。
    预期结果：卷宗给出地址的元数据形式都返回 200；每个卷宗至少有一种形式可取得；XML 可解析（无 DTD/实体），根元素为
    dossier-metadata.xsd 命名空间的 dossierMetadata；txt 符合 x-text-form 的规定（UTF-8，表2元素每行一个、按序，“元素
    名称：值”）。

    The metadata is stored as text or XML: at least one form is served, every form the dossier names is; the XML is
    well-formed with the schema's root, the text is the project's text form.
    """
    problems = []
    for s in dossiers.samples:
        stored = {form: _stored(s, form) for form in METADATA_FORMS}
        for form in s.named:
            if stored[form] is None:
                got = getattr(s, form)
                problems.append(f"卷宗 {s.code} 给出了元数据 {form} 的地址，但取不到（HTTP {got[0] if got else None}）")
        if not any(body is not None for body in stored.values()):
            problems.append(
                f"卷宗 {s.code} 的元数据既没有 txt 形式也没有 XML 形式可取得 / the metadata is served in neither form"
            )
        if stored["xml"] is not None:
            problems += _xml_form_problems(s, stored["xml"])
        if stored["txt"] is not None:
            problems += _txt_form_problems(s, stored["txt"])
    _judge(problems, len(dossiers.samples), "元数据的 txt / XML 形式", dossiers, request, tuple(METADATA_FORMS))


@pytest.mark.clause("DB42.9.1.1")
def test_metadata_has_the_nine_elements_of_table_2(dossiers: Dossiers, request: pytest.FixtureRequest) -> None:
    """元数据包含表2的9个元素：JSON 形式符合 dossier-metadata.schema.json 的结构，XML 形式通过 dossier-metadata.xsd 校验，
    txt 形式的各值符合 dossier-metadata.schema.json 的结构。

    前置条件：以 [credentials] 访问。目标声明流程驱动特性 workflow-driver 时，本工具自行生成卷宗（需每个岗位的客户端
    [clients.officer-<岗位>]，缺少时未测）：新相对人 A 依次归档三件（A1：补齐补正并再次推送后准予许可；A2：不予许可；
    A3：准予许可，声明 pre-archive-return 时经预归档退回与再次办结，standard 与 certification 档归档前暂停 2.1 秒），
    新相对人 B 归档一件线下申请（B1，准予许可）；未声明时取卷宗调用接口检索到的第一页卷宗（quick 3 个、standard 10、
    certification 50），检索失败时报错，没有卷宗时未测；没有可检验本项的卷宗或文件时未测。
    测试步骤：
    1. 取得卷宗：声明 workflow-driver 时按计划推送申请（pushApplication）并由各岗位执行步骤（performStep）直至归档，再
       查询各办件的卷宗（getCaseDossier）；否则检索卷宗调用接口（queryDossiers，page=1）；
    2. 读取每个卷宗的元数据 XML 与 txt（同上一项）；
    3. 以 dossier-metadata.schema.json 与 dossier-metadata.xsd 校验。
    预期结果：卷宗 metadata（JSON）的结构符合 dossier-metadata.schema.json（卷宗编号本身另判）；取得的 XML 通过
    dossier-metadata.xsd 校验；取得的 txt 的各值结构符合 dossier-metadata.schema.json。
    """
    v = validator("dossier-metadata")
    problems = []
    for s in dossiers.samples:
        # the code itself is judged by §9.2 and T2-7
        shape = {**s.metadata, "dossierCode": "0" * 42} if "dossierCode" in s.metadata else s.metadata
        if not v.structure_valid(shape):
            problems.append(f"卷宗 {s.code} 的元数据（JSON）：{[e.message_zh for e in v.errors(shape)][:4]}")
        if (xml := _stored(s, "xml")) is not None:
            issues = [i for i in validate_xml(xml, "dossier-metadata") if i.layer == "xsd"]
            if issues:
                problems.append(
                    f"卷宗 {s.code} 的元数据 XML 不符合 dossier-metadata.xsd：{[f'{i.path} {i.message_zh}' for i in issues][:4]}"
                )
        values = _txt_values(s)
        if values is not None:
            text_shape = {**values, "dossierCode": "0" * 42} if "dossierCode" in values else values
            if not v.structure_valid(text_shape):
                problems.append(f"卷宗 {s.code} 的元数据 txt：{[e.message_zh for e in v.errors(text_shape)][:4]}")
    _judge(problems, len(dossiers.samples), "元数据", dossiers, request, ("view", *METADATA_FORMS))


def _same(key: str, a: Any, b: Any) -> bool:
    if key in ("createdAt", "updatedAt"):
        ta, tb = when(a), when(b)
        return ta is not None and tb is not None and ta == tb
    return a == b


def _near(t: dt.datetime | None, want: dt.datetime | None) -> bool:
    return t is not None and want is not None and abs(t - want) <= TIME_TOLERANCE


def _element_problems(index: int, s: Sample, dossiers: Dossiers) -> list[str]:
    key, element = _metadata_pairs()[index - 1]
    m = s.metadata
    value = m.get(key)
    out: list[str] = []
    if value in (None, ""):
        return [f"卷宗 {s.code} 的元数据（JSON）缺少 {key}"]
    if (body := _stored(s, "xml")) is not None:
        xml = _xml_values(body) or {}
        if element not in xml:
            out.append(f"卷宗 {s.code} 的元数据 XML 缺少元素 {element}")
        elif not _same(key, xml[element], value):
            out.append(f"卷宗 {s.code} 的元数据 XML 的 {element}={xml[element]!r} 与 JSON 的 {key}={value!r} 不一致")
    text = _txt_values(s)
    if text is not None and not _same(key, text.get(key), value):
        name = text_form().name_of(key)
        out.append(f"卷宗 {s.code} 的元数据 txt 的“{name}”={text.get(key)!r} 与 JSON 的 {key}={value!r} 不一致")
    f = s.filed
    app = f.case.application if f else None
    if key == "category":
        want = contracts.json_schema("dossier-metadata")["properties"]["category"]["const"]
        if value != want:
            out.append(f"卷宗 {s.code} 的类别为 {value!r}，应为 {want}")
    elif key in ("uscc", "authorityUscc"):
        res = check("uscc", str(value), mode="held")
        if not res.ok:
            out.append(f"卷宗 {s.code} 的 {key} {value!r} 不是有效的18位统一社会信用代码：{res.reason('zh')}")
        want = (app["applicant"]["idNumber"] if key == "uscc" else app["authority"]["uscc"]) if app else value
        if value != want:
            out.append(f"卷宗 {s.code} 的 {key} 为 {value}，办件中为 {want}")
    elif key == "unitName":
        if app and value != app["applicant"]["name"]:
            out.append(f"卷宗 {s.code} 的单位名称 {value!r} 不是申请中的 {app['applicant']['name']!r}")
    elif key == "authorityName":
        if app and value != app["authority"]["name"]:
            out.append(f"卷宗 {s.code} 的许可机关 {value!r} 不是受理机关 {app['authority']['name']!r}")
    elif key == "authorityDivision":
        res = check("division", str(value), mode="held")
        if not res.ok:
            out.append(f"卷宗 {s.code} 的许可机关行政区划 {value!r} 不是6位 GB/T 2260 代码：{res.reason('zh')}")
        if app and value != app["authority"]["division"]:
            out.append(f"卷宗 {s.code} 的许可机关行政区划 {value} 不是许可机关的 {app['authority']['division']}")
    elif key == "dossierCode":
        res = check("dossier-code", str(value), mode="issued")
        if value != s.code:
            out.append(f"卷宗 {s.code} 的元数据卷宗编号为 {value!r}")
        elif not res.ok:
            out.append(f"卷宗编号 {value} 不符合 §9.2：{res.reason('zh')}")
    elif key in ("createdAt", "updatedAt"):
        t = when(value)
        if t is None:
            out.append(f"卷宗 {s.code} 的 {key} {value!r} 不是带时区的 GB/T 7408 日期时间")
        elif key == "updatedAt" and when(m.get("createdAt")) is not None and t < when(m.get("createdAt")):  # type: ignore[operator]
            out.append(f"卷宗 {s.code} 的更新时间 {value} 早于创建时间 {m.get('createdAt')}")
        if f and t is not None:
            mine = [x.archived_at for x in dossiers.of(f.applicant) if x.archived_at]
            if len(mine) == len(dossiers.of(f.applicant)) and mine:
                want_t = min(mine) if key == "createdAt" else max(mine)
                if not _near(t, want_t):
                    out.append(
                        f"相对人 {f.applicant} 的卷宗 {s.code}：{'创建时间' if key == 'createdAt' else '更新时间'}为 {value}，"
                        f"应为本单位{'首次' if key == 'createdAt' else '末次'}归档时间 {want_t.isoformat()}"
                    )
    return out


#: The clause of each Table 2 element (序号 1…9).
METADATA_CLAUSES = {
    1: "DB42.9.1.T2-1.1",  # 类别
    2: "DB42.9.1.T2-2.1",  # 统一社会信用代码
    3: "DB42.9.1.T2-3.1",  # 单位名称
    4: "DB42.9.1.T2-4.1",  # 许可机关
    5: "DB42.9.1.T2-5.1",  # 许可机关统一社会信用代码
    6: "DB42.9.1.T2-6.1",  # 许可机关行政区划
    7: "DB42.9.1.T2-7.1",  # 卷宗编号
    8: "DB42.9.1.T2-8.1",  # 创建时间
    9: "DB42.9.1.T2-9.1",  # 更新时间
}


@pytest.mark.parametrize(
    "index", [pytest.param(i, marks=pytest.mark.clause(cid), id=f"T2-{i}") for i, cid in METADATA_CLAUSES.items()]
)
def test_metadata_element(index: int, dossiers: Dossiers, request: pytest.FixtureRequest) -> None:
    """表2的每个元素：类别为特种设备使用登记；相对人与许可机关的统一社会信用代码为有效18位代码；单位名称、许可机关与办件一致；
    行政区划为6位；卷宗编号即卷宗的编码且符合§9.2；创建/更新时间带时区，为本单位首次/末次归档时间；JSON 与 XML、txt 各形式一致。

    前置条件：以 [credentials] 访问。目标声明流程驱动特性 workflow-driver 时，本工具自行生成卷宗（需每个岗位的客户端
    [clients.officer-<岗位>]，缺少时未测）：新相对人 A 依次归档三件（A1：补齐补正并再次推送后准予许可；A2：不予许可；
    A3：准予许可，声明 pre-archive-return 时经预归档退回与再次办结，standard 与 certification 档归档前暂停 2.1 秒），
    新相对人 B 归档一件线下申请（B1，准予许可）；未声明时取卷宗调用接口检索到的第一页卷宗（quick 3 个、standard 10、
    certification 50），检索失败时报错，没有卷宗时未测；没有可检验本项的卷宗或文件时未测。
    测试步骤：
    1. 取得卷宗：声明 workflow-driver 时按计划推送申请（pushApplication）并由各岗位执行步骤（performStep）直至归档，再
       查询各办件的卷宗（getCaseDossier）；否则检索卷宗调用接口（queryDossiers，page=1）；
    2. 读取每个卷宗的元数据 XML 与 txt（同上一项）；
    3. 取参数所指的表2元素，比较各形式并核对其值。
    预期结果：JSON 元数据中该元素非空，XML 中有该元素、txt 中有该项，值与 JSON 相同（时间按时刻比较）；按元素：类别为
    schema 规定的常量；相对人与许可机关统一社会信用代码为有效 18 位代码；行政区划为有效 6 位 GB/T 2260 代码；卷宗编号
    即卷宗编码且符合 §9.2；创建/更新时间为带时区的 GB/T 7408 日期时间，更新不早于创建；自行生成的卷宗还要求相对人代码
    与名称、许可机关名称、代码与区划与申请一致，创建/更新时间与同一相对人首次/末次归档时间相差不超过 1 秒。
    """
    problems = [p for s in dossiers.samples for p in _element_problems(index, s, dossiers)]
    _judge(problems, len(dossiers.samples), "元数据元素", dossiers, request, ("view", *METADATA_FORMS))


# ---------------------------------------------------------------------------------- §9.3 files
def _sniff(body: bytes) -> str | None:
    if body.startswith(b"PK\x03\x04"):
        return "OFD"
    if body.startswith(b"%PDF-"):
        return "PDF"
    return None


def _files(s: Sample) -> list[dict[str, Any]]:
    return [f for f in s.dossier.get("files") or [] if isinstance(f, dict)]


@pytest.mark.clause("DB42.9.3.1.1")
def test_content_files_are_named_dossier_number_stage_sequence(
    dossiers: Dossiers, request: pytest.FixtureRequest
) -> None:
    """内容数据按“卷宗号+许可环节_顺序号”命名（§9.3.1）：卷宗编码、环节名称（申请/受理/审批/决定，或环节代码）、下划线、数字顺序号，
    环节与文件所属环节一致，同一环节内顺序号不重复。

    前置条件：以 [credentials] 访问。目标声明流程驱动特性 workflow-driver 时，本工具自行生成卷宗（需每个岗位的客户端
    [clients.officer-<岗位>]，缺少时未测）：新相对人 A 依次归档三件（A1：补齐补正并再次推送后准予许可；A2：不予许可；
    A3：准予许可，声明 pre-archive-return 时经预归档退回与再次办结，standard 与 certification 档归档前暂停 2.1 秒），
    新相对人 B 归档一件线下申请（B1，准予许可）；未声明时取卷宗调用接口检索到的第一页卷宗（quick 3 个、standard 10、
    certification 50），检索失败时报错，没有卷宗时未测；没有可检验本项的卷宗或文件时未测。
    测试步骤：
    1. 取得卷宗：声明 workflow-driver 时按计划推送申请（pushApplication）并由各岗位执行步骤（performStep）直至归档，再
       查询各办件的卷宗（getCaseDossier）；否则检索卷宗调用接口（queryDossiers，page=1）；
    2. 以“卷宗编码 + 环节名称或环节代码 + _ + 数字顺序号（可带 .ofd/.pdf）”匹配每个文件的 fileName。
    预期结果：每个文件名都匹配；名称中的环节名称与文件的 stage 一致；同一卷宗内没有环节与顺序号都相同的两个文件。
    """
    problems, checked = [], 0
    stage_words = "|".join(map(re.escape, _parts() + _stage_codes()))
    for s in dossiers.samples:
        pattern = re.compile(rf"{re.escape(s.code)}({stage_words})_(\d+)(\.(ofd|pdf))?", re.I)
        seen: dict[tuple[str, int], str] = {}
        for f in _files(s):
            checked += 1
            name = str(f.get("fileName"))
            m = pattern.fullmatch(name)
            if m is None:
                problems.append(f"卷宗 {s.code} 的文件名 {name!r} 不是“卷宗号+许可环节_顺序号”")
                continue
            if m.group(1) != f.get("stage") and m.group(1) in _parts():
                problems.append(f"文件 {name} 名称中的环节 {m.group(1)} 与其所属环节 {f.get('stage')} 不一致")
            key = (m.group(1), int(m.group(2)))
            if key in seen:
                problems.append(f"卷宗 {s.code} 中 {seen[key]} 与 {name} 的环节和顺序号相同")
            seen[key] = name
    _judge(problems, checked, "卷宗文件", dossiers, request, ("view", "file"))


@pytest.mark.clause("DB42.9.3.3.1", "DB42.10.2.T5-16.3")
def test_content_files_are_ofd_or_pdf(dossiers: Dossiers, request: pytest.FixtureRequest) -> None:
    """卷宗文件以 OFD 或 PDF 存储（表4），下载内容的类型与标称格式一致；归档的是版式文件，不是缩略图（T5-16 注）。

    前置条件：以 [credentials] 访问。目标声明流程驱动特性 workflow-driver 时，本工具自行生成卷宗（需每个岗位的客户端
    [clients.officer-<岗位>]，缺少时未测）：新相对人 A 依次归档三件（A1：补齐补正并再次推送后准予许可；A2：不予许可；
    A3：准予许可，声明 pre-archive-return 时经预归档退回与再次办结，standard 与 certification 档归档前暂停 2.1 秒），
    新相对人 B 归档一件线下申请（B1，准予许可）；未声明时取卷宗调用接口检索到的第一页卷宗（quick 3 个、standard 10、
    certification 50），检索失败时报错，没有卷宗时未测；没有可检验本项的卷宗或文件时未测。
    测试步骤：
    1. 取得卷宗：声明 workflow-driver 时按计划推送申请（pushApplication）并由各岗位执行步骤（performStep）直至归档，再
       查询各办件的卷宗（getCaseDossier）；否则检索卷宗调用接口（queryDossiers，page=1）；
    2. 下载每个卷宗的每个文件（getDossierFile 或卷宗给出的 url）；
    3. 按文件头识别下载内容的格式。
    预期结果：每个文件标称的 format 为 OFD 或 PDF；下载成功（200）的文件内容与标称一致（OFD 为 ZIP 包，PDF 以 %PDF- 开
    头）。
    """
    problems, checked = [], 0
    for s in dossiers.samples:
        for f in _files(s):
            status, body = s.files.get(str(f.get("fileName")), (None, b""))
            if f.get("format") not in ("OFD", "PDF"):
                problems.append(f"文件 {f.get('fileName')} 的格式为 {f.get('format')!r}，应为 OFD 或 PDF")
            if status != 200:
                continue
            checked += 1
            if _sniff(body) != f.get("format"):
                problems.append(f"文件 {f.get('fileName')} 标称 {f.get('format')}，内容为 {_sniff(body) or '未知格式'}")
    _judge(problems, checked, "文件格式", dossiers, request, ("view", "file"))


@pytest.mark.clause("DB42.9.3.3.2")
def test_ofd_is_the_default_format(dossiers: Dossiers, request: pytest.FixtureRequest) -> None:
    """电子卷宗存储默认生成 OFD（注；PDF 为特殊需要时的格式）：卷宗文件不应全部为 PDF。

    前置条件：以 [credentials] 访问。目标声明流程驱动特性 workflow-driver 时，本工具自行生成卷宗（需每个岗位的客户端
    [clients.officer-<岗位>]，缺少时未测）：新相对人 A 依次归档三件（A1：补齐补正并再次推送后准予许可；A2：不予许可；
    A3：准予许可，声明 pre-archive-return 时经预归档退回与再次办结，standard 与 certification 档归档前暂停 2.1 秒），
    新相对人 B 归档一件线下申请（B1，准予许可）；未声明时取卷宗调用接口检索到的第一页卷宗（quick 3 个、standard 10、
    certification 50），检索失败时报错，没有卷宗时未测；没有可检验本项的卷宗或文件时未测。
    测试步骤：
    1. 取得卷宗：声明 workflow-driver 时按计划推送申请（pushApplication）并由各岗位执行步骤（performStep）直至归档，再
       查询各办件的卷宗（getCaseDossier）；否则检索卷宗调用接口（queryDossiers，page=1）；
    2. 取每个卷宗文件清单中的格式（format）。
    预期结果：每个有文件的卷宗至少有一个 OFD 文件。
    """
    problems, checked = [], 0
    for s in dossiers.samples:
        formats = [f.get("format") for f in _files(s)]
        if formats:
            checked += 1
            if "OFD" not in formats:
                problems.append(
                    f"卷宗 {s.code} 的 {len(formats)} 个文件全部为 {sorted(set(map(str, formats)))}，没有 OFD"
                )
    _judge(problems, checked, "文件格式", dossiers, request, ("view", "file"))


@pytest.mark.clause("DB42.9.3.3.3")
def test_ofd_and_pdf_files_have_a_valid_structure(dossiers: Dossiers, request: pytest.FixtureRequest) -> None:
    """标称 OFD 的文件是有效的 OFD 包（ZIP，根目录 OFD.xml，OFD 命名空间的根元素带 DocType、Version，DocBody/DocRoot 指向包内文件）；
    标称 PDF 的文件以 %PDF- 开头、以 startxref 与 %%EOF 结束。

    前置条件：以 [credentials] 访问。目标声明流程驱动特性 workflow-driver 时，本工具自行生成卷宗（需每个岗位的客户端
    [clients.officer-<岗位>]，缺少时未测）：新相对人 A 依次归档三件（A1：补齐补正并再次推送后准予许可；A2：不予许可；
    A3：准予许可，声明 pre-archive-return 时经预归档退回与再次办结，standard 与 certification 档归档前暂停 2.1 秒），
    新相对人 B 归档一件线下申请（B1，准予许可）；未声明时取卷宗调用接口检索到的第一页卷宗（quick 3 个、standard 10、
    certification 50），检索失败时报错，没有卷宗时未测；没有可检验本项的卷宗或文件时未测。
    测试步骤：
    1. 取得卷宗：声明 workflow-driver 时按计划推送申请（pushApplication）并由各岗位执行步骤（performStep）直至归档，再
       查询各办件的卷宗（getCaseDossier）；否则检索卷宗调用接口（queryDossiers，page=1）；
    2. 下载每个卷宗的每个文件；
    3. 检查下载成功（200）的 OFD 与 PDF 文件的结构。
    预期结果：OFD 文件是 ZIP 包，根目录有 OFD.xml，其 OFD 命名空间的根元素带 DocType 与 Version，DocBody/DocRoot 指向
    包内文件；PDF 文件以 %PDF- 开头，以 startxref 与 %%EOF 结束。
    """
    problems, checked = [], 0
    for s in dossiers.samples:
        for f in _files(s):
            status, body = s.files.get(str(f.get("fileName")), (None, b""))
            if status != 200 or f.get("format") not in ("OFD", "PDF"):
                continue
            checked += 1
            found = ofd_problems(body) if f["format"] == "OFD" else pdf_problems(body)
            problems += [f"文件 {f.get('fileName')}（{f['format']}）：{p}" for p in found]
    _judge(problems, checked, "版式文件", dossiers, request, ("file",))


@pytest.mark.clause("DB42.7.5.5.c.1")
def test_every_file_can_be_downloaded(dossiers: Dossiers, request: pytest.FixtureRequest) -> None:
    """卷宗文件可下载：每个文件的下载地址返回 200，内容的 SHA-256（与字节数）等于卷宗中登记的值。

    前置条件：以 [credentials] 访问。目标声明流程驱动特性 workflow-driver 时，本工具自行生成卷宗（需每个岗位的客户端
    [clients.officer-<岗位>]，缺少时未测）：新相对人 A 依次归档三件（A1：补齐补正并再次推送后准予许可；A2：不予许可；
    A3：准予许可，声明 pre-archive-return 时经预归档退回与再次办结，standard 与 certification 档归档前暂停 2.1 秒），
    新相对人 B 归档一件线下申请（B1，准予许可）；未声明时取卷宗调用接口检索到的第一页卷宗（quick 3 个、standard 10、
    certification 50），检索失败时报错，没有卷宗时未测；没有可检验本项的卷宗或文件时未测。
    测试步骤：
    1. 取得卷宗：声明 workflow-driver 时按计划推送申请（pushApplication）并由各岗位执行步骤（performStep）直至归档，再
       查询各办件的卷宗（getCaseDossier）；否则检索卷宗调用接口（queryDossiers，page=1）；
    2. 下载每个卷宗的每个文件，计算 SHA-256 与字节数。
    预期结果：每个文件的下载返回 200，内容的 SHA-256 等于卷宗登记的 sha256，登记了 size 时字节数与之相同。
    """
    problems, checked = [], 0
    for s in dossiers.samples:
        for f in _files(s):
            checked += 1
            status, body = s.files.get(str(f.get("fileName")), (None, b""))
            if status != 200:
                problems.append(f"文件 {f.get('fileName')} 下载失败（HTTP {status}）")
            elif hashlib.sha256(body).hexdigest() != f.get("sha256"):
                problems.append(f"文件 {f.get('fileName')} 的 SHA-256 与卷宗登记的 {f.get('sha256')} 不符")
            elif f.get("size") is not None and f.get("size") != len(body):
                problems.append(f"文件 {f.get('fileName')} 为 {len(body)} 字节，卷宗登记为 {f.get('size')}")
    _judge(problems, checked, "卷宗文件", dossiers, request, ("view", "file"))


# ---------------------------------------------------------------------------------- §7.5.5 stages
def _titles(s: Sample, stage: str) -> list[str]:
    return [str(f.get("title", "")) for f in _files(s) if f.get("stage") == stage]


def _notice_in(s: Sample, types: tuple[str, ...], stage: str) -> list[str]:
    """Each notice of these types the case has must be a file of ``stage`` (by SHA-256, else by title)."""
    assert s.filed is not None
    out = []
    files = [f for f in _files(s) if f.get("stage") == stage]
    for n in s.filed.case.notices.values():
        if n.get("type") not in types:
            continue
        if n.get("sha256") and any(f.get("sha256") == n["sha256"] for f in files):
            continue
        if not n.get("sha256") and any(n["type"] in str(f.get("title")) for f in files):
            continue
        out.append(f"卷宗 {s.code} 的{stage}环节没有办件的{n['type']}（{n.get('noticeId')}）")
    return out


def _stage_problems(part: str, s: Sample) -> list[str]:
    f = s.filed
    assert f is not None
    titles = _titles(s, part)
    out: list[str] = []

    def need(word: str, label: str | None = None, exclude: str | None = None) -> None:
        words = word.split("|")
        if not any(any(w in t for w in words) and not (exclude and exclude in t) for t in titles):
            out.append(f"卷宗 {s.code}（{f.label}）的{part}环节没有{label or word}（文件：{titles}）")

    if part == "申请":
        need("申请书|申请表", "申请书")
        materials = len(f.case.application.get("materials") or [])
        if len(titles) < 1 + materials:
            out.append(
                f"卷宗 {s.code}（{f.label}）的申请环节有 {len(titles)} 个文件，少于申请书与 {materials} 份申请材料"
            )
    elif part == "受理":
        need("受理意见")
        need("受理通知书", exclude="不予")
        if f.corrected:
            need("补正", "补正通知单（一次性补正告知书）")
        out += _notice_in(s, ("受理通知书", "一次性补正告知书", "不予受理通知书"), "受理")
    elif part == "审批":
        need("意见", "审批意见")
    elif part == "决定":
        need("决定意见")
        need("流转单", "办理意见流转单")
        need("准予许可决定书" if f.granted else "不予许可决定书")
        if f.granted:
            need("证", "证书版式文件")
        out += _notice_in(s, ("准予许可决定书", "不予许可决定书"), "决定")
    return out


STAGE_TESTS = [
    ("申请", ("DB42.7.5.5.b.1", "DB42.7.1.5.e.1")),
    ("受理", ("DB42.7.5.5.b.2",)),
    ("审批", ("DB42.7.5.5.b.3",)),
    ("决定", ("DB42.7.5.5.b.4",)),
]


@driver
@pytest.mark.parametrize("part", [pytest.param(p, marks=pytest.mark.clause(*cs), id=p) for p, cs in STAGE_TESTS])
def test_dossier_has_the_documents_of_each_stage(part: str, dossiers: Dossiers, request: pytest.FixtureRequest) -> None:
    """电子卷宗按环节生成（§7.5.5 b）：申请（申请书、申请材料）；受理（受理意见、补正通知单〈如涉及〉、受理通知书）；审批（审批意见）；
    决定（决定意见、办理意见流转单、准予/不予许可决定书、证书版式文件〈准予时〉）。办件的文书即卷宗中的文件（SHA-256 相同）。

    前置条件：目标声明流程驱动特性 workflow-driver（未声明时未测），目标文件有每个岗位的客户端
    [clients.officer-<岗位>]（缺少时未测），以 [credentials] 推送与查询；本工具自行生成卷宗：新相对人 A 依次归档三件
    （A1：补齐补正并再次推送后准予许可；A2：不予许可；A3：准予许可，声明 pre-archive-return 时经预归档退回与再次办结，
    standard 与 certification 档归档前暂停 2.1 秒），新相对人 B 归档一件线下申请（B1，准予许可）；办件未能走到归档或归
    档后查不到卷宗时，该件不参与判定，没有可判定的办件时未测。
    测试步骤：
    1. 按计划推送申请（pushApplication）并由各岗位执行步骤（performStep）直至归档，办结、预归档退回、预归档通过（编
       目）与归档之后各查询一次该办件的卷宗（getCaseDossier）；
    2. 归档后再查询各办件的卷宗（getCaseDossier）；
    3. 按文件标题核对参数所指环节的文件，并以 SHA-256（无摘要时按标题）比对办件出具的文书。
    预期结果：申请：有标题含申请书或申请表的文件，文件数不少于 1 加申请材料数；受理：有受理意见、受理通知书（非不予受
    理），补正过的办件有补正通知单，办件的受理类文书都在受理环节；审批：有审批意见；决定：有决定意见、办理意见流转单、
    准予或不予许可决定书（准予时还有证书版式文件），办件的决定书在决定环节。
    """
    samples = _need_filed(dossiers)
    _judge([p for s in samples for p in _stage_problems(part, s)], len(samples), "卷宗组成", dossiers, request)


# ---------------------------------------------------------------------------------- §7.5.5 c, §7.5.6 the query interface
@pytest.mark.clause("DB42.7.5.5.c.2")
def test_the_reference_address_resolves(dossiers: Dossiers, request: pytest.FixtureRequest) -> None:
    """卷宗的引用地址可访问：经授权返回同一卷宗，两次查询地址相同；不带令牌的访问被拒绝（401/403）。

    前置条件：以 [credentials] 访问。目标声明流程驱动特性 workflow-driver 时，本工具自行生成卷宗（需每个岗位的客户端
    [clients.officer-<岗位>]，缺少时未测）：新相对人 A 依次归档三件（A1：补齐补正并再次推送后准予许可；A2：不予许可；
    A3：准予许可，声明 pre-archive-return 时经预归档退回与再次办结，standard 与 certification 档归档前暂停 2.1 秒），
    新相对人 B 归档一件线下申请（B1，准予许可）；未声明时取卷宗调用接口检索到的第一页卷宗（quick 3 个、standard 10、
    certification 50），检索失败时报错，没有卷宗时未测；没有可检验本项的卷宗或文件时未测。
    测试步骤：
    1. 取得卷宗：声明 workflow-driver 时按计划推送申请（pushApplication）并由各岗位执行步骤（performStep）直至归档，再
       查询各办件的卷宗（getCaseDossier）；否则检索卷宗调用接口（queryDossiers，page=1）；
    2. 以令牌与不带令牌各访问一次每个卷宗的引用地址（referenceUrl）；卷宗编码为 42 位时再按编码获取卷宗
       （getDossier）；
    3. 比较各处的引用地址。
    预期结果：每个卷宗有引用地址；带令牌访问返回 200，data.dossierCode 为该卷宗的编码；不带令牌访问返回 401 或 403；按
    编码获取的卷宗与归档时查询到的卷宗中的引用地址与之相同。
    """
    problems = []
    for s in dossiers.samples:
        ref = s.dossier.get("referenceUrl")
        ok, anonymous = [*s.reference, None, None][:2]
        if ok is None:
            problems.append(f"卷宗 {s.code} 没有引用地址")
            continue
        body = data_of(ok) if ok.status == 200 else None
        if ok.status != 200 or not isinstance(body, dict) or body.get("dossierCode") != s.code:
            problems.append(f"卷宗 {s.code} 的引用地址 {ref} 没有返回该卷宗：{brief(ok)}")
        if anonymous is not None and anonymous.status not in (401, 403):
            problems.append(f"不带令牌访问卷宗引用地址 {ref}：应 401/403，实为 HTTP {anonymous.status}")
        others = [data_of(s.by_code) if s.by_code is not None and s.by_code.status == 200 else None]
        if s.filed is not None:
            others.append(s.filed.snapshots.get("archived", (None, None, None))[1])
        for view in others:
            if isinstance(view, dict) and view.get("referenceUrl") != ref:
                problems.append(f"卷宗 {s.code} 的引用地址不稳定：{ref} / {view.get('referenceUrl')}")
    _judge(problems, len(dossiers.samples), "引用地址", dossiers, request, ("ref", "ref-anonymous", "by_code"))


def _dossier_shape_problems(view: Any) -> list[str]:
    """The dossier's structure (dossier.schema.json) with its codes set aside (§9.2 judges them)."""
    if not isinstance(view, dict):
        return ["不是电子卷宗对象"]
    probe = {**view, "dossierCode": "0" * 42}
    if isinstance(view.get("metadata"), dict):
        probe["metadata"] = {**view["metadata"], "dossierCode": "0" * 42}
    v = validator("dossier")
    return [] if v.structure_valid(probe) else [e.message_zh for e in v.errors(probe)][:4]


REGISTER_NS = "{urn:tzsb-conformance:dossier:1}"


def _register_problems(s: Sample) -> list[str]:
    """The register form of one dossier against dossier-register.xsd and against the dossier itself."""
    if s.register is None or s.register[0] != 200:
        return [f"卷宗 {s.code} 的登记表取不到（HTTP {s.register[0] if s.register else None}）/ no register form"]
    issues = validate_xml(s.register[1], "dossier-register")
    if issues:
        return [f"卷宗 {s.code} 的登记表不符合 dossier-register.xsd：{i.path} {i.message_zh}" for i in issues[:4]]
    root = DefusedET.fromstring(s.register[1])
    problems = []
    if root.findtext(f"{REGISTER_NS}dossierCode") != s.code:
        problems.append(f"卷宗 {s.code} 的登记表编号为 {root.findtext(f'{REGISTER_NS}dossierCode')!r}")
    status = root.findtext(f"{REGISTER_NS}dossierStatus")
    if status != s.dossier.get("status"):
        problems.append(f"卷宗 {s.code} 的登记表成卷状态 {status!r} 与卷宗 {s.dossier.get('status')!r} 不一致")
    listed = {
        (d.findtext(f"{REGISTER_NS}fileName"), d.findtext(f"{REGISTER_NS}sha256"))
        for d in root.iter(f"{REGISTER_NS}document")
    }
    files = {(f.get("fileName"), f.get("sha256")) for f in s.dossier.get("files") or [] if isinstance(f, dict)}
    if listed != files:
        problems.append(
            f"卷宗 {s.code} 的登记表文件清单与卷宗文件不一致：多 {sorted(map(str, listed - files))[:3]}，"
            f"缺 {sorted(map(str, files - listed))[:3]}"
        )
    if s.filed is not None and root.findtext(f"{REGISTER_NS}caseNumber") != s.filed.case.case_no:
        problems.append(f"卷宗 {s.code} 的登记表办件编号与办件 {s.filed.case.case_no} 不一致")
    return problems


@pytest.mark.clause("DB42.7.5.6.b1.1", "PROFILE.DB42.7.5.6")
def test_the_register_form_is_generated_and_numbered(dossiers: Dossiers, request: pytest.FixtureRequest) -> None:
    """电子卷宗登记表随卷宗生成并编号：XML 符合 dossier-register.xsd，登记表的卷宗编号、成卷状态、办件编号、
    文件清单（文件名与 SHA-256）与卷宗一致。

    前置条件：以 [credentials] 访问。目标声明流程驱动特性 workflow-driver 时，本工具自行生成卷宗（需每个岗位的客户端
    [clients.officer-<岗位>]，缺少时未测）：新相对人 A 依次归档三件（A1：补齐补正并再次推送后准予许可；A2：不予许可；
    A3：准予许可，声明 pre-archive-return 时经预归档退回与再次办结，standard 与 certification 档归档前暂停 2.1 秒），
    新相对人 B 归档一件线下申请（B1，准予许可）；未声明时取卷宗调用接口检索到的第一页卷宗（quick 3 个、standard 10、
    certification 50），检索失败时报错，没有卷宗时未测；没有可检验本项的卷宗或文件时未测。
    测试步骤：
    1. 取得卷宗：声明 workflow-driver 时按计划推送申请（pushApplication）并由各岗位执行步骤（performStep）直至归档，再
       查询各办件的卷宗（getCaseDossier）；否则检索卷宗调用接口（queryDossiers，page=1）；
    2. 对编码为 42 位的卷宗读取登记表（getDossierRegister，register.xml）；
    3. 以 dossier-register.xsd 校验并与卷宗比较。
    预期结果：登记表返回 200 且通过 dossier-register.xsd 校验；其卷宗编号、成卷状态与卷宗相同，文件清单（文件名与
    SHA-256）与卷宗文件相同；自行生成的卷宗其办件编号与办件相同。

    The register form exists, is valid and matches its dossier.
    """
    problems, checked = [], 0
    for s in _coded(dossiers.samples):
        checked += 1
        problems += _register_problems(s)
    _judge(problems, checked, "卷宗登记表", dossiers, request, ("register", "view"))


@pytest.mark.clause("DB42.7.5.6.c2.1")
def test_the_dossier_query_interface_serves_the_dossier(dossiers: Dossiers, request: pytest.FixtureRequest) -> None:
    """电子卷宗调用接口：按卷宗编码获取的卷宗符合 dossier.schema.json，与流程驱动接口给出的卷宗相同（编码本身另由 §9.2 判定）。

    前置条件：以 [credentials] 访问。目标声明流程驱动特性 workflow-driver 时，本工具自行生成卷宗（需每个岗位的客户端
    [clients.officer-<岗位>]，缺少时未测）：新相对人 A 依次归档三件（A1：补齐补正并再次推送后准予许可；A2：不予许可；
    A3：准予许可，声明 pre-archive-return 时经预归档退回与再次办结，standard 与 certification 档归档前暂停 2.1 秒），
    新相对人 B 归档一件线下申请（B1，准予许可）；未声明时取卷宗调用接口检索到的第一页卷宗（quick 3 个、standard 10、
    certification 50），检索失败时报错，没有卷宗时未测；没有可检验本项的卷宗或文件时未测。
    测试步骤：
    1. 取得卷宗：声明 workflow-driver 时按计划推送申请（pushApplication）并由各岗位执行步骤（performStep）直至归档，再
       查询各办件的卷宗（getCaseDossier）；否则检索卷宗调用接口（queryDossiers，page=1）；
    2. 对编码为 42 位的卷宗按编码获取卷宗（getDossier）；
    3. 以 dossier.schema.json 校验并与步骤 1 取得的卷宗比较。
    预期结果：步骤 1 与步骤 2 取得的卷宗结构都符合 dossier.schema.json（编码本身另判）；按编码获取返回 200；自行生成的
    卷宗两处内容相同。
    """
    problems, checked = [], 0
    for s in dossiers.samples:
        problems += [f"卷宗 {s.code}：{p}" for p in _dossier_shape_problems(s.dossier)]
        if s.by_code is None:
            continue
        checked += 1
        view = data_of(s.by_code)
        if s.by_code.status != 200 or not isinstance(view, dict):
            problems.append(f"按编码获取卷宗 {s.code}：{brief(s.by_code)}")
            continue
        problems += [f"按编码获取的卷宗 {s.code}：{p}" for p in _dossier_shape_problems(view)]
        if s.filed is not None and view != s.dossier:
            diff = sorted(k for k in set(view) | set(s.dossier) if view.get(k) != s.dossier.get(k))
            problems.append(f"卷宗 {s.code} 经调用接口与经流程驱动接口取得的内容不同：{diff}")
    _judge(problems, checked, "卷宗调用接口", dossiers, request, ("by_code", "view"))


@driver
@pytest.mark.clause("DB42.7.5.6.a2.1")
def test_the_dossier_is_linked_to_the_case(dossiers: Dossiers, request: pytest.FixtureRequest) -> None:
    """许可事项数据与卷宗元数据关联：按办件编号检索到且只检索到该办件的卷宗，元数据中的相对人与许可机关与办件一致；
    按相对人统一社会信用代码检索到其全部卷宗。

    前置条件：目标声明流程驱动特性 workflow-driver（未声明时未测），目标文件有每个岗位的客户端
    [clients.officer-<岗位>]（缺少时未测），以 [credentials] 推送与查询；本工具自行生成卷宗：新相对人 A 依次归档三件
    （A1：补齐补正并再次推送后准予许可；A2：不予许可；A3：准予许可，声明 pre-archive-return 时经预归档退回与再次办结，
    standard 与 certification 档归档前暂停 2.1 秒），新相对人 B 归档一件线下申请（B1，准予许可）；办件未能走到归档或归
    档后查不到卷宗时，该件不参与判定，没有可判定的办件时未测。
    测试步骤：
    1. 按计划推送申请（pushApplication）并由各岗位执行步骤（performStep）直至归档，办结、预归档退回、预归档通过（编
       目）与归档之后各查询一次该办件的卷宗（getCaseDossier）；
    2. 归档后再查询各办件的卷宗（getCaseDossier）；
    3. 以每件的办件编号检索卷宗（queryDossiers，caseNo），再以 A、B 的统一社会信用代码检索（queryDossiers，uscc）。
    预期结果：按办件编号检索得到且只得到该办件的卷宗；卷宗的 caseNo 为办件编号；元数据的相对人与许可机关统一社会信用代
    码与申请一致；按相对人检索得到的卷宗编码正好是该相对人归档的各卷宗。
    """
    problems, checked = [], 0
    for s in _need_filed(dossiers):
        f = s.filed
        assert f is not None
        checked += 1
        found = _codes_in(s.by_case)
        if found != [s.code]:
            problems.append(
                f"按办件编号 {f.case.case_no} 检索卷宗得到 {found}（{brief(s.by_case)[:80]}），应为 [{s.code}]"
            )
        if s.dossier.get("caseNo") != f.case.case_no:
            problems.append(f"卷宗 {s.code} 的办件编号为 {s.dossier.get('caseNo')!r}，应为 {f.case.case_no}")
        app = f.case.application
        m = s.metadata
        if (m.get("uscc"), m.get("authorityUscc")) != (app["applicant"]["idNumber"], app["authority"]["uscc"]):
            problems.append(
                f"卷宗 {s.code} 的元数据相对人/许可机关 {m.get('uscc')}/{m.get('authorityUscc')} 与办件不一致"
            )
    for key, r in dossiers.by_uscc.items():
        want = sorted(s.code for s in _need_filed(dossiers) if s.filed and s.filed.applicant == key)
        found = None if (codes := _codes_in(r)) is None else sorted(codes)
        if want and found != want:
            problems.append(f"按相对人 {key} 的统一社会信用代码检索得到 {found}，应为 {want}")
    _judge(problems, checked, "卷宗关联", dossiers, request, ("by_case", "view"))


# ---------------------------------------------------------------------------------- read-only, platform codes
#: Methods that would change a resource; the dossier query interface offers GET only (licensing.yaml).
WRITES = ("PUT", "PATCH", "DELETE", "POST")


@pytest.mark.clause("DB42.7.5.6.a3.2")
def test_system_generated_dossier_data_is_read_only(
    dossiers: Dossiers, tzsb_client: Any, request: pytest.FixtureRequest
) -> None:
    """系统生成的许可事项数据只读：对卷宗、元数据（XML 与 txt）、登记表与卷宗文件的修改、删除请求（PUT/PATCH/DELETE/POST）
    均被拒绝（405/403/404，不得 2xx），之后卷宗内容与文件摘要不变。

    前置条件：以 [credentials] 访问。目标声明流程驱动特性 workflow-driver 时，本工具自行生成卷宗（需每个岗位的客户端
    [clients.officer-<岗位>]，缺少时未测）：新相对人 A 依次归档三件（A1：补齐补正并再次推送后准予许可；A2：不予许可；
    A3：准予许可，声明 pre-archive-return 时经预归档退回与再次办结，standard 与 certification 档归档前暂停 2.1 秒），
    新相对人 B 归档一件线下申请（B1，准予许可）；未声明时取卷宗调用接口检索到的第一页卷宗（quick 3 个、standard 10、
    certification 50），检索失败时报错，没有卷宗时未测；没有可检验本项的卷宗或文件时未测。
    测试步骤：
    1. 取得卷宗：声明 workflow-driver 时按计划推送申请（pushApplication）并由各岗位执行步骤（performStep）直至归档，再
       查询各办件的卷宗（getCaseDossier）；否则检索卷宗调用接口（queryDossiers，page=1）；
    2. 对前两个卷宗中编码为 42 位的，向卷宗（getDossier 的路径）、metadata.xml、metadata.txt、register.xml 与第一个文
       件的路径各发送 PUT、PATCH、DELETE、POST（请求体改动状态、编号与文件清单）；
    3. 再按编码获取卷宗（getDossier）。
    预期结果：每个修改请求都得到应答，且不是 2xx 或 5xx（应以 405/403/404 等拒绝）；自行生成的已归档卷宗其后内容与修改
    前相同。

    Writes to dossier resources are refused.
    """
    client = tzsb_client()
    problems, checked = [], 0
    for s in _coded(dossiers.samples[:2]):
        checked += 1
        base = f"/api/v1/dossiers/{quote(s.code)}"
        targets = [base, *(f"{base}/{path}" for _, path in METADATA_FORMS.values()), f"{base}/register.xml"]
        targets += [
            f"{base}/files/{quote(str(f['fileName']), safe='')}"
            for f in (s.dossier.get("files") or [])[:1]
            if isinstance(f, dict) and f.get("fileName")
        ]
        for path in targets:
            for method in WRITES:
                r = client.request(method, path, json={"status": "已归档", "dossierCode": "0" * 42, "files": []})
                if r.status is None or 200 <= r.status < 300 or r.status >= 500:
                    problems.append(
                        f"卷宗 {s.code}：{method} {path} 得到 {r.status}（应拒绝：405/403/404）/ write not refused"
                    )
                    _last(client).test = request.node.nodeid
        after = client.get(base)
        view = data_of(after) if after.status == 200 else None
        if view != s.dossier and s.filed is not None and s.dossier.get("status") == "已归档":
            changed = sorted(k for k in set(view or {}) | set(s.dossier) if (view or {}).get(k) != s.dossier.get(k))
            problems.append(f"卷宗 {s.code} 经修改请求后内容改变：{changed}")
    _judge(problems, checked, "卷宗只读", dossiers, request, ("view",))


@pytest.mark.clause("DB42.9.2.7")
def test_the_division_part_is_one_the_platform_serves(
    dossiers: Dossiers, tzsb_client: Any, tzsb_target: Any, request: pytest.FixtureRequest
) -> None:
    """功能区代码与政务服务平台设置一致：卷宗编码中的区划（功能区）代码，在政务服务平台业务办理项查询（表5 序号2）中
    有该卷宗许可事项的办理项。需要目标文件给出政务服务平台的地址（[urls] gov-platform）。

    前置条件：目标文件给出政务服务平台地址 [urls] gov-platform（未给出时未测），以其客户端访问；以 [credentials] 访
    问。目标声明流程驱动特性 workflow-driver 时，本工具自行生成卷宗（需每个岗位的客户端 [clients.officer-<岗位>]，缺少
    时未测）：新相对人 A 依次归档三件（A1：补齐补正并再次推送后准予许可；A2：不予许可；A3：准予许可，声明
    pre-archive-return 时经预归档退回与再次办结，standard 与 certification 档归档前暂停 2.1 秒），新相对人 B 归档一件
    线下申请（B1，准予许可）；未声明时取卷宗调用接口检索到的第一页卷宗（quick 3 个、standard 10、certification 50），
    检索失败时报错，没有卷宗时未测；没有可检验本项的卷宗或文件时未测。
    测试步骤：
    1. 取得卷宗：声明 workflow-driver 时按计划推送申请（pushApplication）并由各岗位执行步骤（performStep）直至归档，再
       查询各办件的卷宗（getCaseDossier）；否则检索卷宗调用接口（queryDossiers，page=1）；
    2. 对编码为 42 位的卷宗取编码第 11–16 位的区划代码，以该区划调用政务服务平台业务办理项查询（T5-2）；
    3. 在结果中查找该区划下卷宗许可事项（itemCode）的办理项。
    预期结果：每次 T5-2 查询返回 200；每个卷宗的区划在结果中有 division 为该区划、code 为卷宗 itemCode 的办理项。

    The division part of each dossier code is one for which the government platform lists the dossier's item.
    """
    if "gov-platform" not in tzsb_target.urls:
        pytest.skip(
            "未测：目标文件未给出政务服务平台地址（[urls] gov-platform）/ no gov-platform URL in the target file"
        )
    op = next(o for o in role_operations("gov-platform") if o.interface == "T5-2")
    gov = tzsb_client("gov-platform")
    problems, checked = [], 0
    seen: dict[str, set[tuple[str, str]]] = {}
    for s in _coded(dossiers.samples):
        division, item = s.code[10:16], s.dossier.get("itemCode")
        if division not in seen:
            r = gov.get(op.path, params={"division": division})
            page = data_of(r) if r.status == 200 else None
            rows = page if isinstance(page, list) else (page or {}).get("items", []) if isinstance(page, dict) else []
            seen[division] = {(str(x.get("division")), str(x.get("code"))) for x in rows if isinstance(x, dict)}
            if r.status != 200:
                problems.append(f"政务服务平台业务办理项查询（区划 {division}）失败：{brief(r)} / T5-2 failed")
                continue
        checked += 1
        if (division, str(item)) not in seen[division]:
            problems.append(
                f"卷宗 {s.code} 的区划代码 {division} 在政务服务平台下没有事项 {item} 的办理项 / "
                "the platform lists no handling item of this division"
            )
    _judge(problems, checked, "功能区代码", dossiers, request, ("view",))


@driver
@pytest.mark.clause("DB42.7.1.2.1", "DB42.7.2.5.a.1")
def test_the_pushed_application_becomes_form_and_materials(dossiers: Dossiers, request: pytest.FixtureRequest) -> None:
    """接收政务服务平台推送（表5 序号5）后生成申请表单与申请材料：卷宗“申请”环节至少有一份申请表单加推送中的
    每一份申请材料，均可下载。

    前置条件：目标声明流程驱动特性 workflow-driver（未声明时未测），目标文件有每个岗位的客户端
    [clients.officer-<岗位>]（缺少时未测），以 [credentials] 推送与查询；本工具自行生成卷宗：新相对人 A 依次归档三件
    （A1：补齐补正并再次推送后准予许可；A2：不予许可；A3：准予许可，声明 pre-archive-return 时经预归档退回与再次办结，
    standard 与 certification 档归档前暂停 2.1 秒），新相对人 B 归档一件线下申请（B1，准予许可）；办件未能走到归档或归
    档后查不到卷宗时，该件不参与判定，没有可判定的办件时未测。
    测试步骤：
    1. 按计划推送申请（pushApplication）并由各岗位执行步骤（performStep）直至归档，办结、预归档退回、预归档通过（编
       目）与归档之后各查询一次该办件的卷宗（getCaseDossier）；
    2. 归档后再查询各办件的卷宗（getCaseDossier）；
    3. 下载每件卷宗“申请”环节的文件，与推送中的申请材料数比较。
    预期结果：每件卷宗“申请”环节的文件数不少于 1（申请表单）加推送中的申请材料数，且这些文件下载都返回 200。

    The pushed application becomes the application form plus one file per material.
    """
    problems, checked = [], 0
    stage = _parts()[0]
    for s in _need_filed(dossiers):
        f = s.filed
        assert f is not None
        checked += 1
        materials = f.case.application.get("materials") or []
        files = [x for x in s.dossier.get("files") or [] if isinstance(x, dict) and x.get("stage") == stage]
        if len(files) < 1 + len(materials):
            problems.append(
                f"卷宗 {s.code}（办件 {f.case.case_no}）“{stage}”环节有 {len(files)} 份文件，"
                f"应至少有申请表单 1 份 + 申请材料 {len(materials)} 份 / form and materials missing"
            )
        bad = [x["fileName"] for x in files if s.files.get(x.get("fileName"), (None,))[0] != 200]
        if bad:
            problems.append(f"卷宗 {s.code}“{stage}”环节的文件取不到：{bad[:3]}")
    _judge(problems, checked, "申请表单与材料", dossiers, request, ("view", "file"))


def _walked(dossiers: Dossiers, label: str) -> tuple[Filed | None, list[str]]:
    """The case ``label`` of the plan, or why it did not reach 归档 with a dossier."""
    filed = next((f for f in dossiers.filed if f.label == label), None)
    if filed is None:
        return None, [a for a in dossiers.aborted if f"办件 {label}" in a] or [f"办件 {label} 未能走到归档"]
    if not any(s.filed is filed for s in dossiers.samples):
        return filed, [f"办件 {label}（{filed.case.case_no}）归档后查不到电子卷宗"]
    return filed, []


@driver
@pytest.mark.clause("DB42.7.1.3.1", "DB42.7.2.2.b.1")
def test_an_offline_application_is_handled_like_an_online_one(
    dossiers: Dossiers, request: pytest.FixtureRequest
) -> None:
    """线下申请（经统一受理系统填报，推送中 channel=offline）与线上申请同样被接收、受理、审查、决定、制证、办结与归档，
    每一步状态与 workflow.json 相同，并生成电子卷宗。

    前置条件：目标声明流程驱动特性 workflow-driver（未声明时未测），目标文件有每个岗位的客户端
    [clients.officer-<岗位>]（缺少时未测），以 [credentials] 推送与查询；本工具按计划办件：新相对人 A 依次归档三件
    （A1：补齐补正并再次推送后准予许可；A2：不予许可；A3：准予许可，声明 pre-archive-return 时经预归档退回与再次办结，
    standard 与 certification 档归档前暂停 2.1 秒），新相对人 B 归档一件线下申请（B1，准予许可）。
    测试步骤：
    1. 以 channel=offline 推送 B1 的申请（pushApplication），由各岗位执行正式受理、审查通过、准予许可、制证、发证、办
       结、预归档通过、归档（performStep），每步后查询状态（getCaseState）；
    2. 归档后查询其卷宗（getCaseDossier）。
    预期结果：推送返回 201，每步执行返回 200，其后状态查询返回 200、符合 caseState，办件处于 workflow.json 规定的状
    态，直至归档；归档后 getCaseDossier 返回 200 与卷宗（未走到归档或查不到卷宗即不符合）。

    An offline application goes the same way as an online one.
    """
    filed, problems = _walked(dossiers, "B1")
    if filed is not None and filed.case.application.get("channel") != "offline":
        raise RuntimeError("the suite's plan lost the offline channel of case B1")
    _judge(problems, 1, "线下申请", dossiers, request, ("view", "snapshots"))


@driver
@pytest.mark.clause("DB42.7.2.5.b.1")
def test_the_workflow_can_go_back(dossiers: Dossiers, tzsb_target: Any, request: pytest.FixtureRequest) -> None:
    """流程回退：补齐补正把办件退回申请人，补正后从受理继续直至归档；声明 pre-archive-return 时，预归档退回使办件回到
    办结并可再次预归档。每一步的状态与 workflow.json 一致（不一致时办件在该步中止）。

    前置条件：目标声明流程驱动特性 workflow-driver（未声明时未测），目标文件有每个岗位的客户端
    [clients.officer-<岗位>]（缺少时未测），以 [credentials] 推送与查询；本工具按计划办件：新相对人 A 依次归档三件
    （A1：补齐补正并再次推送后准予许可；A2：不予许可；A3：准予许可，声明 pre-archive-return 时经预归档退回与再次办结，
    standard 与 certification 档归档前暂停 2.1 秒），新相对人 B 归档一件线下申请（B1，准予许可）。
    测试步骤：
    1. 推送 A1 的申请（pushApplication），受理岗位给出补齐补正，以同一办件编号、新的 messageId 再次推送，再由各岗位执
       行至归档（performStep），每步后查询状态（getCaseState）；
    2. 声明 pre-archive-return 时，A3 在办结后预归档退回、再次办结，再预归档通过并归档；
    3. 归档后查询各件的卷宗（getCaseDossier）。
    预期结果：A1（声明 pre-archive-return 时还有 A3）的推送返回 201（再次推送 200 或 201），每步执行返回 200，其后状态
    查询返回 200、符合 caseState，办件处于 workflow.json 规定的状态，直至归档；归档后 getCaseDossier 返回 200 与卷宗
    （未走到归档或查不到卷宗即不符合）。

    The workflow goes back and on.
    """
    problems: list[str] = []
    for label in ("A1", *(["A3"] if PRE_ARCHIVE_RETURN in tzsb_target.features else [])):
        filed, why = _walked(dossiers, label)
        problems += why
        if filed is not None and not (filed.corrected or filed.returned):
            raise RuntimeError(f"the suite's plan has no step back in case {label}")
    _judge(problems, 1, "流程回退", dossiers, request, ("view", "snapshots"))
