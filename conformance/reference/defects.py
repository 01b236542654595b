"""Defect switches of the reference server (``--defect NAME``): realistic vendor mistakes.

Each names the clause(s) of ``schemas/clauses`` it breaks; the project's kill matrix asserts
the suite fails exactly those. This table is the one place they are listed.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Defect:
    name: str
    role: str  # the role whose server carries the defect ("any" = every role)
    clauses: tuple[str, ...]
    zh: str
    en: str


DEFECTS: tuple[Defect, ...] = (
    # ---- profile: envelope, status codes, errors, dates
    Defect(
        "envelope-missing-code",
        "any",
        ("PROFILE.ENVELOPE.1",),
        "成功响应信封缺少 code 字段",
        "success envelope lacks code",
    ),
    Defect(
        "malformed-json-500",
        "any",
        ("PROFILE.STATUS.6", "PROFILE.ERROR.1"),
        "请求体不是合法 JSON 时返回 500",
        "malformed JSON answered with 500",
    ),
    Defect("error-message-english", "any", ("PROFILE.ERROR.1",), "错误说明只有英文", "error messages in English only"),
    Defect(
        "no-field-paths", "any", ("PROFILE.ERROR.1",), "校验错误不给字段路径", "validation errors without field paths"
    ),
    Defect(
        "date-without-offset",
        "any",
        ("PROFILE.DATE.1", "IPQS.DATE.1"),
        "日期时间不带时区偏移",
        "date-times without UTC offset",
    ),
    Defect(
        "accept-unknown-fields",
        "any",
        ("PROFILE.ERROR.1",),
        "请求中的未知字段被静默接受",
        "unknown request fields accepted",
    ),
    Defect(
        "no-body-limit",
        "any",
        ("PROFILE.STATUS.4", "SHARE.SEC.VOLUME.2"),
        "不限制请求体大小（超限不返回 413）",
        "no request size limit (no 413)",
    ),
    Defect(
        "not-found-as-200",
        "any",
        ("PROFILE.STATUS.1",),
        "按键查找的对象不存在时返回 200，只在信封中给出 NOT_FOUND",
        "a missing object is answered 200 with NOT_FOUND only in the envelope",
    ),
    Defect(
        "future-timestamps",
        "any",
        ("PROFILE.DATE.2",),
        "事件时间以北京时间的钟点加 Z 输出（比实际晚 8 小时，落在未来）",
        "event times are Beijing wall-clock times labelled Z (8 hours in the future)",
    ),
    # ---- security
    Defect(
        "accept-missing-auth",
        "any",
        ("SHARE.SEC.AUTH.1", "DB42.4.7.e.2"),
        "无令牌的请求也被受理",
        "requests without a token accepted",
    ),
    Defect("accept-expired-token", "any", ("PROFILE.TOKEN.2",), "过期令牌仍被接受", "expired tokens accepted"),
    Defect(
        "ignore-scopes",
        "any",
        ("SHARE.SEC.ACCESS.1", "DB42.4.7.e.3"),
        "不检查权限范围（越权访问返回 200）",
        "scopes not checked",
    ),
    Defect("accept-replayed-nonce", "any", ("PROFILE.SIGN.2",), "签名请求的随机数可重放", "replayed nonce accepted"),
    Defect(
        "accept-stale-timestamp",
        "any",
        ("PROFILE.SIGN.2",),
        "签名时间戳超窗仍被接受",
        "stale signature timestamp accepted",
    ),
    Defect("no-rate-limit", "any", ("SHARE.SEC.VOLUME.1", "PROFILE.STATUS.5"), "不做限流", "no rate limiting"),
    Defect(
        "retry-after-missing",
        "any",
        ("SHARE.SEC.VOLUME.1", "PROFILE.STATUS.5"),
        "429 不带 Retry-After",
        "429 without Retry-After",
    ),
    Defect(
        "retry-after-implausible",
        "any",
        ("PROFILE.STATUS.5",),
        "429 的 Retry-After 为 604800 秒（一周），远超契约上限",
        "429 asks to retry after 604800 s (a week), far beyond the contract's bound",
    ),
    Defect(
        "token-lifetime-in-ms",
        "any",
        ("PROFILE.TOKEN.1",),
        "令牌的 expires_in 以毫秒给出（7200000），令牌实际 2 小时到期",
        "expires_in given in milliseconds (7200000) while the token lives 2 hours",
    ),
    Defect(
        "write-scope-implies-read",
        "any",
        ("SHARE.SEC.ACCESS.1", "DB42.4.7.e.3"),
        "持有某数据集写权限范围的令牌可调用该数据集的全部接口（查询、获取、增量、订阅）",
        "a data set's write scope opens every operation of that data set (query, get, changes, subscribe)",
    ),
    Defect(
        "audit-not-written",
        "any",
        ("DB42.4.7.e.4", "SHARE.SEC.SECMGMT.5", "PROFILE.AUDIT.1"),
        "不写审计记录",
        "audit entries not written",
    ),
    Defect("audit-chain-broken", "any", ("PROFILE.AUDIT.2",), "审计记录的哈希链不连续", "audit hash chain broken"),
    # ---- sharing platform
    Defect(
        "paging-drops-boundary",
        "sharing",
        ("SHARE.IF.FUNC.2", "PROFILE.PAGE.1"),
        "分页在页边界丢一条记录",
        "paging drops a record at page boundaries",
    ),
    Defect("paging-wrong-total", "sharing", ("PROFILE.PAGE.1",), "分页 total 与实际不符", "page total wrong"),
    Defect("changes-skip", "sharing", ("SHARE.IF.FUNC.3",), "增量同步跳过变更", "incremental sync skips changes"),
    Defect(
        "changes-seq-reused",
        "sharing",
        ("SHARE.IF.FUNC.3", "SHARE.IF.FUNC.4"),
        "变更日志只保留每条记录的最新一次变更，序号取现存最大序号加一：已下发的变更消失或改变，变更序号被重复使用",
        "the change log keeps only each record's latest change, numbered after the highest remaining one: "
        "changes already served vanish or change, and change numbers are reused",
    ),
    Defect(
        "push-not-idempotent",
        "sharing",
        ("SHARE.IF.FUNC.6", "SHARE.SEC.RETRY.2", "PROFILE.PUSH.2"),
        "同一消息标识重复推送被当作新消息",
        "a repeated push is processed again",
    ),
    Defect(
        "unmasked-open-data",
        "sharing",
        ("IPQS.OPEN.SEC.1", "SHARE.SEC.ACCESS.4"),
        "开放接口返回未脱敏的身份证号和手机号",
        "open endpoint returns unmasked ID and phone numbers",
    ),
    Defect(
        "sensitive-without-grant",
        "sharing",
        ("IPQS.SHARE.MODE.2", "SHARE.SEC.ACCESS.4"),
        "未经授权返回敏感字段原文",
        "sensitive fields shown without the owner's grant",
    ),
    Defect(
        "wrong-uscc-check",
        "sharing",
        ("SHARE.MECH.CONTENT.7", "IPQS.QUALITY.VALIDITY.1"),
        "响应中的统一社会信用代码校验位错误",
        "USCC check characters wrong in responses",
    ),
    Defect(
        "grant-ignores-owner",
        "sharing",
        ("IPQS.SHARE.MODE.2", "SHARE.SEC.ACCESS.4"),
        "某一数据所属主体的授权使被授权方看到该数据集所有主体记录的敏感字段原文",
        "one owner's grant shows the grantee the sensitive fields of every owner's records in the data set",
    ),
    Defect(
        "division-filter-overrides-scope",
        "sharing",
        ("SHARE.SEC.ACCESS.2",),
        "调用方给出区划查询条件时按该条件查询，不再限于其授权区划",
        "a division filter the caller gives replaces its authorised divisions",
    ),
    Defect(
        "no-division-scoping",
        "sharing",
        ("SHARE.SEC.ACCESS.2",),
        "不按调用方的授权区划限制查询、增量同步与按键获取的结果",
        "query, change feed and get by key ignore the caller's authorised divisions",
    ),
    Defect(
        "open-data-undescribed-fields",
        "sharing",
        ("IPQS.OPEN.FORM.1",),
        "开放数据带有数据说明中没有的内部字段",
        "open records carry internal fields the data description does not describe",
    ),
    Defect(
        "open-data-not-audited",
        "sharing",
        ("IPQS.OPEN.SEC.2",),
        "开放数据的获取不写审计记录（使用不可追踪）",
        "open-data downloads are not written to the audit log",
    ),
    Defect(
        "subscription-retry-new-message-id",
        "sharing",
        ("SHARE.SEC.RETRY.1",),
        "订阅通知重传时换用新的消息标识",
        "a retransmitted subscription notification gets a new message id",
    ),
    Defect(
        "subscription-resend-after-receipt",
        "sharing",
        ("SHARE.SEC.RETRY.1",),
        "订阅通知收到成功回执后仍再发送一次",
        "a subscription notification is sent again after its receipt",
    ),
    Defect(
        "subscription-ignores-retry-after",
        "sharing",
        ("SHARE.SEC.RETRY.3",),
        "订阅通知重传不遵守 Retry-After",
        "subscription retransmissions ignore Retry-After",
    ),
    Defect(
        "subscription-retry-fixed-interval",
        "sharing",
        ("SHARE.SEC.RETRY.3",),
        "订阅通知以固定短间隔连续重传（不退避）",
        "subscription notifications are retried at a fixed short interval (no back-off)",
    ),
    # ---- sharing platform, transport (reference/tls.py)
    Defect(
        "plain-http",
        "sharing",
        ("SHARE.SEC.SECMGMT.3", "SHARE.SEC.AUTH.3", "SHARE.MECH.METHOD.1"),
        "要求 TLS 时仍以明文 HTTP 提供接口",
        "plain HTTP served although TLS was asked for",
    ),
    Defect(
        "weak-tls",
        "sharing",
        ("SHARE.SEC.SECMGMT.3",),
        "接受 TLS 1.0/1.1 与不安全的密码套件",
        "TLS 1.0 / 1.1 and legacy cipher suites accepted",
    ),
    Defect(
        "token-in-query",
        "sharing",
        ("SHARE.SEC.AUTH.3",),
        "接受 URL 查询参数中的访问令牌（access_token）",
        "access tokens accepted in the URL query (access_token)",
    ),
    # ---- licensing: items, workflow, dossier
    Defect(
        "accept-unknown-item", "licensing", ("DB42.5.2",), "接受表1以外的事项办理项", "unknown licence item accepted"
    ),
    Defect(
        "accept-piping-move-out",
        "licensing",
        ("DB42.5.2", "DB42.5.T1-07.1"),
        "接受压力管道迁出申请",
        "pressure-piping move-out accepted",
    ),
    Defect("step-out-of-order", "licensing", ("DB42.6.2",), "允许越序执行步骤", "steps allowed out of order"),
    Defect("step-wrong-role", "licensing", ("DB42.8.2",), "允许非本岗位执行步骤", "steps allowed for the wrong role"),
    Defect(
        "certify-after-refusal",
        "licensing",
        ("DB42.6.2", "DB42.7.4.2.b.1"),
        "不予许可的办件仍可制证（制证只检查已作出决定）",
        "a refused case can still be certified (certify checks only that a decision was made)",
    ),
    Defect(
        "no-notice",
        "licensing",
        ("DB42.7.2.3.a.1", "DB42.7.2.3.a2.1"),
        "受理/不予受理不生成通知书",
        "no notice generated",
    ),
    Defect(
        "dossier-code-17-uscc",
        "licensing",
        ("DB42.9.2.8", "DB42.9.2.2"),
        "卷宗编码中的统一社会信用代码只有17位",
        "dossier code with a 17-character USCC",
    ),
    Defect(
        "dossier-seq-restart",
        "licensing",
        ("DB42.9.2.11", "DB42.9.2.1"),
        "卷宗序列号每次从0001重新开始（重号）",
        "dossier sequence restarts (duplicates)",
    ),
    Defect("dossier-seq-skip", "licensing", ("DB42.9.2.11",), "卷宗序列号跳号", "dossier sequence skips numbers"),
    Defect(
        "metadata-missing-element",
        "licensing",
        ("DB42.9.1.1", "DB42.9.1.T2-7.1"),
        "元数据XML缺少卷宗编号元素",
        "metadata XML lacks the dossier code element",
    ),
    Defect(
        "file-naming-wrong",
        "licensing",
        ("DB42.9.3.1.1",),
        "卷宗文件不按“卷宗号+许可环节_顺序号”命名",
        "dossier files not named per §9.3.1",
    ),
    Defect(
        "registration-no-malformed",
        "licensing",
        ("DB42.7.4.5.b2.2",),
        "使用登记证编号不符合TSG 08规则",
        "registration number not per TSG 08",
    ),
    # ---- licensing, client side: the calls the licensing server makes (outbox.py, roles/licensing_reports.py).
    # Role "licensing-client": carried by the licensing server, kept apart from the server-side licensing defects
    # (caught by the client-side suites, tests/test_suites_client_side.py).
    Defect(
        "no-report-back",
        "licensing-client",
        ("DB42.10.2.T5-8.1", "DB42.7.3.2.b.1"),
        "审查环节的办理环节信息（T5-8）从不上报",
        "the review step's report-back (T5-8) is never sent",
    ),
    Defect(
        "report-back-wrong-order",
        "licensing-client",
        ("DB42.10.2.T5-10.1", "DB42.10.2.T5-7.1"),
        "受理信息（T5-7）被压到办结后才上报：办件结果先于受理信息",
        "acceptance (T5-7) held back: the result is reported before it",
    ),
    Defect(
        "no-retry",
        "licensing-client",
        ("SHARE.SEC.RETRY.1",),
        "上报失败（503、超时）后不重传",
        "no retransmission after a 503 or a timeout",
    ),
    Defect(
        "retry-new-message-id",
        "licensing-client",
        ("SHARE.SEC.RETRY.1",),
        "重传时换用新的消息标识",
        "retransmissions carry a new message id",
    ),
    Defect(
        "wrong-case-number",
        "licensing-client",
        ("DB42.10.2.T5-7.1", "DB42.10.2.T5-8.1", "DB42.7.1.4.1"),
        "上报（T5-6…T5-10）使用系统内部编号而不是政务服务平台的办件编号",
        "report-backs name the internal number, not the platform's case number",
    ),
    # ---- gov-platform, inspection, supervision
    Defect(
        "thumbnail-to-city",
        "gov-platform",
        ("DB42.10.2.T5-16.2",),
        "向市级调用方提供缩略图",
        "thumbnails served to a city-level caller",
    ),
    Defect(
        "report-back-any-order",
        "gov-platform",
        ("DB42.10.2.T5-10.1",),
        "办件结果可先于受理上报",
        "result accepted before acceptance",
    ),
    Defect(
        "report-back-not-idempotent",
        "gov-platform",
        ("PROFILE.PUSH.2", "SHARE.SEC.RETRY.2"),
        "重传的办件上报（同一消息标识）被当作新消息处理，不返回首次回执",
        "a resent report-back is processed again, no first receipt",
    ),
    Defect(
        "objection-no-correction",
        "inspection",
        ("DB42.10.3.T6-2.1",),
        "异议反馈后不产生更正报告",
        "objection never leads to a correction",
    ),
    Defect(
        "supervision-drops-unit",
        "supervision",
        ("DB42.10.4.T7-1.1",),
        "上报的使用单位信息未保存",
        "reported unit not stored",
    ),
    # ---- hostile input (context.py Ctx.base_url, app.py): appended
    Defect(
        "host-header-trusted",
        "any",
        ("PROFILE.STATUS.6",),
        "Location、下载地址等绝对地址取自请求的 Host 头：伪造的 Host 使应答指向调用方任选的主机",
        "absolute URLs (Location, download addresses) built from the request's Host header: a forged Host points "
        "them at any host the caller chooses",
    ),
    Defect(
        "json-depth-unbounded",
        "any",
        ("PROFILE.STATUS.6", "PROFILE.ERROR.1"),
        "解析请求体时不限制 JSON 嵌套深度（只有解析器自身的 1024 层）：嵌套约 1000 层的请求（如令牌请求）导致 500",
        "request bodies parsed without a nesting bound (only the parser's own 1,024 levels): a request nested ~1,000 "
        "levels deep (a token request, say) gets a 500",
    ),
    Defect(
        "signature-headers-unchecked",
        "any",
        ("PROFILE.ERROR.1",),
        "不签名的客户端所带的签名请求头（X-Timestamp、X-Nonce、X-Signature、X-Signature-Method）不按契约校验格式",
        "signature headers of clients that do not sign are not checked against the contract's patterns",
    ),
)

BY_NAME = {d.name: d for d in DEFECTS}


def unknown(names: list[str] | tuple[str, ...]) -> list[str]:
    return [n for n in names if n not in BY_NAME]
