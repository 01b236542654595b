"""Every defect switch of the reference server, each declared once: its id (the constant, whose value is the
``--defect`` name), the role whose server carries it, the clauses it breaks, what it does (中文 / English) and the
run that must catch it; a generic defect's mutator follows its declaration (``seams.py``), a defect that lives in a
handler is one ``ctx.defect(D.X)`` there.

Imported as ``D`` (``from conformance.reference.defects import D``; ``D.ENVELOPE_MISSING_CODE``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import orjson

from conformance.reference.defects import seams
from conformance.reference.defects.registry import ANY, Run, declare
from conformance.reference.defects.seams import ErrorAnswer, Scopes, defect

# ------------------------------------------------------------------------------------------ the runs
#: the smallest role (supervision) alone, empty: the generic steps of the pipeline
SMALL = Run("supervision", alone=True, seed=False)
#: supervision in a server of every role, empty: the security suites' requests
SMALL_IN_ALL = Run("supervision", seed=False)
SHARING_EMPTY = Run("sharing", seed=False)
SHARING_ALONE_EMPTY = Run("sharing", alone=True, seed=False)
SHARING = Run("sharing")
SHARING_ALONE = Run("sharing", alone=True)
SHARING_TLS = Run("sharing", alone=True, seed=False, tls=True)
LICENSING = Run("licensing")
#: the workflow suite's walks, with a seed that walks into each of these defects
LICENSING_WALKS = Run("licensing", hypothesis_seed="20241122")
#: the licensing server calling the harness's simulators (its report-backs, its retries)
LICENSING_CALLING = Run("licensing", simulators=True)
#: the platform alone, the harness playing the licensing system its applications are pushed to
GOV_PLATFORM_CALLING = Run("gov-platform", alone=True, simulators=True)
INSPECTION_ALONE = Run("inspection", alone=True)


def _passes(name: str, seam: str, unchecked: Callable[[dict[str, str]], bool]) -> None:
    """The mutator of a defect that lets the request's errors ``unchecked`` picks pass (``BODY_ERRORS``, ``PARAM_ERRORS``)."""
    defect(name, seam=seam)(lambda errors: [e for e in errors if not unchecked(e)])


def _skips(name: str, check: str) -> None:
    """The mutator of a defect that skips one check of the security layer (``seams.AUTH``)."""
    defect(name, seam=seams.AUTH_CHECKS)(lambda checks: checks - {check})


# ------------------------------------------------------------------------------------------ profile: envelope,
# status codes, errors, dates

ENVELOPE_MISSING_CODE = declare(
    "envelope-missing-code",
    ANY,
    ("PROFILE.ENVELOPE.1",),
    "成功响应信封缺少 code 字段",
    "success envelope lacks code",
    run=SMALL,
)


@defect(ENVELOPE_MISSING_CODE, seam=seams.ENVELOPE)
def _envelope_missing_code(body: dict[str, Any]) -> dict[str, Any]:
    body.pop("code", None)
    return body


MALFORMED_JSON_500 = declare(
    "malformed-json-500",
    ANY,
    ("PROFILE.STATUS.6", "PROFILE.ERROR.1"),
    "请求体不是合法 JSON 时返回 500",
    "malformed JSON answered with 500",
    run=SMALL_IN_ALL,
)


@defect(MALFORMED_JSON_500, seam=seams.PARSE_JSON)
def _malformed_json_500(parse: Any) -> Any:
    def parse_or_crash(raw: bytes) -> Any:
        try:
            return parse(raw)
        except orjson.JSONDecodeError as exc:
            raise RuntimeError("malformed JSON") from exc

    return parse_or_crash


ERROR_MESSAGE_ENGLISH = declare(
    "error-message-english",
    ANY,
    ("PROFILE.ERROR.1",),
    "错误说明只有英文",
    "error messages in English only",
    run=SMALL_IN_ALL,
)


@defect(ERROR_MESSAGE_ENGLISH, seam=seams.ERROR)
def _error_message_english(answer: ErrorAnswer) -> ErrorAnswer:
    answer.body["message"] = answer.body["messageEn"]
    return answer


NO_FIELD_PATHS = declare(
    "no-field-paths",
    ANY,
    ("PROFILE.ERROR.1",),
    "校验错误不给字段路径",
    "validation errors without field paths",
    run=SMALL_IN_ALL,
)


@defect(NO_FIELD_PATHS, seam=seams.ERROR)
def _no_field_paths(answer: ErrorAnswer) -> ErrorAnswer:
    answer.body.pop("errors", None)
    return answer


DATE_WITHOUT_OFFSET = declare(
    "date-without-offset",
    ANY,
    ("PROFILE.DATE.1", "IPQS.DATE.1"),
    "日期时间不带时区偏移",
    "date-times without UTC offset",
    run=SMALL,
)
_DATETIME_OFFSET = re.compile(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?)(?:Z|[+-]\d{2}:\d{2})$")


@defect(DATE_WITHOUT_OFFSET, seam=seams.RESPONSE_DATA)
def _strip_offsets(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _strip_offsets(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_strip_offsets(v) for v in node]
    m = _DATETIME_OFFSET.match(node) if isinstance(node, str) else None
    return m.group(1) if m else node


ACCEPT_UNKNOWN_FIELDS = declare(
    "accept-unknown-fields",
    ANY,
    ("PROFILE.ERROR.1",),
    "请求中的未知字段被静默接受",
    "unknown request fields accepted",
    run=SMALL,
)
_passes(ACCEPT_UNKNOWN_FIELDS, seams.BODY_ERRORS, lambda e: e["rule"] == "additionalProperties")

NO_BODY_LIMIT = declare(
    "no-body-limit",
    ANY,
    ("PROFILE.STATUS.4", "SHARE.SEC.VOLUME.2"),
    "不限制请求体大小（超限不返回 413）",
    "no request size limit (no 413)",
    run=SMALL,
)


@defect(NO_BODY_LIMIT, seam=seams.BODY_LIMIT)
def _no_body_limit(limit: int | None) -> int | None:
    return None


NOT_FOUND_AS_200 = declare(
    "not-found-as-200",
    ANY,
    ("PROFILE.STATUS.1",),
    "按键查找的对象不存在时返回 200，只在信封中给出 NOT_FOUND",
    "a missing object is answered 200 with NOT_FOUND only in the envelope",
    run=SHARING_ALONE_EMPTY,  # the sharing suites ask for unknown keys (STATUS.1)
)


@defect(NOT_FOUND_AS_200, seam=seams.ERROR)
def _not_found_as_200(answer: ErrorAnswer) -> ErrorAnswer:
    if answer.status == 404:
        answer.status = 200  # "the request was handled": the outcome only in the envelope's code
    return answer


FUTURE_TIMESTAMPS = declare(
    "future-timestamps",
    ANY,
    ("PROFILE.DATE.2",),
    "事件时间以北京时间的钟点加 Z 输出（比实际晚 8 小时，落在未来）",
    "event times are Beijing wall-clock times labelled Z (8 hours in the future)",
    run=SMALL,
)


@defect(FUTURE_TIMESTAMPS, seam=seams.RESPONSE_DATA)
def _as_utc_wall_clock(node: Any, key: str = "") -> Any:
    """Event times (``…At``, ``time``) as Beijing wall-clock time labelled UTC: 09:30+08:00 becomes 09:30Z."""
    if isinstance(node, dict):
        return {k: _as_utc_wall_clock(v, k) for k, v in node.items()}
    if isinstance(node, list):
        return [_as_utc_wall_clock(v, key) for v in node]
    if isinstance(node, str) and (key.endswith("At") or key == "time") and node.endswith("+08:00"):
        return node[: -len("+08:00")] + "Z"
    return node


VENDOR_ERROR_CODES = declare(
    "vendor-error-codes",
    ANY,
    ("PROFILE.ENVELOPE.1",),
    "错误信封的 code 是厂商自编的数字代码（如 404 应答的 40401），不是契约错误代码枚举中的代码",
    "error envelopes carry the vendor's own numeric codes (40401 for a 404, say), none of the contract's error codes",
    run=SMALL,
)


@defect(VENDOR_ERROR_CODES, seam=seams.ERROR)
def _vendor_error_codes(answer: ErrorAnswer) -> ErrorAnswer:
    answer.body["code"] = f"{answer.status}01"
    return answer


# ------------------------------------------------------------------------------------------ security


ACCEPT_MISSING_AUTH = declare(
    "accept-missing-auth",
    ANY,
    ("SHARE.SEC.AUTH.1", "DB42.4.7.e.2"),
    "无令牌的请求也被受理",
    "requests without a token accepted",
    run=SMALL_IN_ALL,
)
_skips(ACCEPT_MISSING_AUTH, seams.BEARER)

ACCEPT_EXPIRED_TOKEN = declare(
    "accept-expired-token",
    ANY,
    ("PROFILE.TOKEN.2",),
    "过期令牌仍被接受",
    "expired tokens accepted",
    run=SMALL_IN_ALL,
)
_skips(ACCEPT_EXPIRED_TOKEN, seams.TOKEN_EXPIRY)

IGNORE_SCOPES = declare(
    "ignore-scopes",
    ANY,
    ("SHARE.SEC.ACCESS.1", "DB42.4.7.e.3"),
    "不检查权限范围（越权访问返回 200）",
    "scopes not checked",
    run=SHARING_EMPTY,
)
_skips(IGNORE_SCOPES, seams.SCOPE)

ACCEPT_REPLAYED_NONCE = declare(
    "accept-replayed-nonce",
    ANY,
    ("PROFILE.SIGN.2",),
    "签名请求的随机数可重放",
    "replayed nonce accepted",
    run=SHARING_EMPTY,
)
_skips(ACCEPT_REPLAYED_NONCE, seams.NONCE)

ACCEPT_STALE_TIMESTAMP = declare(
    "accept-stale-timestamp",
    ANY,
    ("PROFILE.SIGN.2",),
    "签名时间戳超窗仍被接受",
    "stale signature timestamp accepted",
    run=SHARING_EMPTY,
)
_skips(ACCEPT_STALE_TIMESTAMP, seams.SIGNATURE_WINDOW)

NO_RATE_LIMIT = declare(
    "no-rate-limit",
    ANY,
    ("SHARE.SEC.VOLUME.1", "PROFILE.STATUS.5"),
    "不做限流",
    "no rate limiting",
    run=SHARING_EMPTY,
)
_skips(NO_RATE_LIMIT, seams.RATE_LIMIT)

RETRY_AFTER_MISSING = declare(
    "retry-after-missing",
    ANY,
    ("SHARE.SEC.VOLUME.1", "PROFILE.STATUS.5"),
    "429 不带 Retry-After",
    "429 without Retry-After",
    run=SHARING_EMPTY,
)


@defect(RETRY_AFTER_MISSING, seam=seams.ERROR)
def _retry_after_missing(answer: ErrorAnswer) -> ErrorAnswer:
    answer.headers.pop("Retry-After", None)
    answer.body.pop("retryAfter", None)
    return answer


RETRY_AFTER_IMPLAUSIBLE = declare(
    "retry-after-implausible",
    ANY,
    ("PROFILE.STATUS.5",),
    "429 的 Retry-After 为 604800 秒（一周），远超契约上限",
    "429 asks to retry after 604800 s (a week), far beyond the contract's bound",
    run=SHARING_EMPTY,
)


@defect(RETRY_AFTER_IMPLAUSIBLE, seam=seams.RETRY_AFTER)
def _retry_after_implausible(seconds: int) -> int:
    return 7 * 86400  # a week: what a "block the client" rule copied into the rate limiter says


TOKEN_LIFETIME_IN_MS = declare(
    "token-lifetime-in-ms",
    ANY,
    ("PROFILE.TOKEN.1",),
    "令牌的 expires_in 以毫秒给出（7200000），令牌实际 2 小时到期",
    "expires_in given in milliseconds (7200000) while the token lives 2 hours",
    run=SMALL,
)
TOKEN_LIVES_A_DAY = declare(
    "token-lives-a-day",
    ANY,
    ("SHARE.SEC.AUTH.2",),
    "令牌有效期为1天（expires_in 86400，令牌确实1天内有效），超过2小时的上限",
    "tokens live a day (expires_in 86400, and the token is honoured that long), beyond the 2-hour bound",
    run=SHARING_ALONE_EMPTY,
)
WRITE_SCOPE_IMPLIES_READ = declare(
    "write-scope-implies-read",
    ANY,
    ("SHARE.SEC.ACCESS.1", "DB42.4.7.e.3"),
    "持有某数据集写权限范围的令牌可调用该数据集的全部接口（查询、获取、增量、订阅）",
    "a data set's write scope opens every operation of that data set (query, get, changes, subscribe)",
    run=SHARING_ALONE_EMPTY,
)


@defect(WRITE_SCOPE_IMPLIES_READ, seam=seams.SCOPES_HELD)
def _write_scope_implies_read(scopes: Scopes) -> Scopes:
    # the vendor's hierarchy: "<data set>:write" stands for every operation on that data set
    stems = {s.removesuffix("write") for s in scopes.held if s.endswith(":write")}
    implied = {s for s in scopes.needed if any(s.startswith(stem) for stem in stems)}
    return Scopes(scopes.held | implied, scopes.needed)


AUDIT_NOT_WRITTEN = declare(
    "audit-not-written",
    ANY,
    ("DB42.4.7.e.4", "SHARE.SEC.SECMGMT.5", "PROFILE.AUDIT.1"),
    "不写审计记录",
    "audit entries not written",
    run=SHARING_EMPTY,
)
AUDIT_CHAIN_BROKEN = declare(
    "audit-chain-broken",
    ANY,
    ("PROFILE.AUDIT.2",),
    "审计记录的哈希链不连续",
    "audit hash chain broken",
    run=SHARING_EMPTY,
)

# ------------------------------------------------------------------------------------------ sharing platform

PAGING_DROPS_BOUNDARY = declare(
    "paging-drops-boundary",
    "sharing",
    ("SHARE.IF.FUNC.2", "PROFILE.PAGE.1"),
    "分页在页边界丢一条记录",
    "paging drops a record at page boundaries",
    run=SHARING,
)
PAGING_WRONG_TOTAL = declare(
    "paging-wrong-total",
    "sharing",
    ("PROFILE.PAGE.1",),
    "分页 total 与实际不符",
    "page total wrong",
    run=SHARING,
)
CHANGES_SKIP = declare(
    "changes-skip",
    "sharing",
    ("SHARE.IF.FUNC.3",),
    "增量同步跳过变更",
    "incremental sync skips changes",
    run=SHARING,
)
CHANGES_SEQ_REUSED = declare(
    "changes-seq-reused",
    "sharing",
    ("SHARE.IF.FUNC.3", "SHARE.IF.FUNC.4"),
    "变更日志只保留每条记录的最新一次变更，序号取现存最大序号加一：已下发的变更消失或改变，变更序号被重复使用",
    "the change log keeps only each record's latest change, numbered after the highest remaining one: "
    "changes already served vanish or change, and change numbers are reused",
    run=SHARING,
)
PUSH_NOT_IDEMPOTENT = declare(
    "push-not-idempotent",
    "sharing",
    ("SHARE.IF.FUNC.6", "SHARE.SEC.RETRY.2", "PROFILE.PUSH.2"),
    "同一消息标识重复推送被当作新消息",
    "a repeated push is processed again",
    run=SHARING,
)
UNMASKED_OPEN_DATA = declare(
    "unmasked-open-data",
    "sharing",
    ("IPQS.OPEN.SEC.1", "SHARE.SEC.ACCESS.4"),
    "开放接口返回未脱敏的身份证号和手机号",
    "open endpoint returns unmasked ID and phone numbers",
    run=SHARING,
)
SENSITIVE_WITHOUT_GRANT = declare(
    "sensitive-without-grant",
    "sharing",
    ("IPQS.SHARE.MODE.2", "SHARE.SEC.ACCESS.4"),
    "未经授权返回敏感字段原文",
    "sensitive fields shown without the owner's grant",
    run=SHARING,
)
WRONG_USCC_CHECK = declare(
    "wrong-uscc-check",
    "sharing",
    ("SHARE.MECH.CONTENT.7", "IPQS.QUALITY.VALIDITY.1"),
    "响应中的统一社会信用代码校验位错误",
    "USCC check characters wrong in responses",
    run=SHARING,
)


@defect(WRONG_USCC_CHECK, seam=seams.RESPONSE_DATA)
def _break_uscc(node: Any, key: str = "") -> Any:
    if isinstance(node, dict):
        return {k: _break_uscc(v, k) for k, v in node.items()}
    if isinstance(node, list):
        return [_break_uscc(v, key) for v in node]
    if isinstance(node, str) and (key == "uscc" or key.endswith("Uscc")) and len(node) == 18:
        return node[:17] + ("0" if node[17] != "0" else "1")
    return node


GRANT_IGNORES_OWNER = declare(
    "grant-ignores-owner",
    "sharing",
    ("IPQS.SHARE.MODE.2", "SHARE.SEC.ACCESS.4"),
    "某一数据所属主体的授权使被授权方看到该数据集所有主体记录的敏感字段原文",
    "one owner's grant shows the grantee the sensitive fields of every owner's records in the data set",
    run=SHARING_ALONE,
)
DIVISION_FILTER_OVERRIDES_SCOPE = declare(
    "division-filter-overrides-scope",
    "sharing",
    ("SHARE.SEC.ACCESS.2",),
    "调用方给出区划查询条件时按该条件查询，不再限于其授权区划",
    "a division filter the caller gives replaces its authorised divisions",
    run=SHARING_ALONE,
)
NO_DIVISION_SCOPING = declare(
    "no-division-scoping",
    "sharing",
    ("SHARE.SEC.ACCESS.2",),
    "不按调用方的授权区划限制查询、增量同步与按键获取的结果",
    "query, change feed and get by key ignore the caller's authorised divisions",
    run=SHARING_ALONE,
)
OPEN_DATA_UNDESCRIBED_FIELDS = declare(
    "open-data-undescribed-fields",
    "sharing",
    ("IPQS.OPEN.FORM.1",),
    "开放数据带有数据说明中没有的内部字段",
    "open records carry internal fields the data description does not describe",
    run=SHARING_ALONE,
)
OPEN_DATA_NOT_AUDITED = declare(
    "open-data-not-audited",
    "sharing",
    ("IPQS.OPEN.SEC.2",),
    "开放数据的获取不写审计记录（使用不可追踪）",
    "open-data downloads are not written to the audit log",
    run=SHARING_ALONE,
)
SUBSCRIPTION_RETRY_NEW_MESSAGE_ID = declare(
    "subscription-retry-new-message-id",
    "sharing",
    ("SHARE.SEC.RETRY.1",),
    "订阅通知重传时换用新的消息标识",
    "a retransmitted subscription notification gets a new message id",
    run=SHARING_ALONE,
)
SUBSCRIPTION_RESEND_AFTER_RECEIPT = declare(
    "subscription-resend-after-receipt",
    "sharing",
    ("SHARE.SEC.RETRY.1",),
    "订阅通知收到成功回执后仍再发送一次",
    "a subscription notification is sent again after its receipt",
    run=SHARING_ALONE,
)
SUBSCRIPTION_IGNORES_RETRY_AFTER = declare(
    "subscription-ignores-retry-after",
    "sharing",
    ("SHARE.SEC.RETRY.3",),
    "订阅通知重传不遵守 Retry-After",
    "subscription retransmissions ignore Retry-After",
    run=SHARING_ALONE,
)
SUBSCRIPTION_RETRY_FIXED_INTERVAL = declare(
    "subscription-retry-fixed-interval",
    "sharing",
    ("SHARE.SEC.RETRY.3",),
    "订阅通知以固定短间隔连续重传（不退避）",
    "subscription notifications are retried at a fixed short interval (no back-off)",
    run=SHARING_ALONE,
)

# ------------------------------------------------------------------------------------------ sharing platform,
# transport (reference/tls.py, reference/server.py)

PLAIN_HTTP = declare(
    "plain-http",
    "sharing",
    ("SHARE.SEC.SECMGMT.3", "SHARE.SEC.AUTH.3", "SHARE.MECH.METHOD.1"),
    "要求 TLS 时仍以明文 HTTP 提供接口",
    "plain HTTP served although TLS was asked for",
    run=SHARING_TLS,
)
WEAK_TLS = declare(
    "weak-tls",
    "sharing",
    ("SHARE.SEC.SECMGMT.3",),
    "接受 TLS 1.0/1.1 与不安全的密码套件",
    "TLS 1.0 / 1.1 and legacy cipher suites accepted",
    run=SHARING_TLS,
)
TOKEN_IN_QUERY = declare(
    "token-in-query",
    "sharing",
    ("SHARE.SEC.AUTH.3",),
    "接受 URL 查询参数中的访问令牌（access_token）",
    "access tokens accepted in the URL query (access_token)",
    run=SHARING_TLS,
)

# ------------------------------------------------------------------------------------------ licensing: items,
# workflow, dossier

ACCEPT_UNKNOWN_ITEM = declare(
    "accept-unknown-item",
    "licensing",
    ("DB42.5.2",),
    "接受表1以外的事项办理项",
    "unknown licence item accepted",
    run=LICENSING_WALKS,
)
ACCEPT_PIPING_MOVE_OUT = declare(
    "accept-piping-move-out",
    "licensing",
    ("DB42.5.2", "DB42.5.T1-07.1"),
    "接受压力管道迁出申请",
    "pressure-piping move-out accepted",
    run=LICENSING_WALKS,
)
# the defective vendor does not check the item code against Table 1 (its handler decides, workflow.check_item)
for _item_defect in (ACCEPT_UNKNOWN_ITEM, ACCEPT_PIPING_MOVE_OUT):
    _passes(_item_defect, seams.BODY_ERRORS, lambda e: e["path"].endswith("/itemCode") and e["rule"] == "format")

STEP_OUT_OF_ORDER = declare(
    "step-out-of-order",
    "licensing",
    ("DB42.6.2",),
    "允许越序执行步骤",
    "steps allowed out of order",
    run=LICENSING_WALKS,
)
STEP_WRONG_ROLE = declare(
    "step-wrong-role",
    "licensing",
    ("DB42.8.2",),
    "允许非本岗位执行步骤",
    "steps allowed for the wrong role",
    run=LICENSING_WALKS,
)
CERTIFY_AFTER_REFUSAL = declare(
    "certify-after-refusal",
    "licensing",
    ("DB42.6.2", "DB42.7.4.2.b.1"),
    "不予许可的办件仍可制证（制证只检查已作出决定）",
    "a refused case can still be certified (certify checks only that a decision was made)",
    run=LICENSING,
)
NO_NOTICE = declare(
    "no-notice",
    "licensing",
    ("DB42.7.2.3.a.1", "DB42.7.2.3.a2.1"),
    "受理/不予受理不生成通知书",
    "no notice generated",
    run=LICENSING_WALKS,
)
DOSSIER_CODE_17_USCC = declare(
    "dossier-code-17-uscc",
    "licensing",
    ("DB42.9.2.8", "DB42.9.2.2"),
    "卷宗编码中的统一社会信用代码只有17位",
    "dossier code with a 17-character USCC",
    run=LICENSING,
)
DOSSIER_SEQ_RESTART = declare(
    "dossier-seq-restart",
    "licensing",
    ("DB42.9.2.11", "DB42.9.2.1"),
    "卷宗序列号每次从0001重新开始（重号）",
    "dossier sequence restarts (duplicates)",
    run=LICENSING,
)
DOSSIER_SEQ_SKIP = declare(
    "dossier-seq-skip",
    "licensing",
    ("DB42.9.2.11",),
    "卷宗序列号跳号",
    "dossier sequence skips numbers",
    run=LICENSING,
)
METADATA_MISSING_ELEMENT = declare(
    "metadata-missing-element",
    "licensing",
    ("DB42.9.1.1", "DB42.9.1.T2-7.1"),
    "元数据XML缺少卷宗编号元素",
    "metadata XML lacks the dossier code element",
    run=LICENSING,
)
METADATA_TXT_GBK = declare(
    "metadata-txt-gbk",
    "licensing",
    ("DB42.9.3.2.1",),
    "元数据的 txt 形式以 GBK 编码存放（Windows 中文系统的默认代码页），却声明为 UTF-8",
    "the text form of the metadata is stored in GBK (the code page of a Chinese Windows) but served as UTF-8",
    run=LICENSING,
)
FILE_NAMING_WRONG = declare(
    "file-naming-wrong",
    "licensing",
    ("DB42.9.3.1.1",),
    "卷宗文件不按“卷宗号+许可环节_顺序号”命名",
    "dossier files not named per §9.3.1",
    run=LICENSING,
)
REGISTRATION_NO_MALFORMED = declare(
    "registration-no-malformed",
    "licensing",
    ("DB42.7.4.5.b2.2",),
    "使用登记证编号不符合TSG 08规则",
    "registration number not per TSG 08",
    run=LICENSING_WALKS,
)

# ------------------------------------------------------------------------------------------ licensing, client side:
# the calls the licensing server makes (outbox.py, roles/licensing/reports.py). Role "licensing-client": carried by
# the licensing server, kept apart from the server-side licensing defects (caught by the client-side suites).

NO_REPORT_BACK = declare(
    "no-report-back",
    "licensing-client",
    ("DB42.10.2.T5-8.1", "DB42.7.3.2.b.1"),
    "审查环节的办理环节信息（T5-8）从不上报",
    "the review step's report-back (T5-8) is never sent",
    run=LICENSING_CALLING,
)
DECISION_WITHOUT_DOCUMENT = declare(
    "decision-without-document",
    "licensing-client",
    ("DB42.7.4.2.c.1",),
    "决定环节的办理环节上报（T5-8）只有决定意见，不推送决定文书（决定书只随办件结果 T5-10 上报）",
    "the decision step's report (T5-8) carries the opinion but not the decision document (sent only with the result)",
    run=LICENSING_CALLING,
)
REPORT_BACK_WRONG_ORDER = declare(
    "report-back-wrong-order",
    "licensing-client",
    ("DB42.10.2.T5-10.1", "DB42.10.2.T5-7.1"),
    "受理信息（T5-7）被压到办结后才上报：办件结果先于受理信息",
    "acceptance (T5-7) held back: the result is reported before it",
    run=LICENSING_CALLING,
)
NO_RETRY = declare(
    "no-retry",
    "licensing-client",
    ("SHARE.SEC.RETRY.1",),
    "上报失败（503、超时）后不重传",
    "no retransmission after a 503 or a timeout",
    run=LICENSING_CALLING,
)
RETRY_NEW_MESSAGE_ID = declare(
    "retry-new-message-id",
    "licensing-client",
    ("SHARE.SEC.RETRY.1",),
    "重传时换用新的消息标识",
    "retransmissions carry a new message id",
    run=LICENSING_CALLING,
)
WRONG_CASE_NUMBER = declare(
    "wrong-case-number",
    "licensing-client",
    ("DB42.10.2.T5-7.1", "DB42.10.2.T5-8.1", "DB42.7.1.4.1"),
    "上报（T5-6…T5-10）使用系统内部编号而不是政务服务平台的办件编号",
    "report-backs name the internal number, not the platform's case number",
    run=LICENSING_CALLING,
)
REFUSAL_LEAKS_LICENCE = declare(
    "refusal-leaks-licence",
    "licensing-client",
    ("DB42.7.4.4.a.1", "DB42.7.4.2.b.1"),
    "不予许可的办件办结时仍按发证处理：生成编号，向电子证照库汇聚证照、向安全监察系统上报使用单位与使用登记",
    "a refused case is concluded as if issued: an e-licence is aggregated and the registration reported to supervision",
    run=LICENSING_CALLING,
)
NO_T7_2_ON_CHANGE = declare(
    "no-t7-2-on-change",
    "licensing-client",
    ("DB42.10.4.T7-2.1", "DB42.10.4.1"),
    "变更、注销、停用、报废类办理项发证后不向安全监察系统上报设备使用登记信息（T7-2），只上报新登记",
    "no T7-2 for a change, cancellation, suspension or scrapping item: only new registrations are reported",
    run=LICENSING_CALLING,
)

# ------------------------------------------------------------------------------------------ gov-platform,
# inspection, supervision

THUMBNAIL_TO_CITY = declare(
    "thumbnail-to-city",
    "gov-platform",
    ("DB42.10.2.T5-16.2",),
    "向市级调用方提供缩略图",
    "thumbnails served to a city-level caller",
    run=GOV_PLATFORM_CALLING,
)
ELICENSE_INFO_WITHOUT_DETAILS = declare(
    "elicense-info-without-details",
    "gov-platform",
    ("DB42.10.2.T5-13.1",),
    "电子证照信息获取（T5-13）只返回基本信息与照面信息，不返回明细信息",
    "the e-licence information (T5-13) serves the basic information and the surface, not the details",
    run=GOV_PLATFORM_CALLING,
)
REPORT_BACK_ANY_ORDER = declare(
    "report-back-any-order",
    "gov-platform",
    ("DB42.10.2.T5-10.1",),
    "办件结果可先于受理上报",
    "result accepted before acceptance",
    run=GOV_PLATFORM_CALLING,
)
REPORT_BACK_NOT_IDEMPOTENT = declare(
    "report-back-not-idempotent",
    "gov-platform",
    ("PROFILE.PUSH.2", "SHARE.SEC.RETRY.2"),
    "重传的办件上报（同一消息标识）被当作新消息处理，不返回首次回执",
    "a resent report-back is processed again, no first receipt",
    run=GOV_PLATFORM_CALLING,
)
OBJECTION_NO_CORRECTION = declare(
    "objection-no-correction",
    "inspection",
    ("DB42.10.3.T6-2.1", "DB42.10.3.T6-2.2"),
    "异议反馈后不产生更正报告",
    "objection never leads to a correction",
    run=INSPECTION_ALONE,
)
SUPERVISION_DROPS_UNIT = declare(
    "supervision-drops-unit",
    "supervision",
    ("DB42.10.4.T7-1.1",),
    "上报的使用单位信息未保存",
    "reported unit not stored",
    run=SMALL,
)

# ------------------------------------------------------------------------------------------ hostile input
# (context.py Ctx.base_url, app.py)

HOST_HEADER_TRUSTED = declare(
    "host-header-trusted",
    ANY,
    ("PROFILE.STATUS.6",),
    "Location、下载地址等绝对地址取自请求的 Host 头：伪造的 Host 使应答指向调用方任选的主机",
    "absolute URLs (Location, download addresses) built from the request's Host header: a forged Host points "
    "them at any host the caller chooses",
    run=SHARING_EMPTY,
)
JSON_DEPTH_UNBOUNDED = declare(
    "json-depth-unbounded",
    ANY,
    ("PROFILE.STATUS.6",),
    "解析请求体时不限制 JSON 嵌套深度（只有解析器自身的 1024 层）：嵌套约 1000 层的请求（如令牌请求）导致 500",
    "request bodies parsed without a nesting bound (only the parser's own 1,024 levels): a request nested ~1,000 "
    "levels deep (a token request, say) gets a 500",
    run=SMALL_IN_ALL,
)


@defect(JSON_DEPTH_UNBOUNDED, seam=seams.PARSE_JSON)
def _json_depth_unbounded(parse: Any) -> Any:
    return orjson.loads  # the parser's own limit (1,024 levels) only


SIGNATURE_HEADERS_UNCHECKED = declare(
    "signature-headers-unchecked",
    ANY,
    ("PROFILE.ERROR.1",),
    "不签名的客户端所带的签名请求头（X-Timestamp、X-Nonce、X-Signature、X-Signature-Method）不按契约校验格式",
    "signature headers of clients that do not sign are not checked against the contract's patterns",
    run=SMALL_IN_ALL,
)

_passes(SIGNATURE_HEADERS_UNCHECKED, seams.PARAM_ERRORS, lambda e: e["path"].startswith("/header/"))

# ------------------------------------------------------------------------------------------ sharing: permission
# changes with approval (IPQS.SHARE.PERM.2), suspension on misuse (IPQS.OPEN.SEC.3), grants only by the owner
# (IPQS.SHARE.MODE.2); handlers in conformance/reference/roles/sharing/permissions.py and admin.py

PERMISSION_CHANGE_WITHOUT_APPROVAL = declare(
    "permission-change-without-approval",
    "sharing",
    ("IPQS.SHARE.PERM.2",),
    "权限变更申请一经登记即生效（审批形同虚设，驳回也不撤销）",
    "a permission change takes effect when requested (approval is a formality; a rejection undoes nothing)",
    run=SHARING_ALONE,
)
SELF_APPROVED_PERMISSION = declare(
    "self-approved-permission",
    "sharing",
    ("IPQS.SHARE.PERM.2",),
    "申请方可以审批本客户端提出的权限变更申请",
    "the requester may approve its own permission change",
    run=SHARING_ALONE,
)
SUSPENSION_SPARES_OLD_TOKENS = declare(
    "suspension-spares-old-tokens",
    "sharing",
    ("IPQS.OPEN.SEC.3",),
    "暂停只拒绝暂停之后签发的令牌：暂停前签发的令牌照常取得共享与开放数据",
    "a suspension refuses only tokens issued after it: a token issued before still gets shared and open data",
    run=SHARING_ALONE,
)
GRANT_BY_ANYONE = declare(
    "grant-by-anyone",
    "sharing",
    ("IPQS.SHARE.MODE.2", "SHARE.SEC.ACCESS.4"),
    "代表某一主体的客户端可以为其他数据所属主体登记授权",
    "a client acting for one unit may register grants for another owner's data",
    run=SHARING_ALONE,
)

# ------------------------------------------------------------------------------------------ two-tier exchange
# (reference/roles/sharing/upstream.py: the provincial platform reporting up to the national platform, docs/two-tier.md)

#: a provincial sharing platform alone, its upstream the harness's national simulator
SHARING_UPSTREAM = Run("sharing", alone=True, simulators=True)

UPSTREAM_LOSES_RECORDS = declare(
    "upstream-loses-records",
    "sharing",
    ("INFO2007.2.5.3",),
    "省级平台向国家平台上报时每条消息只带第一条记录：同一消息中的其余记录从未上报",
    "the provincial platform reports up only the first record of each message: the others are never reported",
    run=SHARING_UPSTREAM,
)
UPSTREAM_SENDS_OTHER_PROVINCE = declare(
    "upstream-sends-other-province",
    "sharing",
    ("INFO2007.2.5.3",),
    "省级平台不按本级行政区划筛选：数据来源推送的外省记录也上报国家平台",
    "the provincial platform does not filter by its own division: records of another province a source pushed "
    "are reported up too",
    run=SHARING_UPSTREAM,
)
NATIONAL_UPDATE_NOT_APPLIED = declare(
    "national-update-not-applied",
    "sharing",
    ("INFO2007.2.5.3",),
    "国家平台下发的记录得到回执（逐条 accepted），但省级平台并未应用",
    "records the national platform pushes down are acknowledged (each accepted) but never applied",
    run=SHARING_UPSTREAM,
)
UPSTREAM_RESENDS_ACKNOWLEDGED = declare(
    "upstream-resends-acknowledged",
    "sharing",
    ("INFO2007.2.5.3",),
    "省级平台在国家平台已回执后再次发送同一上报消息",
    "the provincial platform sends a report again after the national platform acknowledged it",
    run=SHARING_UPSTREAM,
)
UPSTREAM_OUT_OF_ORDER = declare(
    "upstream-out-of-order",
    "sharing",
    ("INFO2007.2.5.3",),
    "省级平台把新增（UPLOAD）的上报延后约 1 秒发送：同一记录随后的更新、删除先到国家平台",
    "the provincial platform holds reports of new records (UPLOAD) back by about a second: the record's later "
    "updates and deletions reach the national platform first",
    run=SHARING_UPSTREAM,
)
UPSTREAM_REPLACES_PROVIDER = declare(
    "upstream-replaces-provider",
    "sharing",
    ("SHARE.MECH.SUBJECT.1",),
    "省级平台上报时把记录的数据提供主体换成自己：国家平台不再知道数据来自哪个监察机构、检验机构或企业",
    "the provincial platform reports records with itself as their providing subject: the national platform no "
    "longer knows which supervision body, inspection institution or enterprise the data came from",
    run=SHARING_UPSTREAM,
)

# ------------------------------------------------------------------------------------------ sharing: the opening
# mechanism (directed opening, open fields as catalogued, the owner's access log; docs/opening-data.md)

DIRECTED_OPENING_SERVES_ANYONE = declare(
    "directed-opening-serves-anyone",
    "sharing",
    ("IPQS.OPEN.SCOPE.1",),
    "定向开放的汇总数据提供给任何持有权限范围的客户端，不核对开放对象",
    "a directed opening's aggregates are served to any client holding the scope, addressee or not",
    run=SHARING_ALONE,
)
DIRECTED_OPENING_LEAKS_RECORDS = declare(
    "directed-opening-leaks-records",
    "sharing",
    ("IPQS.OPEN.SCOPE.1",),
    "定向开放的汇总数据在每个分组中附带前几条记录的键（“便于下钻”），泄露记录级数据",
    "a directed opening's aggregates carry the keys of each group's first records ('for drilling down')",
    run=SHARING_ALONE,
)
OPEN_ADDRESS_UNMASKED = declare(
    "open-address-unmasked",
    "sharing",
    ("IPQS.OPEN.SEC.1",),
    "开放数据中的地址未脱敏（街道、门牌号原样开放），虽然接口目录标明其脱敏规则为地址脱敏",
    "open data carry addresses in clear (street and house number) although the catalogue gives them the address "
    "masking rule",
    run=SHARING_ALONE,
)
ACCESS_LOG_HIDES_GRANT_READS = declare(
    "access-log-hides-grant-reads",
    "sharing",
    ("IPQS.OPEN.SEC.2",),
    "数据所属主体的访问记录中没有被授权方按授权以原文读取其敏感字段的访问",
    "the owner's access log leaves out the reads in which a grantee saw its sensitive fields in clear under a grant",
    run=SHARING_ALONE,
)
