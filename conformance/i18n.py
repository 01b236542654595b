"""User-facing text: Chinese by default, English on request (``--lang en`` or ``TZSB_LANG=en``)."""

from __future__ import annotations

import os
from collections.abc import Sequence

LANGS = ("zh", "en")

MESSAGES: dict[str, tuple[str, str]] = {
    # CLI
    "prog.description": (
        "特种设备安全监管信息共享接口一致性测试工具",
        "Conformance harness for special-equipment supervision sharing interfaces",
    ),
    "opt.lang": ("输出语言：zh（默认）或 en", "output language: zh (default) or en"),
    "opt.version": ("显示版本号并退出", "show the version and exit"),
    "opt.no_progress": (
        "不显示进度（默认：长时间校验时在标准错误输出上显示进度；间隔秒数取自环境变量 TZSB_PROGRESS_INTERVAL，默认 5）",
        "show no progress (default: a long validation shows progress on stderr; plain lines every "
        "TZSB_PROGRESS_INTERVAL seconds, default 5, when stderr is not a terminal)",
    ),
    "commands": ("子命令", "commands"),
    "interrupted": ("已中断（Ctrl-C）", "interrupted (Ctrl-C)"),
    "internal_error": (
        "内部错误：{error}：{message}\n这是本工具的缺陷，不是对被测对象的结论（退出码 2）；请附上面的调用栈报告问题。",
        "internal error: {error}: {message}\nThis is a fault of this tool, not a verdict on what was tested (exit 2); "
        "please report it with the traceback above.",
    ),
    "cmd.validate": (
        "校验代码、JSON/XML 文件或 JSON Lines 数据包",
        "validate a code, a JSON/XML file or a JSON Lines dump",
    ),
    "cmd.selfcheck": (
        "自检：校验全部契约与样例，启动参考服务器并对其运行契约模糊测试与一致性测试，输出汇总与报告",
        "self-check: validate every contract and fixture, start the reference server, fuzz it against the contracts, run the suites, print a summary and write reports",
    ),
    "opt.contracts_only": (
        "只校验契约与样例（不启动参考服务器）",
        "check the contracts and fixtures only (no reference server)",
    ),
    "opt.defects": (
        "另运行缺陷检出矩阵：参考服务器的每个缺陷开关都须被相应测试检出",
        "also run the defect kill matrix: every defect switch of the reference server must be caught",
    ),
    "opt.answers_template": (
        "输出该角色的证明材料答复文件模板（YAML）",
        "print an attestation answers template (YAML) for this role",
    ),
    "opt.tls": (
        "以 HTTPS 提供服务（TLS 1.2 及以上；未给证书时用 openssl 生成本机测试证书与测试 CA）",
        "serve HTTPS (TLS 1.2+; without a certificate a loopback test certificate and test CA are made with openssl)",
    ),
    "opt.tls_cert": ("TLS 证书文件（PEM）", "TLS certificate (PEM)"),
    "opt.tls_key": ("TLS 私钥文件（PEM）", "TLS private key (PEM)"),
    "opt.public_url": (
        "对外基础地址（Location 等绝对地址以此构造，绝不取自请求的 Host；默认为监听地址）",
        "public base URL (Location and other absolute URLs are built from it, never from the request's Host; "
        "default: the listening address)",
    ),
    "opt.jobs": ("并行进程数", "parallel worker processes"),
    "cmd.serve": (
        "启动参考服务器（各角色的符合性实现，嵌入式 SQLite）",
        "run the reference server (a conformant implementation of every role, embedded SQLite)",
    ),
    "opt.role": (
        "角色：all（默认，各角色挂在 /<角色> 下）或单一角色",
        "role: all (default, each role mounted at /<role>) or one role",
    ),
    "opt.host": ("监听地址（默认 127.0.0.1）", "listen address (default 127.0.0.1)"),
    "opt.port": ("端口（0 表示任选空闲端口）", "port (0 picks a free one)"),
    "opt.db": ("SQLite 数据库文件（首次启动时创建）", "SQLite database file (created on first start)"),
    "opt.defect": (
        "打开一个缺陷开关（可重复；--list-defects 列出全部）",
        "switch a defect on (repeatable; --list-defects lists them)",
    ),
    "opt.seed": (
        "以此种子生成确定的演示数据（仅新数据库）",
        "deterministic demo data from this seed (new database only)",
    ),
    "opt.max_body": ("请求体上限（字节，超过返回 413）", "request body limit in bytes (413 beyond)"),
    "opt.counterpart": ("对端地址 ROLE=URL（如 gov-platform=http://127.0.0.1:8701）", "counterpart base URL ROLE=URL"),
    "opt.token_ttl": ("访问令牌有效期（秒）", "access token lifetime in seconds"),
    "opt.list_defects": ("列出全部缺陷开关及其破坏的条款", "list every defect switch and the clauses it breaks"),
    "err.unknown_defect": (
        "未知的缺陷开关：{names}（--list-defects 列出全部）",
        "unknown defect(s): {names} (see --list-defects)",
    ),
    "err.counterpart": ("对端地址格式应为 ROLE=URL：{value}", "counterpart must be ROLE=URL: {value}"),
    "cmd.run": (
        "对被测系统运行一致性测试并生成报告",
        "run the conformance suites against a target and write the report",
    ),
    "opt.target": ("被测系统：URL 或 target.toml", "system under test: URL or target TOML"),
    "opt.deadline": (
        "整个运行的时限（秒；默认取目标文件 [run] deadline_s，否则 quick {quick}、standard {standard}、certification {certification}）；"
        "到时未运行的检验记为未测，报告照常写出",
        "whole-run deadline in seconds (default: the target file's [run] deadline_s, else quick {quick}, standard {standard}, "
        "certification {certification}); checks not run by then are 未测 and the report is written",
    ),
    "opt.breaker": (
        "连续多少次请求没有任何应答即提前结束运行（默认 {n}）",
        "requests in a row without any answer that stop the run early (default {n})",
    ),
    "opt.profile": ("测试深度：quick、standard、certification", "depth: quick, standard, certification"),
    "opt.client_id": (
        "客户端标识（密钥取自环境变量 TZSB_CLIENT_SECRET）",
        "client id (secret from TZSB_CLIENT_SECRET)",
    ),
    "opt.feature": ("声明的可选特性（可重复）", "declared optional feature (repeatable)"),
    "opt.out": ("报告目录（默认 reports/<运行编号>）", "report directory (default reports/<run id>)"),
    "opt.answers": ("证明材料答复文件（YAML）", "attestation answers file (YAML)"),
    "run.done": ("报告：{path}（认证结论：{verdict}）", "report: {path} (certification verdict: {verdict})"),
    "err.unknown_role": ("未知角色 {role}（可选：{roles}）", "unknown role {role} (one of {roles})"),
    "opt.scope": (
        "认证范围：full（接口与证明材料，默认）或 interface（仅接口，证明材料不在范围内）",
        "certification scope: full (interface and attestation, default) or interface (interface only)",
    ),
    "opt.coverage": (
        "列出每个自动条款的判定检验；有应条款没有判定检验时退出码为 1",
        "list every automated clause's deciding checks; exit 1 when a shall-clause has none",
    ),
    "cmd.clauses": ("列出要求条款目录", "list the requirement catalogue"),
    "cmd.verify": (
        "核验运行目录的证据：SM2 签名与每个文件的摘要（改动、缺失、新增的文件逐一列出；完好退出 0，否则 1）",
        "verify a run folder's evidence: the SM2 signature and every file's digests (files changed, missing or added "
        "are named; exit 0 when untouched, else 1)",
    ),
    "cmd.report": (
        "由运行目录重新生成报告：report.html，以及（--pdf）A4 的测评报告 report.pdf（需 Chromium 与中文字体），并重新签名清单",
        "write a run folder's report again: report.html and (--pdf) the A4 test report report.pdf (needs Chromium and a "
        "CJK font); the manifest is signed again",
    ),
    "opt.pdf": (
        "另写出 A4 的测评报告 report.pdf（需 Chromium 与中文字体，如 Debian 的 chromium、fonts-noto-cjk）",
        "also write the A4 test report report.pdf (needs Chromium and a CJK font, e.g. Debian chromium, fonts-noto-cjk)",
    ),
    "opt.run_dir": ("运行目录（含 manifest.json 与 manifest.sig）", "run folder (with manifest.json and manifest.sig)"),
    "opt.fingerprint": (
        "签名者公钥指纹（SM3，报告与签发者公布的值）；给出时公钥须与之相符",
        "the signer's public-key fingerprint (SM3, as the report and the signer publish it); when given the key must match",
    ),
    "opt.verify_json": ("以 JSON 输出核验结果", "print the result as JSON"),
    "opt.signing_key": (
        "签名私钥文件（64 位十六进制 SM2 私钥；默认 $TZSB_SIGNING_KEY，或首次使用时生成的 ~/.config/tzsb-conformance/sm2-signing.key）",
        "signing key file (64-hex-digit SM2 private key; default $TZSB_SIGNING_KEY, or "
        "~/.config/tzsb-conformance/sm2-signing.key generated on first use)",
    ),
    "cmd.binding": ("厂商接口方言绑定（docs/bindings.md）", "vendor dialect bindings (docs/bindings.md)"),
    "cmd.binding_check": (
        "检查绑定文件：能否应用、映射目标是否存在、有无冲突、每个样例往返是否不变",
        "check a binding file: it applies, every mapped target exists, no conflicts, every fixture round-trips",
    ),
    "opt.binding_file": ("绑定文件（YAML）", "the binding file (YAML)"),
    "opt.binding_selfcheck": (
        "参考服务器与模拟器都说绑定文件描述的厂商方言，各套件经绑定运行（绑定的自测）",
        "the reference servers and simulators speak a binding's dialect and every suite runs through it",
    ),
    "opt.binding_serve": (
        "以绑定文件描述的厂商方言提供服务（自测绑定用）",
        "serve the vendor dialect a binding file describes (to self-test a binding)",
    ),
    "opt.code": ("校验单个代码：KIND VALUE，KIND 取 {kinds}", "validate one code: KIND VALUE, KIND one of {kinds}"),
    "opt.file": ("待校验的文件（.json、.jsonl/.ndjson、.xml）", "file to validate (.json, .jsonl/.ndjson, .xml)"),
    "opt.schema": (
        "契约名称，如 equipment、gov-platform#/$defs/receipt、dossier-metadata（XML）",
        "contract name, e.g. equipment, gov-platform#/$defs/receipt, dossier-metadata (XML)",
    ),
    "opt.strict": (
        "只接受今天发证的形式（issued：新发的证号、卷宗编码、设备代码应有的形式）",
        "only the form issued today (issued: what a new certificate, dossier code or equipment code must look like)",
    ),
    "opt.lenient": (
        "接受历来真实发放的各种形式并注明其年代（held，默认：系统持有和交换的数据）",
        "every form authorities really issued, each noted with its era (held, the default: data a system holds)",
    ),
    "rule.issued": ("规则：今天发证的形式（--strict）", "rule: the form issued today (--strict)"),
    "rule.held": (
        "规则：数据中真实存在的形式（默认；--strict 只接受今天发证的形式）",
        "rule: every form really issued (the default; --strict: only today's form)",
    ),
    "opt.failures_only": ("JSON Lines：只输出不合格行", "JSON Lines: print only failing lines"),
    "opt.max_errors": ("每条记录最多列出的错误数", "most errors listed per record"),
    "opt.output": ("输出格式：text 或 jsonl", "output format: text or jsonl"),
    "opt.validate_jobs": (
        "JSON Lines：并行进程数（0 = 全部 CPU 核；结果仍按行序输出）",
        "JSON Lines: worker processes (0 = every CPU core; verdicts still in line order)",
    ),
    # size and diff (conformance/contract/size.py, conformance/contract/diff.py)
    "cmd.size": (
        "按 COSMIC（ISO/IEC 19761）从契约静态计算接口功能规模（CFP）：每个操作、每个接口、每个角色及合计（docs/functional-size.md）",
        "functional size of the interfaces by COSMIC (ISO/IEC 19761), counted from the contracts: per operation, "
        "interface, role and in total, in CFP (docs/functional-size.md)",
    ),
    "opt.size_role": ("只计算该角色（默认：全部角色）", "this role only (default: every role)"),
    "opt.size_json": (
        "以 JSON 输出（schemas/json/functional-size.schema.json）",
        "print JSON (schemas/json/functional-size.schema.json)",
    ),
    "opt.diff_json": ("以 JSON 输出", "print JSON"),
    "cmd.diff": (
        "比较两版契约：列出变化的操作、JSON Schema 字段、代码表条目和条款，判断是否不兼容，指出涉及的条款与判定测试"
        "（退出码：0 无变化，1 有兼容变化，3 有不兼容变化，2 用法错误；docs/contract-diff.md）",
        "compare two contract versions: changed operations, JSON Schema fields, code-list entries and clauses, "
        "whether each breaks existing implementations, the clauses and deciding tests it touches (exit 0 no change, "
        "1 compatible changes, 3 breaking changes, 2 usage error; docs/contract-diff.md)",
    ),
    "opt.diff_old": (
        "旧契约：含 schemas/ 的目录、schemas/ 目录本身，或本仓库的 git 版本（如 HEAD~5）",
        "old contracts: a folder holding schemas/, schemas/ itself, or a git revision of this repository (e.g. HEAD~5)",
    ),
    "opt.diff_new": ("新契约（同上，如 HEAD 或 .）", "new contracts (as above, e.g. HEAD or .)"),
    "opt.diff_reports": (
        "已完成的运行目录（或其上级目录）：列出哪些运行的契约摘要与新契约不符、须重新测试",
        "finished run folders (or folders holding them): list the runs whose contract digests no longer match the new contracts",
    ),
    "opt.diff_no_tests": (
        "不收集判定测试（只按条款说明中的判定测试列出，更快）",
        "do not collect the suites for deciding tests (only the tests the clause notes name; faster)",
    ),
    # verdicts
    "valid": ("有效", "valid"),
    "invalid": ("无效", "invalid"),
    "code.valid": ("{kind}“{value}”有效{why}", "{kind} '{value}' is valid{why}"),
    "code.invalid": ("{kind}“{value}”无效：{why}", "{kind} '{value}' is invalid: {why}"),
    "line.valid": ("第 {n} 行：有效", "line {n}: valid"),
    "line.invalid": ("第 {n} 行：无效：{why}", "line {n}: invalid: {why}"),
    "file.valid": ("{file}：符合 {schema}", "{file}: conforms to {schema}"),
    "file.invalid": (
        "{file}：不符合 {schema}，{count} 处错误",
        "{file}: does not conform to {schema}, {count} error(s)",
    ),
    "summary.jsonl": (
        "共 {total} 行：有效 {ok}，无效 {bad}（{rate:,.0f} 行/秒，{secs:.2f} 秒）",
        "{total} lines: {ok} valid, {bad} invalid ({rate:,.0f} lines/s, {secs:.2f} s)",
    ),
    # errors of input
    "err.jobs": ("--jobs 不能为负数", "--jobs cannot be negative"),
    "err.no_file": ("找不到文件：{file}", "file not found: {file}"),
    "err.not_file": ("不是普通文件：{file}", "not a regular file: {file}"),
    "err.empty": ("文件为空：{file}", "file is empty: {file}"),
    "err.encoding": ("不是 UTF-8 编码（第 {pos} 字节起无法解码）", "not UTF-8 (cannot decode from byte {pos})"),
    "err.not_json": ("不是合法的 JSON：{why}", "not valid JSON: {why}"),
    "err.too_big": (
        "文件过大（{size:,} 字节，上限 {limit:,}）；大数据请使用 JSON Lines 逐行校验",
        "file too large ({size:,} bytes, limit {limit:,}); use JSON Lines for large dumps",
    ),
    "err.line_too_long": (
        "该行过长（{size:,} 字节，上限 {limit:,}）",
        "line too long ({size:,} bytes, limit {limit:,})",
    ),
    "err.unknown_schema": ("未知的契约：{schema}。可用：{names}", "unknown contract: {schema}. Available: {names}"),
    "err.unknown_kind": ("未知的代码类型：{kind}。可用：{kinds}", "unknown code kind: {kind}. Available: {kinds}"),
    "err.need_schema": ("校验文件时须用 --schema 指明契约", "--schema is required to validate a file"),
    "err.need_target": (
        "请给出文件，或用 --code KIND VALUE 校验代码",
        "give a file, or --code KIND VALUE to validate a code",
    ),
    "err.bom": ("文件以 UTF-8 BOM 开头（已忽略）", "file starts with a UTF-8 BOM (ignored)"),
    "err.empty_line": ("空行", "empty line"),
    # progress of validate (conformance.cli.progress)
    "progress.line": (
        "校验进度：{file} 已校验 {done:,} 条（{rate:,.0f} 条/秒，用时 {secs:.0f} 秒）",
        "progress: {file}: {done:,} records checked ({rate:,.0f} records/s, {secs:.0f} s)",
    ),
    "progress.records": ("{done:,} 条", "{done:,} records"),
    "progress.rate": ("{rate:,.0f} 条/秒", "{rate:,.0f} records/s"),
    "progress.document": (
        "正在校验 {file}（{mb:,.0f} MB，单个文档：整体读入后校验，期间无进度）",
        "validating {file} ({mb:,.0f} MB, one document: read whole, then checked; no progress meanwhile)",
    ),
    "progress.err_interval": (
        "环境变量 {name} 应为非负秒数，而不是 {value!r}；改用 {default:g} 秒",
        "{name} should be a number of seconds >= 0, not {value!r}; using {default:g} s",
    ),
    # selfcheck
    "self.index": ("各角色报告索引：{path}", "index of the role reports: {path}"),
    "self.pdf": ("各角色测评报告 PDF 已打印", "each role's PDF test report printed"),
    "self.title": ("契约自检", "Contract self-check"),
    "self.ok": ("通过", "pass"),
    "self.fail": ("不通过", "fail"),
    "self.server": ("参考服务器（全部角色，演示数据）：{url}", "reference server (every role, demo data): {url}"),
    "self.server_failed": ("参考服务器自检", "reference-server self-check"),
    "self.fuzz": ("契约模糊测试 {doc}（{n} 个请求）", "contract fuzzing {doc} ({n} requests)"),
    "self.suites": (
        "一致性测试 {role}：认证结论（范围：仅接口）{verdict}，{tested} 个条款已测，用时 {secs:.0f} 秒，报告 {path}",
        "suites {role}: certification verdict (scope: interface) {verdict}, {tested} clauses tested in {secs:.0f} s, report {path}",
    ),
    "self.licensing": (
        "参考行政许可系统（调用模拟器）：{url}；模拟器：{sims}",
        "reference licensing system (calling the simulators): {url}; simulators: {sims}",
    ),
    "self.platform": (
        "参考政务服务平台（单独运行，向模拟的许可系统推送申请）：{url}；模拟器：{sims}",
        "reference gov-service platform (alone, pushing applications to the simulated licensing system): {url}; simulators: {sims}",
    ),
    "self.sharing": (
        "参考共享平台（HTTPS，测试 CA；省级平台，上报模拟国家平台 {sims}）：{url}",
        "reference sharing platform (HTTPS, test CA; a provincial platform reporting up to the national simulator {sims}): {url}",
    ),
    "self.untested": ("应符合条款未测", "shall-clause not tested"),
    "self.nonconforming": ("应符合条款不符合或错误", "shall-clause does not conform (or error)"),
    "self.matrix": (
        "缺陷检出矩阵（每个缺陷开关单独运行相应测试）",
        "defect kill matrix (each defect switch against the suites that must catch it)",
    ),
    "self.matrix_summary": (
        "缺陷检出矩阵：{caught}/{total} 个缺陷被检出",
        "defect kill matrix: {caught}/{total} defects caught",
    ),
    "self.no_row": ("该缺陷声明的条款没有选中任何测试", "the clauses the defect declares select no test"),
    "self.summary": (
        "自检结果：{verdict}（{passed}/{total} 项通过，用时 {secs:.1f} 秒）。参考实现按“仅接口”范围认证："
        "它不提供组织性证明材料（等级保护测评、管理制度等），这些证明材料项在各角色报告中为“未测”，全范围认证结论为不通过",
        "self-check: {verdict} ({passed}/{total} checks passed in {secs:.1f} s). The reference implementation is certified "
        "in the interface scope: it has no organisational evidence (security assessments, procedures ...), so its attestation "
        "items are untested in each role's report and a full-scope certification would be fail",
    ),
}


def lang_from(argv: Sequence[str] | None = None) -> str:
    """Language chosen on the command line (``--lang en``) or by ``TZSB_LANG``; default Chinese."""
    args = list(argv or [])
    for i, a in enumerate(args):
        if a == "--lang" and i + 1 < len(args):
            return "en" if args[i + 1] == "en" else "zh"
        if a.startswith("--lang="):
            return "en" if a.split("=", 1)[1] == "en" else "zh"
    return "en" if os.environ.get("TZSB_LANG", "zh") == "en" else "zh"


def t(key: str, lang: str = "zh", **kw: object) -> str:
    zh, en = MESSAGES[key]
    text = en if lang == "en" else zh
    return text.format(**kw) if kw else text
