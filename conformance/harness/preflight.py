"""Preflight: what the target offers and lacks, checked in seconds before any suite runs.

:func:`run_preflight` looks at a :class:`~conformance.harness.target.Target` for its role and returns a
:class:`Preflight`: one :class:`Check` per item, each ``ok``, ``missing`` (the target or the target file
lacks it: the suites that need it will be 未测, and ``provide`` says how to supply it) or ``failed`` (it
was tried and did not work). A check is ``fatal`` when the run cannot proceed at all: the role is not one
the contracts know, the role under test has no base URL, its base URL is unreachable or answers nothing
complete, or its TLS handshake fails.

Everything about the interfaces is read from the contracts (``schemas/openapi`` through
:mod:`conformance.contract.openapi`): the roles, the token and health operations, a cheap read operation of
the role, the shared data sets (``x-data-sets``) and their query and change-feed operations, the optional
workflow driver (``x-optional-feature``), the workflow posts (``codelists/roles.json``). What is *not* in
the contracts is the suites' own convention: which ``[clients.*]`` and ``[thresholds]`` entries of the
target file they ask for (:data:`CLIENT_NEEDS`); that table mirrors the suites' skip reasons.

Bounded: every request goes through the project's safe client (:class:`~conformance.client.TargetClient`:
size cap, at most 3 redirects, never raises) with short timeouts (:data:`CONNECT_S`, :data:`READ_S`), each
exchange is also cut after :data:`REQUEST_CAP_S` by a watchdog of this module, the base URLs are probed in
parallel, and nothing new starts once ``budget_s`` is used up (later checks then say so).
``docs/preflight.md`` explains each item and how to provide it.
"""

from __future__ import annotations

import functools
import ipaddress
import socket
import ssl
import threading
import time
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from typing import Any, TypeVar
from urllib.parse import quote, urlsplit

from conformance.check.limits import loads_bounded
from conformance.check.schema import validator, validator_at
from conformance.client.evidence import Evidence
from conformance.client.http import TargetClient, TargetResponse, ca_file_for, static_key
from conformance.contract import documents as contracts
from conformance.contract.openapi import Operation, contract_role, documents_for_role, operations, role_operations
from conformance.harness.target import COUNTERPART_FEATURE, COUNTERPARTS, Target, string_list

OK, MISSING, FAILED = "ok", "missing", "failed"
STATUSES = (OK, MISSING, FAILED)
#: Timeouts of one exchange: TCP connect, and each read (the safe client also cuts a trickling body).
CONNECT_S, READ_S = 3.0, 8.0
#: Hard bound on one exchange (all redirects included): the preflight stops waiting for it after this.
REQUEST_CAP_S = 10.0
#: Responses larger than this are cut (nothing the preflight reads is large).
MAX_BYTES = 1024 * 1024
#: A path-parameter value the target cannot know: the answer (400 or 404) still shows the contract's envelope.
PLACEHOLDER = "tzsb-preflight-0"

T = TypeVar("T")
#: A text in both languages: (Chinese, English).
Text = tuple[str, str]


# ---------------------------------------------------------------------------------------------- results
@dataclass
class Check:
    key: str  # stable id: "role", "reach:sharing", "tls:sharing", "token", "op:getCatalogue", "data:equipment", ...
    label: str  # Chinese label
    label_en: str
    status: str  # "ok" | "missing" | "failed"
    detail: str  # what was seen (Chinese)
    provide: str | None  # how to provide it (Chinese)
    fatal: bool = False  # the run cannot proceed at all
    detail_en: str = ""
    provide_en: str | None = None
    #: fatal although the target was reached: it accepted the connection and then gave no answer, or it refused the
    #: harness's own credential; the run is not a usage error (exit 2) but 不通过 with every check 未测 for this
    #: reason (exit 1): without an answer, or without a token, nothing can be decided
    stops: bool = False

    def text(self, lang: str = "zh") -> tuple[str, str, str]:
        """(label, detail, provide) in ``lang``."""
        if lang == "en":
            return self.label_en, self.detail_en or self.detail, self.provide_en or self.provide or ""
        return self.label, self.detail, self.provide or ""

    def reason(self) -> str:
        """“中文 / English”, for a skip reason (``conformance.report.skips.untested``)."""
        return f"{self.label}：{self.detail} / {self.label_en}: {self.detail_en or self.detail}"

    def how(self) -> str | None:
        """The ``provide`` text in both languages, or None."""
        if not self.provide:
            return None
        return f"{self.provide} / {self.provide_en}" if self.provide_en else self.provide


@dataclass
class Preflight:
    checks: list[Check]
    duration_s: float
    role: str = ""
    target: str = ""
    budget_s: float = 0.0

    @property
    def fatal(self) -> list[Check]:
        return [c for c in self.checks if c.fatal]

    def get(self, key: str) -> Check | None:
        return next((c for c in self.checks if c.key == key), None)

    def to_json(self) -> dict[str, Any]:
        counts = {s: sum(c.status == s for c in self.checks) for s in STATUSES}
        return {
            "target": self.target,
            "role": self.role,
            "duration_s": round(self.duration_s, 3),
            "budget_s": self.budget_s,
            "summary": {**counts, "fatal": len(self.fatal)},
            "fatal": [c.key for c in self.fatal],
            "checks": [asdict(c) for c in self.checks],
        }

    def render(self, lang: str = "zh") -> str:
        """A plain-text table (item | status | detail | how to provide), aligned by display width (CJK = 2)."""
        head = _HEAD["en" if lang == "en" else "zh"]
        rows = []
        for c in self.checks:
            label, detail, provide = c.text(lang)
            rows.append((label, _status_text(c, lang), detail, provide))
        widths = [max([_width(head[i])] + [min(_width(r[i]), _COL_MAX[i]) for r in rows]) for i in range(4)]
        lines = [_row(head, widths), "  ".join("-" * w for w in widths)]
        lines += [_row(r, widths) for r in rows]
        n = self.to_json()["summary"]
        tail = _msg("summary", target=self.target or "-", role=self.role or "-", seconds=self.duration_s, **n)
        return "\n".join([*lines, "", tail[lang == "en"]])


_HEAD = {"zh": ("检查项", "状态", "所见情况", "如何补足"), "en": ("item", "status", "seen", "how to provide")}
_COL_MAX = (34, 14, 60, 60)


def _status_text(c: Check, lang: str) -> str:
    text = _msg(f"status.{c.status}") if f"status.{c.status}" in MESSAGES else (c.status, c.status)
    return (_msg("status.fatal", status=text) if c.fatal else text)[lang == "en"]


def _cell_width(ch: str) -> int:
    if unicodedata.combining(ch):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def _width(text: str) -> int:
    return sum(_cell_width(ch) for ch in text)


def _wrap(text: str, width: int) -> list[str]:
    """Cut ``text`` into lines of at most ``width`` display cells (at spaces where possible)."""
    out: list[str] = []
    for para in text.splitlines() or [""]:
        line, used = "", 0
        for ch in para:
            w = _cell_width(ch)
            if used + w > width and line:
                cut = line.rfind(" ")
                if cut > len(line) // 2:
                    out.append(line[:cut])
                    line = line[cut + 1 :]
                else:
                    out.append(line)
                    line = ""
                used = _width(line)
            line += ch
            used += w
        out.append(line)
    return out


def _row(cells: Iterable[str], widths: list[int]) -> str:
    wrapped = [_wrap(cell, w) for cell, w in zip(cells, widths, strict=True)]
    height = max(len(w) for w in wrapped)
    lines = []
    for i in range(height):
        parts = [(w[i] if i < len(w) else "") for w in wrapped]
        lines.append("  ".join(p + " " * (widths[j] - _width(p)) for j, p in enumerate(parts)).rstrip())
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------- messages
#: Every message of the preflight: key → (Chinese, English); ``{name}`` fields filled by :func:`_msg`.
MESSAGES: dict[str, Text] = {
    # the table
    f"status.{OK}": ("正常", "ok"),
    f"status.{MISSING}": ("缺少", "missing"),
    f"status.{FAILED}": ("失败", "failed"),
    "status.fatal": ("{status}（致命）", "{status} (fatal)"),
    "summary": (
        "预检 {target}（角色 {role}）：正常 {ok} 项，缺少 {missing} 项，失败 {failed} 项，其中致命 {fatal} 项；"
        "用时 {seconds:.1f} 秒",
        "preflight of {target} (role {role}): {ok} ok, {missing} missing, {failed} failed, {fatal} fatal; "
        "{seconds:.1f} s",
    ),
    # labels
    "label.role": ("被测角色", "role under test"),
    "label.reach": ("可达性：{role}", "reachability: {role}"),
    "label.tls": ("TLS 握手：{role}", "TLS handshake: {role}"),
    "label.url": ("基础地址：{role}", "base URL: {role}"),
    "label.token": ("访问令牌（{op}）", "access token ({op})"),
    "label.op": ("接口应答：{op}", "operation answers: {op}"),
    "label.data": ("数据：{title}", "data: {title}"),
    "label.feed": ("变更日志：{title}", "change feed: {title}"),
    "label.client": ("客户端：{name}", "client: {name}"),
    "label.driver": ("流程驱动", "workflow driver"),
    "label.dossiers": ("电子卷宗", "dossiers"),
    "label.users": ("统一身份认证用户：{label}", "unified-identity user: {label}"),
    "label.cases": ("测试办件来源", "source of test cases"),
    "label.reports": ("样本检验报告", "sample inspection reports"),
    "label.callback": ("回调地址", "callback address"),
    "label.sim": ("模拟对端：{role}", "simulated counterpart: {role}"),
    "label.feature": ("可选特性：{feature}", "optional feature: {feature}"),
    # details
    "role.ok": ("契约定义的角色 {role}", "a role of the contracts: {role}"),
    "role.unknown": ("角色“{role}”不是契约定义的角色（{known}）", "“{role}” is not a role of the contracts ({known})"),
    "role.provide": (
        "目标文件 role = 其中之一，或 --tzsb-role",
        "role = one of them in the target file, or --tzsb-role",
    ),
    "url.missing": (
        "目标文件没有被测角色 {role} 的基础地址",
        "the target file gives no base URL for the role under test",
    ),
    "url.provide": ('目标文件 [urls] {role} = "https://…"', '[urls] {role} = "https://…" in the target file'),
    "url.bad": ("基础地址 {url} 不是 http(s) URL", "base URL {url} is not an http(s) URL"),
    "reach.ok": ("{url}：HTTP {status}（{what}）", "{url}: HTTP {status} ({what})"),
    "reach.tcp": ("{url}：TCP 连接失败（{error}）", "{url}: TCP connect failed ({error})"),
    "reach.http": (
        "{url}：已连接，但没有完整的 HTTP 应答（{error}）",
        "{url}: connected, but no complete HTTP answer ({error})",
    ),
    "reach.slow": ("{url}：{seconds:g} 秒内没有完整应答", "{url}: no complete answer within {seconds:g} s"),
    "reach.provide": (
        "启动目标并核对目标文件 [urls] {role}（主机、端口、路径前缀）",
        "start the target and check [urls] {role} in the target file (host, port, path prefix)",
    ),
    "reach.plain": ("{kind}，明文 HTTP", "{kind}, plain HTTP"),
    "tls.ok": ("握手成功：{version}，证书经 {ca} 验证", "handshake done: {version}, certificate verified with {ca}"),
    "tls.verify": ("证书未通过验证（{error}）", "certificate not verified ({error})"),
    "tls.fail": ("TLS 握手失败（{error}）", "TLS handshake failed ({error})"),
    "tls.provide": (
        '私有 CA 签发的证书：目标文件 [tls] ca_file = "ca.pem"（CA 证书）；否则核对证书的主机名与有效期',
        'a certificate of a private CA: [tls] ca_file = "ca.pem" in the target file; else check the '
        "certificate's host name and validity",
    ),
    "tls.system": ("系统信任库", "the system trust store"),
    "token.ok": ("客户端 {client} 取得令牌", "client {client} got a token"),
    "token.none": (
        "目标文件未给出测试凭证，需要令牌的受保护接口都无法检验",
        "no harness credentials in the target file: no secured operation can be checked",
    ),
    "token.none.provide": (
        "目标文件 [credentials]（client_id 与 client_secret_env）或 --tzsb-client-id 及密钥环境变量",
        "[credentials] in the target file (client_id, client_secret_env), or --tzsb-client-id and "
        "the secret's environment variable",
    ),
    "token.fail": ("客户端 {client} 未取得令牌：{seen}", "client {client} got no token: {seen}"),
    "token.fail.provide": (
        "核对目标文件中该客户端的 client_id 与密钥（环境变量是否已设置），并在目标中登记该客户端",
        "check the client's client_id and secret (is the environment variable set?) and that the "
        "target registers the client",
    ),
    "token.noop": ("契约中该角色没有令牌接口", "the role's contract has no token operation"),
    "token.static": (
        "按绑定以静态密钥认证（无令牌交换）：目标接受客户端 {client} 的密钥（{op} 应答 HTTP {status}）",
        "a static key per the binding (no token exchange): the target takes client {client}'s key ({op} answered "
        "HTTP {status})",
    ),
    "token.static.refused": (
        "按绑定以静态密钥认证：目标拒绝客户端 {client} 的密钥（{op} 应答 HTTP 401）",
        "a static key per the binding: the target refuses client {client}'s key ({op} answered HTTP 401)",
    ),
    "token.static.provide": (
        "在目标文件中给出厂商为测试签发的密钥（client_secret）",
        "give the key the vendor issued for testing as client_secret in the target file",
    ),
    "op.ok": (
        "{method} {path}：HTTP {status}，响应为契约的信封",
        "{method} {path}: HTTP {status}, the contract's envelope",
    ),
    "op.provide": (
        "核对 [urls] {role} 是否为该角色接口的基础地址（路径前缀），以及测试凭证的权限范围",
        "check that [urls] {role} is the base of the role's operations (path prefix) and the harness "
        "credential's scopes",
    ),
    "op.none": ("契约中该角色没有无需参数的受保护读操作", "the role's contract has no parameterless secured read"),
    "seen.at": ("{at}：{seen}", "{at}: {seen}"),
    "seen.none": ("无应答（{error}）", "no answer ({error})"),
    "seen.status": ("HTTP {status} 不是契约为该操作列出的状态", "HTTP {status} is not a status the contract lists"),
    "seen.html": (
        "HTTP {status}，返回 HTML 页面而非 JSON（基础地址可能不对）",
        "HTTP {status}, an HTML page instead of JSON (wrong base URL?)",
    ),
    "seen.notjson": ("HTTP {status}，响应不是 JSON（{ctype}）", "HTTP {status}, the response is not JSON ({ctype})"),
    "seen.envelope": (
        "HTTP {status}，响应不是契约的信封",
        "HTTP {status}, the response is not the contract's envelope",
    ),
    "seen.code": ("HTTP {status}（{code}）", "HTTP {status} ({code})"),
    "budget": (
        "未检查：预检时限（{budget:g} 秒）已用完",
        "not checked: the preflight's time budget ({budget:g} s) is used up",
    ),
    "data.ok": ("{total} 条记录", "{total} records"),
    "data.empty": (
        "数据集为空（总条数 0）：依赖数据的功能与数据质量检查将为未测",
        "the data set is empty (total 0): the data-dependent and data-quality checks will be untested",
    ),
    "data.provide": (
        "在目标中装入测试数据（目标自身的种子数据或导入机制；参考服务器为 --seed），或经推送接口写入记录",
        "load test data into the target (its own seed or import hook; the reference server: --seed), "
        "or push records through the push operation",
    ),
    "data.denied": ("测试凭证无权读取（HTTP {status}）", "the harness credential may not read it (HTTP {status})"),
    "data.denied.provide": (
        "在目标中为测试凭证授予权限范围 {scope}",
        "grant scope {scope} to the harness client at the target",
    ),
    "data.unauth": (
        "未获准访问（HTTP 401）：测试凭证没有有效令牌，见“访问令牌”一项",
        "not authorised (HTTP 401): the harness has no valid token, see the access-token item",
    ),
    "data.nototal": ("应答中没有总条数", "no total in the answer"),
    "feed.ok": ("有变更（增量同步可检验）", "changes present (sync can be checked)"),
    "feed.empty": (
        "变更日志为空：增量同步的检查将为未测",
        "the change feed is empty: the sync checks will be untested",
    ),
    "client.ok": ("已登记，取得令牌（{purpose}）", "declared, got a token ({purpose})"),
    "client.missing": ("目标文件未提供（{purpose}）", "not in the target file ({purpose})"),
    "client.provide": (
        "目标文件 [clients.{name}]（client_id 与 client_secret_env），并在目标中登记该客户端{extra}",
        "[clients.{name}] in the target file (client_id, client_secret_env), registered at the target{extra}",
    ),
    "client.division": (
        "已登记，但没有 division（其数据范围所在的行政区划）",
        "declared, but without division (the division its data scope is registered for)",
    ),
    "client.division.provide": (
        '目标文件 [clients.{name}] division = "420100"（该客户端登记的行政区划）',
        'division = "420100" in [clients.{name}] (the division the client is registered for)',
    ),
    "client.uscc": (
        "已登记，但没有 owner_uscc（其代表的单位）",
        "declared, but without owner_uscc (the unit it acts for)",
    ),
    "client.uscc.provide": (
        '目标文件 [clients.{name}] owner_uscc = "…"（该客户端代表的单位的统一社会信用代码）',
        'owner_uscc = "…" in [clients.{name}] (the credit code of the unit the client acts for)',
    ),
    "driver.ok": ("已声明 {feature}，{seen}", "{feature} declared, {seen}"),
    "driver.attended": (
        "未声明 {feature}，采用有人值守模式（[simulators] attended = true）",
        "{feature} not declared: attended mode ([simulators] attended = true)",
    ),
    "driver.missing": (
        "未声明 {feature}，也未启用有人值守模式：流程走查、电子卷宗与客户端侧场景将为未测",
        "no {feature} and no attended mode: the workflow walk, dossiers and client-side scenarios will be untested",
    ),
    "driver.provide": (
        "被测系统实现流程驱动接口时：[features] {feature} = true 及各岗位客户端 [clients.officer-<岗位>]；"
        "否则 [simulators] attended = true（由操作员按提示办理）",
        "if the system implements the driver: [features] {feature} = true and a client per post "
        "[clients.officer-<post>]; else [simulators] attended = true (an operator follows instructions)",
    ),
    "dossiers.ok": ("卷宗调用接口有 {total} 份电子卷宗", "{total} dossiers at the dossier query"),
    "dossiers.empty": (
        "卷宗调用接口没有电子卷宗；流程驱动可在走查中产生卷宗",
        "no dossier at the dossier query; the workflow driver can make some during the walk",
    ),
    "dossiers.provide": (
        "在目标中归档至少一个办件，或声明流程驱动接口",
        "archive at least one case at the target, or declare the workflow driver",
    ),
    "users.missing": ("目标文件未声明（统一身份认证接口没有检索功能）", "not declared (the interface has no search)"),
    "users.provide": (
        '目标文件 [thresholds] {key} = "…"（平台认识的一个用户标识）',
        '[thresholds] {key} = "…" in the target file (a user id the platform knows)',
    ),
    "cases.ok": (
        "经许可系统 {url} 以客户端 {client} 推送测试申请",
        "test applications pushed to the licensing system {url} as client {client}",
    ),
    "cases.played": (
        "测试工具扮演许可系统（{where}），平台须把申请推送（T5-5）到该地址",
        "the harness plays the licensing system ({where}); the platform must push its applications (T5-5) there",
    ),
    "cases.missing": (
        "平台没有创建办件的接口，许可系统模拟器没有固定地址，目标文件也未给出许可系统地址：平台无从推送申请，"
        "办件上报与证照检查将为未测",
        "the platform has no operation that creates cases, the licensing simulator has no fixed address and the "
        "target file names no licensing system: the platform cannot push applications, so case report-backs and "
        "e-licences will be untested",
    ),
    "cases.provide": (
        "[simulators.ports] licensing = 端口（把平台的许可系统地址配置为该端口的模拟器），或 [urls] licensing（与平台相连的"
        "许可系统）及 [clients.{client}]（平台在许可系统的客户端）",
        "[simulators.ports] licensing = PORT (point the platform's licensing address at the simulator there), or "
        "[urls] licensing (the licensing system wired to the platform) and [clients.{client}] in the target file",
    ),
    "cases.noclient": (
        "已给出许可系统地址，但没有客户端 [clients.{client}]",
        "the licensing URL is given, but no client [clients.{client}]",
    ),
    "reports.ok": ("{n} 个报告编号，首个 {no}：HTTP 200", "{n} report numbers, the first {no}: HTTP 200"),
    "reports.missing": (
        "目标文件未声明样本报告编号（检验报告接口没有检索功能）",
        "no sample report numbers declared (the interface has no search)",
    ),
    "reports.sharing": (
        "目标文件未声明样本报告编号；套件将到共享平台的检验报告数据集中寻找",
        "no sample report numbers declared; the suites will look in the sharing platform's data set",
    ),
    "reports.at": ("报告编号 {no}", "report number {no}"),
    "reports.provide": (
        '目标文件 [thresholds] report_numbers = ["…"]（该系统可查到的报告编号）',
        '[thresholds] report_numbers = ["…"] (report numbers the system knows) in the target file',
    ),
    "callback.local": ("目标在本机，回调服务器监听回环地址", "the target is on this machine: callbacks on loopback"),
    "callback.ok": ("回调地址 {host}", "callback host {host}"),
    "callback.missing": (
        "目标不在本机，且未给出目标可访问的本机地址：接收目标回调的检查将为未测",
        "the target is elsewhere and no address it can reach is given: the checks that receive "
        "its calls will be untested",
    ),
    "callback.provide": (
        '目标文件 [thresholds] callback_host = "本机可被目标访问的地址"（可选 callback_port）',
        '[thresholds] callback_host = "an address of this machine the target reaches" (and callback_port)',
    ),
    "sim.port": ("将在 {host}:{port} 启动", "will start on {host}:{port}"),
    "sim.busy": ("端口 {host}:{port} 无法绑定（{error}）", "port {host}:{port} cannot be bound ({error})"),
    "sim.busy.provide": (
        "释放该端口，或更改 [simulators.ports] 并相应配置被测系统",
        "free the port, or change [simulators.ports] and configure the target to match",
    ),
    "sim.free": (
        "将在 {host} 的空闲端口启动（目标在本机）",
        "will start on a free port of {host} (the target is local)",
    ),
    "sim.unknown": (
        "目标不在本机，而模拟对端将在空闲端口启动，被测系统无从得知其地址",
        "the target is elsewhere, but the simulators would start on free ports it cannot know",
    ),
    "sim.provide": (
        "目标文件 [simulators.ports]（被测系统所配置的固定端口）或 [simulators.urls]（已在别处运行的模拟对端）",
        "[simulators.ports] (the fixed ports the target is configured with) or [simulators.urls] "
        "(simulators already running elsewhere) in the target file",
    ),
    "sim.provide.reach": (
        "启动模拟对端（python -m conformance.simulators）并核对 [simulators.urls]",
        "start the simulators (python -m conformance.simulators) and check [simulators.urls]",
    ),
    "feature.ok": ("已声明", "declared"),
    "feature.missing": ("未声明：{effect}", "not declared: {effect}"),
    "feature.provide": (
        "目标支持时：[features] {feature} = true",
        "if the target supports it: [features] {feature} = true",
    ),
}


def _msg(message: str, /, **kw: Any) -> Text:
    zh, en = MESSAGES[message]
    kw_en = {k: (v[1] if isinstance(v, tuple) else v) for k, v in kw.items()}
    kw_zh = {k: (v[0] if isinstance(v, tuple) else v) for k, v in kw.items()}
    return zh.format(**kw_zh), en.format(**kw_en)


def _clean(text: str, limit: int = 200) -> str:
    """Printable text of what a (possibly hostile) target sent: control and undecodable characters shown as ``?``."""
    out = "".join(ch if ch.isprintable() and ch != "\ufffd" else (" " if ch.isspace() else "?") for ch in text)
    return " ".join(out.split())[:limit]


# ---------------------------------------------------------------------------------------------- what suites need
@dataclass(frozen=True)
class ClientNeed:
    """A ``[clients.<name>]`` entry the suites ask for (the suites' convention, not the contracts')."""

    name: str
    roles: tuple[str, ...] | None  # roles under test that need it (None: every role)
    purpose: Text
    feature: str | None = None  # needed only when the target declares this optional feature
    division: bool = False  # the entry must give ``division`` (the division its data scope is registered for)
    uscc: bool = False  # the entry must give ``owner_uscc`` (the unit the client acts for)


#: The named clients the suites ask for, from their skip reasons (``need_client``, ``tzsb_client(..., name)``).
#: Posts of the workflow (``officer-<post>``) and the auditor are derived from the contracts instead.
CLIENT_NEEDS: tuple[ClientNeed, ...] = (
    ClientNeed(
        "licensing-system",
        ("gov-platform",),
        (
            "许可系统在平台的客户端：平台各接口的调用方，缺少时平台套件全部未测",
            "the licensing system's client at the platform: the caller of every platform operation",
        ),
    ),
    ClientNeed(
        "licensing-system",
        ("inspection", "supervision"),
        (
            "许可系统在该系统的客户端（缺少时以测试凭证调用）",
            "the licensing system's client there (else the harness credential is used)",
        ),
    ),
    ClientNeed(
        "province-caller",
        ("gov-platform",),
        ("省级调用方，缩略图接口按调用方层级", "a province-level caller (thumbnails by caller level)"),
    ),
    ClientNeed(
        "city-caller",
        ("gov-platform",),
        ("地市级调用方，缩略图接口按调用方层级", "a prefecture-level caller (thumbnails by caller level)"),
    ),
    ClientNeed(
        "reader",
        ("sharing",),
        (
            "只读客户端，未获数据所属主体授权（授权与脱敏检查）",
            "a read-only client without grants (grant and masking checks)",
        ),
    ),
    ClientNeed(
        "city-reader",
        ("sharing",),
        (
            "区划受限的调用方（数据范围检查），须给出 division",
            "a caller limited to a division (data-scope checks), with division",
        ),
        division=True,
    ),
    ClientNeed("open-data", ("sharing",), ("开放数据客户端", "the open-data client"), feature="open-data"),
    ClientNeed(
        "permission-requester",
        ("sharing",),
        (
            "权限变更申请方（sharing:permission:request，另持 sharing:permission:approve 以检验不得自批）",
            "the permission-change requester (request scope; with the approval scope too, to try self-approval)",
        ),
    ),
    ClientNeed(
        "permission-approver",
        ("sharing",),
        ("权限变更审批方（sharing:permission:approve）", "the permission-change approver (approval scope)"),
    ),
    ClientNeed(
        "permission-subject",
        ("sharing",),
        (
            "被变更、被暂停的客户端：持有一个数据集的读取范围并缺少另一个（权限变更审批、暂停检查）",
            "the client whose scopes are changed and which is suspended: one data-set read scope, lacking another",
        ),
    ),
    ClientNeed(
        "unit-grantor",
        ("sharing",),
        (
            "代表一个单位、持有 sharing:grant 的客户端（非所属主体的授权被拒绝），须给出 owner_uscc",
            "a client acting for one unit with the grant scope (grants for others refused), with owner_uscc",
        ),
        uscc=True,
    ),
    ClientNeed(
        "national-platform",
        ("sharing",),
        (
            "国家平台在被测省级平台的客户端：下发数据、拉取增量同步（两级交换，docs/two-tier.md）",
            "the national platform's client at the provincial platform: pushes down, pulls the change feed "
            "(two-tier exchange, docs/two-tier.md)",
        ),
        feature="upstream-exchange",
    ),
    *(
        ClientNeed(
            name,
            ("sharing",),
            (
                f"下级数据来源（{zh}）：向省级平台推送，须给出 division（两级交换）",
                f"a lower-level data source ({en}): pushes into the province, with division (two-tier exchange)",
            ),
            feature="upstream-exchange",
            division=True,
        )
        for name, zh, en in (
            ("city-supervision", "地方监察机构", "a city supervision body"),
            ("inspection-institution", "检验检测机构", "an inspection institution"),
            ("enterprise", "企业", "an enterprise"),
        )
    ),
    ClientNeed(
        "research-institute",
        ("sharing",),
        (
            "定向开放的开放对象（科研机构），持有汇总数据的权限范围",
            "a directed opening's addressee (research institute)",
        ),
        feature="open-data",
    ),
    ClientNeed(
        "research-other",
        ("sharing",),
        (
            "持有定向开放汇总数据的权限范围、不是开放对象的客户端",
            "a client holding the aggregates' scope that is no addressee",
        ),
        feature="open-data",
    ),
    ClientNeed(
        "owner",
        ("sharing",),
        (
            "代表一个数据所属主体的客户端（表中写 owner_uscc），查阅其数据的访问记录",
            "a client acting for a data owner (owner_uscc in its table): the owner's access log",
        ),
        feature="open-data",
    ),
    ClientNeed(
        "other-owner",
        ("sharing",),
        (
            "代表另一数据所属主体的客户端（owner_uscc），不得查到前者的访问记录",
            "a client acting for another owner (owner_uscc): must not see the first owner's log",
        ),
        feature="open-data",
    ),
    ClientNeed(
        "limited",
        None,
        (
            "限流客户端：速率上限低、每日配额小（限流检查）",
            "a rate-limited client: low rate, small daily quota (rate-limit checks)",
        ),
    ),
    ClientNeed(
        "signer", None, ("须签名请求的客户端", "a client that must sign its requests"), feature="request-signature"
    ),
    ClientNeed(
        "short-lived",
        None,
        (
            "令牌有效期短的客户端（令牌过期检查；缺少时等待测试凭证的令牌过期）",
            "a client with short-lived tokens (expiry check; else the harness token's expiry is awaited)",
        ),
    ),
)
#: Where the platform suites open test cases (T5-5 to the licensing system) and as which client of it.
CASE_SOURCE_ROLE, CASE_PUSHER = "licensing", "gov-platform"
#: The inspection system's report query the sample report numbers are read with (as the suites do).
REPORT_QUERY = "getInspectionReport"
#: ``[thresholds]`` keys of the unified-identity users (T5-3 natural person, T5-4 legal person).
USER_KEYS = (
    ("T5-3", "gov_natural_user_id", ("自然人", "natural person")),
    ("T5-4", "gov_legal_user_id", ("法人", "legal person")),
)
#: The roles whose suites receive calls from the target on a callback server of the harness.
CALLBACK_ROLES = ("sharing", "inspection")
#: Optional features whose absence makes checks 未测 (not 不适用), per role.
FEATURE_NEEDS = {
    "sharing": (
        (
            "upstream-exchange",
            (
                "省级平台与国家平台的自动交换（INFO2007.2.5.3）将为未测（未声明向上级平台上报）",
                "the exchange with the national platform (INFO2007.2.5.3) will be untested (reporting up not declared)",
            ),
        ),
    ),
    "licensing": (
        (
            "sms-gateway",
            (
                "短信通知检查将为未测（短信网关无法指向模拟网关）",
                "the SMS checks will be untested (the gateway cannot be redirected)",
            ),
        ),
    ),
}


@functools.cache
def known_roles() -> tuple[str, ...]:
    """The roles the contracts define (``x-role`` of the OpenAPI documents)."""
    docs = [contracts.openapi(name) for name in contracts.openapi_names()]
    return tuple(dict.fromkeys(d["x-role"] for d in docs if d.get("x-role") and not d.get("x-components-only")))


def _optional_docs(role: str) -> dict[str, str]:
    """Optional-feature documents of a role: feature name → document."""
    return {
        str(contracts.openapi(d)["x-optional-feature"]): d
        for d in documents_for_role(role)
        if contracts.openapi(d).get("x-optional-feature")
    }


def _op(role: str, operation_id: str) -> Operation | None:
    return next((o for o in role_operations(role) if o.operation_id == operation_id), None)


def health_path(role: str) -> str:
    """The path of the role's unsecured parameterless read (the health probe); ``/`` for a role without one."""
    ops = role_operations(role)
    return next(
        (o.path for o in ops if o.method == "get" and not o.secured and not any(p.required for p in o.params)), "/"
    )


def _secured_reads(role: str) -> list[Operation]:
    """The secured reads of the role's own documents (not of an optional feature), in the contract's order."""
    optional = set(_optional_docs(role).values())
    return [o for o in role_operations(role) if o.doc not in optional and o.method == "get" and o.secured]


def probe_op(role: str) -> Operation | None:
    """A cheap secured read of the role: no required parameter, not of a data set, first in the contract."""
    ops = _secured_reads(role)
    if not ops:
        return None
    return min(ops, key=lambda o: (sum(p.required for p in o.params), o.data_set is not None, ops.index(o)))


def _fill(op: Operation, values: dict[str, str] | None = None) -> str:
    path = op.path
    for p in op.params:
        if p.location == "path":
            path = path.replace("{" + p.name + "}", quote(str((values or {}).get(p.name, PLACEHOLDER)), safe=""))
    return path


def _has_param(op: Operation, name: str) -> bool:
    return any(p.name == name and p.location == "query" for p in op.params)


def _is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# ---------------------------------------------------------------------------------------------- the run
def _bounded(fn: Callable[[], T], wait: float) -> tuple[bool, T | None, BaseException | None]:
    """Run ``fn`` in a daemon thread; (finished, result, exception). A call still running after ``wait`` is
    abandoned (the safe client's own timeouts end it soon after)."""
    box: dict[str, Any] = {}

    def work() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:  # the preflight never raises on a hostile target
            box["error"] = exc

    thread = threading.Thread(target=work, daemon=True, name="tzsb-preflight")
    thread.start()
    thread.join(max(0.0, wait))
    if thread.is_alive():
        return False, None, None
    return True, box.get("value"), box.get("error")


def _no_answer(error: str, url: str = "") -> TargetResponse:
    return TargetResponse(None, {}, b"", False, 0.0, error, url)


def _exchange(call: Callable[[], TargetResponse], cap: float, url: str = "", limit: int = 300) -> TargetResponse:
    """``call`` bounded by :func:`_bounded`: its response, or one without an answer saying why."""
    done, resp, exc = _bounded(call, cap)
    if not done:
        return _no_answer(f"no complete answer within {cap:.0f} s", url)
    if exc is not None or resp is None:
        return _no_answer(f"{type(exc).__name__}: {exc}"[:limit] if exc else "no answer", url)
    return resp


class _Run:
    def __init__(self, target: Target, budget_s: float, evidence: Evidence | None) -> None:
        self.target = target
        self.budget_s = budget_s
        self.end = time.monotonic() + budget_s
        self.evidence = evidence or Evidence()
        self.checks: list[Check] = []
        self._clients: dict[tuple[str, str | None], TargetClient] = {}
        self._tokens: dict[tuple[str, str | None], tuple[bool, str]] = {}
        #: per client: the RFC 6749 error with which the target refused its credential (``invalid_client`` …), or None
        self.refusals: dict[tuple[str, str | None], str | None] = {}

    def add(
        self,
        key: str,
        label: Text,
        status: str,
        detail: Text,
        provide: Text | None = None,
        *,
        fatal: bool = False,
        stops: bool = False,
    ) -> None:
        self.checks.append(
            Check(
                key=key,
                label=label[0],
                label_en=label[1],
                status=status,
                detail=detail[0],
                provide=provide[0] if provide else None,
                fatal=fatal,
                detail_en=detail[1],
                provide_en=provide[1] if provide else None,
                stops=stops,
            )
        )

    def left(self) -> float:
        return self.end - time.monotonic()

    def out_of_time(self) -> Text:
        return _msg("budget", budget=self.budget_s)

    def token_failed(self, client: str, seen: str) -> Text:
        """The detail of a token request of ``client`` that failed (``seen``: what :meth:`token` saw)."""
        return self.out_of_time() if seen == "budget" else _msg("token.fail", client=client, seen=seen)

    # ------------------------------------------------------------------ HTTP
    def client(self, role: str, name: str | None = None) -> TargetClient:
        """An (unauthenticated until :meth:`token`) safe client for ``role``'s URL as client ``name`` (None: harness)."""
        if (role, name) not in self._clients:
            kw = {"evidence": self.evidence, "timeout": (CONNECT_S, READ_S), "max_bytes": MAX_BYTES}
            self._clients[role, name] = self.target.http_client(role, name, **kw)
        return self._clients[role, name]

    def caller(self) -> TargetClient:
        """A client of the role under test as its natural caller (:data:`CLIENT_NEEDS`) when the target file has it."""
        role = self.target.role
        name = next((n.name for n in CLIENT_NEEDS if n.roles and role in n.roles), None)
        return self.client(role, name) if name and self.target.client(name) else self.client(role)

    def _arm(self, client: TargetClient) -> float | None:
        left = self.left()
        if left <= 0.05:
            return None
        cap = min(left, REQUEST_CAP_S)
        client.timeout = (min(CONNECT_S, cap), min(READ_S, cap))
        return cap

    def request(self, client: TargetClient, method: str, path: str, **kw: Any) -> TargetResponse:
        """One exchange, never raising, never longer than :data:`REQUEST_CAP_S` nor the budget left."""
        cap = self._arm(client)
        if cap is None:
            return _no_answer("budget")
        if client.client_id and kw.get("auth", True) and not self.token(client)[0]:
            kw["auth"] = False
        return _exchange(lambda: client.request(method, path, **kw), cap)

    def token(self, client: TargetClient) -> tuple[bool, str]:
        """(got a token, what was seen) — one token request per client, cached."""
        key = (client.base_url, client.client_id)
        if key in self._tokens:
            return self._tokens[key]
        cap = self._arm(client)
        if cap is None:
            return False, "budget"
        before = len(self.evidence.exchanges)
        done, _value, exc = _bounded(lambda: client.token(), cap)
        if not done:
            result = (False, f"no complete answer within {cap:.0f} s")
        elif exc is None:
            result = (True, "")
        else:
            seen = self.evidence.exchanges[before:]
            last = seen[-1] if seen else None
            if last is None:
                result = (False, _clean(str(exc)))
            elif last.status is None:
                result = (False, _clean(last.error or str(exc)))
            else:
                result = (False, f"HTTP {last.status} {_clean(last.response_body or '', 160)}".strip())
        self._tokens[key] = result
        self.refusals[key] = _credential_refusal(self.evidence.exchanges[before:]) if done and exc else None
        return result

    def seen(self, r: TargetResponse) -> Text:
        if r.status is None:
            if r.error == "budget":
                return self.out_of_time()
            return _msg("seen.none", error=_clean(r.error or "-"))
        body = r.json()
        code = body.get("code") if isinstance(body, dict) else None
        if isinstance(code, str):
            return _msg("seen.code", status=r.status, code=_clean(code, 40))
        return _msg("seen.status", status=r.status)

    def answers(self, op: Operation, r: TargetResponse) -> tuple[bool, Text]:
        """The response is one the contract lists for ``op``, with the contract's envelope."""
        if r.status is None:
            return False, self.seen(r)
        media = op.responses.get(str(r.status))
        if media is None:
            return False, _msg("seen.status", status=r.status)
        ctype = (r.header("content-type") or "").lower()
        body = r.json()
        if body is None:
            if "html" in ctype or r.content.lstrip()[:1] == b"<":
                return False, _msg("seen.html", status=r.status)
            return False, _msg("seen.notjson", status=r.status, ctype=_clean(ctype, 60) or "-")
        if 200 <= r.status < 300:
            schema = validator("envelope")
        else:
            uri = media.get("application/json")
            schema = validator_at(uri) if uri else validator("envelope")
        if not schema.is_valid(body):
            return False, _msg("seen.envelope", status=r.status)
        return True, ("", "")

    def answering(self, op: Operation, path: str) -> tuple[str, Text, Text | None]:
        """``op`` at ``path`` as the harness: (status, what was seen, how to provide) — ok when it answers with a
        status the contract lists and the contract's envelope."""
        method = op.method.upper()
        r = self.request(self.client(self.target.role), method, path)
        ok, seen = self.answers(op, r)
        if ok:
            return OK, _msg("op.ok", method=method, path=path, status=r.status), None
        return FAILED, _msg("seen.at", at=f"{method} {path}", seen=seen), _msg("op.provide", role=self.target.role)


def run_preflight(target: Target, *, budget_s: float = 12.0, evidence: Evidence | None = None) -> Preflight:
    """Check in seconds what ``target`` offers and lacks for its role (never raises on a hostile target)."""
    started = time.monotonic()
    run = _Run(target, budget_s, evidence)
    try:
        _all_checks(run)
    except Exception as exc:  # a bug of the preflight must not stop the run: say so and go on
        error = f"{type(exc).__name__}: {exc}"
        run.add(
            "preflight",
            ("预检", "preflight"),
            FAILED,
            (f"预检自身出错：{error}"[:300], f"preflight error: {error}"[:300]),
        )
    return Preflight(run.checks, time.monotonic() - started, role=target.role, target=target.name, budget_s=budget_s)


def _all_checks(run: _Run) -> None:
    t = run.target
    role = t.role
    roles = known_roles()
    if role not in roles:
        unknown = _msg("role.unknown", role=role or "-", known=", ".join(roles))
        run.add("role", _msg("label.role"), FAILED, unknown, _msg("role.provide"), fatal=True)
        return
    run.add("role", _msg("label.role"), OK, _msg("role.ok", role=role))
    if role not in t.urls:
        no_url = _msg("url.missing", role=role)
        run.add(
            f"reach:{role}", _msg("label.url", role=role), MISSING, no_url, _msg("url.provide", role=role), fatal=True
        )
    _reach_all(run)
    if any(c.fatal for c in run.checks):
        return
    _token(run)  # without a token the rest still runs: a 401 still shows the contract's envelope
    _probe(run)
    extra = {"sharing": _sharing, "licensing": _licensing, "gov-platform": _gov_platform, "inspection": _inspection}
    if role in extra:
        extra[role](run)
    _simulators(run)
    _clients(run)
    if role in CALLBACK_ROLES:
        _callback(run)


# ---------------------------------------------------------------------------------------------- reachability
def _reach_all(run: _Run) -> None:
    """TCP connect, TLS handshake (https), one HTTP request: every base URL of the target file, in parallel."""
    t = run.target
    urls = [(name, url.rstrip("/")) for name, url in t.urls.items()]
    results: dict[str, dict[str, Any]] = {name: {} for name, _ in urls}
    wait = min(max(run.left(), 1.0), CONNECT_S + READ_S + REQUEST_CAP_S)
    threads = []
    for name, url in urls:
        th = threading.Thread(
            target=_probe_url, args=(run, name, url, results[name]), daemon=True, name=f"tzsb-preflight-{name}"
        )
        th.start()
        threads.append(th)
    end = time.monotonic() + wait
    for th in threads:
        th.join(max(0.0, end - time.monotonic()))
    for name, url in urls:
        res = dict(results[name])  # a copy: a probe still running may yet write
        under_test, stops = name == t.role, False
        label = _msg("label.reach", role=name)
        scheme = urlsplit(url).scheme
        if scheme not in ("http", "https"):
            failure = _msg("url.bad", url=url)
        elif "tcp" not in res:
            failure = _msg("reach.slow", url=url, seconds=round(wait, 1))
        elif res["tcp"] is not None:
            failure = _msg("reach.tcp", url=url, error=_clean(res["tcp"]))
        elif scheme == "https" and not _tls_check(run, name, res, under_test):
            continue  # the TLS check says why (fatal for the role under test)
        else:
            resp: TargetResponse | None = res.get("http")
            if resp is not None and resp.status is not None and not resp.truncated:
                what = _describe(resp, scheme)
                run.add(f"reach:{name}", label, OK, _msg("reach.ok", url=url, status=resp.status, what=what))
                continue
            error = (resp.error if resp is not None else None) or f"no complete answer within {wait:.0f} s"
            failure, stops = _msg("reach.http", url=url, error=_clean(error)), under_test
        provide = _msg("reach.provide", role=name)
        run.add(f"reach:{name}", label, FAILED, failure, provide, fatal=under_test, stops=stops)


def _describe(resp: TargetResponse, scheme: str) -> Text:
    ctype = (resp.header("content-type") or "-").split(";")[0]
    body = resp.json()
    kind = ("JSON 信封", "JSON envelope") if isinstance(body, dict) and "code" in body else (ctype, ctype)
    return _msg("reach.plain", kind=kind) if scheme == "http" else kind


def _probe_url(run: _Run, name: str, url: str, out: dict[str, Any]) -> None:
    """Fill ``out``: ``tcp`` (None or error), ``tls`` (version string, or an exception), ``http`` (a response)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port or (443 if parts.scheme == "https" else 80)
        if parts.scheme not in ("http", "https") or not host:
            out["tcp"] = "not an http(s) URL"
            return
        try:
            sock = socket.create_connection((host, port), timeout=CONNECT_S)
        except OSError as exc:
            out["tcp"] = f"{type(exc).__name__}: {exc}"[:200]
            return
        out["tcp"] = None
        ca = run.target.ca_file or ca_file_for(url)
        out["ca"] = ca
        try:
            if parts.scheme == "https":
                try:
                    ctx = ssl.create_default_context(cafile=ca) if ca else ssl.create_default_context()
                    sock.settimeout(READ_S)
                    with ctx.wrap_socket(sock, server_hostname=host) as tls:
                        out["tls"] = tls.version() or "TLS"
                except (OSError, ssl.SSLError, ValueError) as exc:
                    out["tls"] = exc
                    return
        finally:
            sock.close()
        client = TargetClient(
            url, evidence=run.evidence, timeout=(CONNECT_S, READ_S), max_bytes=MAX_BYTES, ca_file=run.target.ca_file
        )
        out["http"] = _exchange(lambda: client.get(health_path(name), auth=False), REQUEST_CAP_S, url, 200)
    except Exception as exc:  # never let a probe thread die silently with nothing said
        out.setdefault("tcp", f"{type(exc).__name__}: {exc}"[:200])
        out["http"] = _no_answer(f"{type(exc).__name__}: {exc}"[:200], url)


def _tls_check(run: _Run, name: str, res: dict[str, Any], under_test: bool) -> bool:
    """The ``tls:<name>`` check; whether the handshake succeeded."""
    label, tls, ca = _msg("label.tls", role=name), res.get("tls"), res.get("ca")
    if isinstance(tls, str):
        run.add(f"tls:{name}", label, OK, _msg("tls.ok", version=tls, ca=(ca, ca) if ca else MESSAGES["tls.system"]))
        return True
    if tls is None:  # the probe did not get that far in time
        detail = _msg("tls.fail", error="timeout")
    else:
        kind = "tls.verify" if isinstance(tls, ssl.SSLCertVerificationError) else "tls.fail"
        detail = _msg(kind, error=f"{type(tls).__name__}: {tls}"[:200])
    run.add(f"tls:{name}", label, FAILED, detail, _msg("tls.provide"), fatal=under_test)
    return False


# ---------------------------------------------------------------------------------------------- token, probe
#: The contract's token errors (security.schema.json ``$defs/tokenError``) about the grant the harness asks for
#: (client credentials, which the profile requires): a target answering one of them has a broken token endpoint.
GRANT_ERRORS = frozenset({"invalid_grant", "unsupported_grant_type"})


def _credential_refusal(exchanges: list[Any]) -> str | None:
    """The RFC 6749 §5.2 error of the last token answer when it is a well-formed refusal of the credential (400 or 401
    with a body of the contract's token error, not one of :data:`GRANT_ERRORS`), else None: garbage, a 5xx or no
    answer is the endpoint's own fault."""
    last = exchanges[-1] if exchanges else None
    if last is None or last.status not in (400, 401):
        return None
    try:
        body = loads_bounded(last.response_body or "")
    except ValueError:
        return None
    if not validator("security#/$defs/tokenError").is_valid(body) or body["error"] in GRANT_ERRORS:
        return None
    return str(body["error"])


def _token(run: _Run) -> None:
    t = run.target
    issue = _op(t.role, "issueToken")
    label = _msg("label.token", op=issue.operation_id if issue else "issueToken")
    if issue is None:
        run.add("token", label, MISSING, _msg("token.noop"))
    elif t.credentials is None:
        run.add("token", label, MISSING, _msg("token.none"), _msg("token.none.provide"))
    elif static_key(run.client(t.role).base_url):
        _static_key(run, label)
    else:
        client = run.client(t.role)
        got, seen = run.token(client)
        if got:
            run.add("token", label, OK, _msg("token.ok", client=t.credentials.client_id))
            return
        # a refusal of the harness's own credential (wrong, or not registered there): no check of a protected
        # operation can decide anything; the run stops rather than judge the target on its refusal
        refused = run.refusals.get((client.base_url, client.client_id)) is not None
        refused = refused and any(op.secured for op in role_operations(t.role))
        detail = run.token_failed(t.credentials.client_id, seen)
        run.add("token", label, FAILED, detail, _msg("token.fail.provide"), fatal=refused, stops=refused)


def _static_key(run: _Run, label: Text) -> None:
    """A static-key dialect has no token to ask for: the key is proven by one secured read instead. A key the target
    refuses stops the run, as a refused token request does: every protected check would only see that refusal."""
    t = run.target
    assert t.credentials is not None
    op = probe_op(t.role)
    if op is None:
        return
    r = run.request(run.client(t.role), "GET", _fill(op))
    who = {"client": t.credentials.client_id, "op": op.operation_id}
    if r.status == 401:
        run.add(
            "token",
            label,
            FAILED,
            _msg("token.static.refused", **who),
            _msg("token.static.provide"),
            fatal=True,
            stops=True,
        )
    elif r.status is not None:
        run.add("token", label, OK, _msg("token.static", status=r.status, **who))


def _probe(run: _Run) -> None:
    op = probe_op(run.target.role)
    if op is None:
        run.add("op", _msg("label.op", op="-"), MISSING, _msg("op.none"))
    else:
        run.add(f"op:{op.operation_id}", _msg("label.op", op=op.operation_id), *run.answering(op, _fill(op)))


# ---------------------------------------------------------------------------------------------- sharing
def _sharing(run: _Run) -> None:
    role = run.target.role
    client = run.client(role)
    ops = role_operations(role)
    for doc in documents_for_role(role):
        for name, spec in (contracts.openapi(doc).get("x-data-sets") or {}).items():
            title = str(spec.get("title", name))
            for kind, path in (("data", str(spec["path"])), ("feed", f"{spec['path']}/changes")):
                op = next((o for o in ops if o.data_set == name and o.method == "get" and o.path == path), None)
                if op is None:
                    continue
                key, label = f"{kind}:{name}", _msg(f"label.{kind}", title=title)
                n = _read(run, client, op, key, label, feed=kind == "feed")
                if n is not None and n > 0:
                    run.add(key, label, OK, _msg(f"{kind}.ok", total=n))
                elif n is not None:
                    run.add(key, label, MISSING, _msg(f"{kind}.empty"), _msg("data.provide"))
    _feature_needs(run)


def _read(run: _Run, client: TargetClient, op: Operation, key: str, label: Text, feed: bool = False) -> int | None:
    """How many records a query's ``total`` says, or (``feed``) how many changes the feed's first page holds (at most
    one); None, with a failed check, when the answer says neither."""
    param, field = ("limit", "items") if feed else ("size", "total")
    r = run.request(client, "GET", op.path, params={param: 1} if _has_param(op, param) else {})
    body = r.json()
    data = body.get("data") if isinstance(body, dict) and r.ok else None
    value = data.get(field) if isinstance(data, dict) else None
    if feed and isinstance(value, list):
        return len(value)
    if not feed and isinstance(value, int) and not isinstance(value, bool):
        return value
    if r.status == 401:
        run.add(key, label, FAILED, _msg("data.unauth"), _msg("token.fail.provide"))
    elif r.status == 403:
        scope = op.scope if isinstance(op.scope, str) else " / ".join(op.scope or [])
        run.add(key, label, FAILED, _msg("data.denied", status=r.status), _msg("data.denied.provide", scope=scope))
    else:
        ok, seen = run.answers(op, r)
        detail = _msg("seen.at", at=f"GET {op.path}", seen=seen if not ok else _msg("data.nototal"))
        run.add(key, label, FAILED, detail, _msg("op.provide", role=run.target.role))
    return None


# ---------------------------------------------------------------------------------------------- licensing
def _licensing(run: _Run) -> None:
    t = run.target
    role = t.role
    optional = _optional_docs(role)
    label = _msg("label.driver")
    for feature, doc in optional.items():
        if feature in t.features:
            op = next((o for o in operations(doc) if o.method == "get" and o.secured), None)
            if op is not None:
                status, seen, provide = run.answering(op, _fill(op))
                run.add("driver", label, status, _msg("driver.ok", feature=feature, seen=seen), provide)
        elif t.simulators.attended:
            run.add("driver", label, OK, _msg("driver.attended", feature=feature))
        else:
            missing = _msg("driver.missing", feature=feature)
            run.add("driver", label, MISSING, missing, _msg("driver.provide", feature=feature))
    dossiers = next(
        (o for o in _secured_reads(role) if "{" not in o.path and str(o.interface or "").startswith("dossier")), None
    )
    if dossiers is not None:
        label = _msg("label.dossiers")
        n = _read(run, run.client(role), dossiers, "data:dossiers", label)
        if n is not None and n > 0:
            run.add("data:dossiers", label, OK, _msg("dossiers.ok", total=n))
        elif n is not None and any(f in t.features for f in optional):
            run.add("data:dossiers", label, OK, _msg("dossiers.empty"))
        elif n is not None:
            run.add("data:dossiers", label, MISSING, _msg("dossiers.empty"), _msg("dossiers.provide"))
    _feature_needs(run)


def _feature_needs(run: _Run) -> None:
    """The optional features whose absence makes checks of the role 未测 (:data:`FEATURE_NEEDS`)."""
    t = run.target
    for feature, effect in FEATURE_NEEDS.get(t.role, ()):
        key, label = f"feature:{feature}", _msg("label.feature", feature=feature)
        if feature in t.features:
            run.add(key, label, OK, _msg("feature.ok"))
        else:
            run.add(
                key, label, MISSING, _msg("feature.missing", effect=effect), _msg("feature.provide", feature=feature)
            )


def _simulators(run: _Run) -> None:
    t = run.target
    sims = t.simulators
    for role in COUNTERPARTS.get(t.role, ()):
        if COUNTERPART_FEATURE.get(role, t.role) not in (*t.features, t.role):
            continue  # played only for a target that declares it (a sharing platform that reports up)
        key, label, port = f"sim:{role}", _msg("label.sim", role=role), sims.ports.get(role)
        if sims.external:
            url = sims.urls.get(role)
            if not url:
                continue
            client = TargetClient(url, evidence=run.evidence, timeout=(CONNECT_S, READ_S), max_bytes=MAX_BYTES)
            r = run.request(client, "GET", health_path(contract_role(role)), auth=False)
            ok = r.status is not None
            seen = _msg("seen.at", at=url, seen=run.seen(r))
            run.add(key, label, OK if ok else FAILED, seen, None if ok else _msg("sim.provide.reach"))
        elif port:
            try:
                with socket.socket(socket.AF_INET6 if ":" in sims.host else socket.AF_INET) as s:
                    s.bind((sims.host, port))
                run.add(key, label, OK, _msg("sim.port", host=sims.host, port=port))
            except OSError as exc:
                busy = _msg("sim.busy", host=sims.host, port=port, error=str(exc)[:120])
                run.add(key, label, FAILED, busy, _msg("sim.busy.provide"))
        elif _is_loopback(t.url()):
            run.add(key, label, OK, _msg("sim.free", host=sims.host))
        else:
            run.add(key, label, MISSING, _msg("sim.unknown"), _msg("sim.provide"))


# ---------------------------------------------------------------------------------------------- gov-platform
def _sample(run: _Run, key: str, label: Text, op: Operation, value: str, *, ok: Text, at: Any, provide: Text) -> None:
    """``op`` as the role's caller with a sample ``value`` of the target file in its path parameter: ``ok`` on
    HTTP 200, else failed with what was seen at ``at``."""
    param = next((p.name for p in op.params if p.location == "path"), "")
    r = run.request(run.caller(), "GET", _fill(op, {param: value}))
    if r.status == 200:
        run.add(key, label, OK, ok)
    else:
        run.add(key, label, FAILED, _msg("seen.at", at=at, seen=run.seen(r)), provide)


def _gov_platform(run: _Run) -> None:
    t = run.target
    for interface, key, what in USER_KEYS:
        label = _msg("label.users", label=what)
        op = next((o for o in role_operations(t.role) if o.interface == interface), None)
        value = t.thresholds.get(key)
        uid = value[0] if isinstance(value, list) and value else value
        if op is None:
            continue
        if not uid:
            run.add(f"data:{key}", label, MISSING, _msg("users.missing"), _msg("users.provide", key=key))
            continue
        at, provide = f"{key} = {uid}", _msg("users.provide", key=key)
        _sample(
            run, f"data:{key}", label, op, str(uid), ok=_msg("seen.at", at=at, seen="HTTP 200"), at=at, provide=provide
        )
    label = _msg("label.cases")
    sims = t.simulators
    played = sims.urls.get(CASE_SOURCE_ROLE) or (
        f"{sims.host}:{sims.ports[CASE_SOURCE_ROLE]}" if sims.ports.get(CASE_SOURCE_ROLE) else None
    )
    provide = _msg("cases.provide", client=CASE_PUSHER)
    if played:  # the harness plays the licensing system: the platform pushes its applications (T5-5) to it
        run.add("cases", label, OK, _msg("cases.played", where=played))
    elif CASE_SOURCE_ROLE not in t.urls:
        run.add("cases", label, MISSING, _msg("cases.missing"), provide)
    elif t.client(CASE_PUSHER) is None:
        run.add("cases", label, MISSING, _msg("cases.noclient", client=CASE_PUSHER), provide)
    else:
        got, seen = run.token(run.client(CASE_SOURCE_ROLE, CASE_PUSHER))
        if got:
            run.add("cases", label, OK, _msg("cases.ok", url=t.url(CASE_SOURCE_ROLE), client=CASE_PUSHER))
        else:
            run.add("cases", label, FAILED, run.token_failed(CASE_PUSHER, seen), provide)


# ---------------------------------------------------------------------------------------------- inspection
def _inspection(run: _Run) -> None:
    t = run.target
    key, label = "data:report_numbers", _msg("label.reports")
    numbers = string_list(t.thresholds.get("report_numbers"))
    op = _op(t.role, REPORT_QUERY)
    if not numbers:
        missing = "reports.sharing" if "sharing" in t.urls else "reports.missing"
        run.add(key, label, MISSING, _msg(missing), _msg("reports.provide"))
    elif op is not None:
        ok, at = _msg("reports.ok", n=len(numbers), no=numbers[0]), _msg("reports.at", no=numbers[0])
        _sample(run, key, label, op, numbers[0], ok=ok, at=at, provide=_msg("reports.provide"))


# ---------------------------------------------------------------------------------------------- clients
def _needs(run: _Run) -> list[ClientNeed]:
    """The clients the suites of the role under test ask for."""
    t = run.target
    role = t.role
    out: list[ClientNeed] = []
    if any(f in t.features for f in _optional_docs(role)):
        for post in contracts.codelist("roles")["items"]:
            code, clause = post["code"], post.get("clause", "")
            purpose = (f"岗位“{post['name']}”（{clause}），经流程驱动办理", f"the post {code} ({clause}) on the driver")
            out.append(ClientNeed(f"officer-{code}", None, purpose))
    if _op(role, "queryAudit") is not None:
        purpose = ("审计员（audit:read），经审计查询核对审计记录", "the auditor (audit:read): audit checks")
        out.append(ClientNeed("auditor", None, purpose))
    return out + [
        need
        for need in CLIENT_NEEDS
        if (need.roles is None or role in need.roles) and (not need.feature or need.feature in t.features)
    ]


def _clients(run: _Run) -> None:
    t = run.target
    for need in _needs(run):
        name = need.name
        key, label = f"client:{name}", _msg("label.client", name=name)
        extra = ("（须给出 division）", " (with division)") if need.division else ("", "")
        extra = ("（须给出 owner_uscc）", " (with owner_uscc)") if need.uscc else extra
        provide = _msg("client.provide", name=name, extra=extra)
        creds = t.client(name)
        if creds is None:
            run.add(key, label, MISSING, _msg("client.missing", purpose=need.purpose), provide)
            continue
        got, seen = run.token(run.client(t.role, name))
        if not got:
            run.add(key, label, FAILED, run.token_failed(creds.client_id, seen), provide)
        elif need.division and not creds.division:
            run.add(key, label, MISSING, _msg("client.division"), _msg("client.division.provide", name=name))
        elif need.uscc and not creds.owner_uscc:
            run.add(key, label, MISSING, _msg("client.uscc"), _msg("client.uscc.provide", name=name))
        else:
            run.add(key, label, OK, _msg("client.ok", purpose=need.purpose))


def _callback(run: _Run) -> None:
    t = run.target
    label = _msg("label.callback")
    if _is_loopback(t.url()):
        run.add("callback", label, OK, _msg("callback.local"))
    elif t.thresholds.get("callback_host"):
        run.add("callback", label, OK, _msg("callback.ok", host=t.thresholds["callback_host"]))
    else:
        run.add("callback", label, MISSING, _msg("callback.missing"), _msg("callback.provide"))


__all__ = ["CLIENT_NEEDS", "MESSAGES", "Check", "ClientNeed", "Preflight", "known_roles", "run_preflight"]
