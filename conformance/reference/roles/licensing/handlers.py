"""特种设备使用登记行政许可应用系统 (licensing): every operation of ``licensing.yaml`` and
``workflow-driver.yaml`` (DB42/T 2279-2024 §6–§9, 表5 序号5, 表6 序号2).

* ``pushApplication`` (T5-5): a case for one of the 114 items of Table 1 whose equipment fits the
  item's group; idempotent by messageId; the re-submission after 补齐补正 is the same case
  number with a new messageId; anything else on a known case is 409.
* The workflow driver runs the nine steps of §6 as workflow.json describes them
  (``licensing_workflow``); documents, notices and the dossier are in ``licensing_dossier``,
  the outgoing calls in ``licensing_reports``, the tables in ``licensing_store``.
* The dossier query / reference interface (§7.5.5 c, §7.5.6 c 2) serves the dossier, its Table 2
  metadata as XML, its registration form (dossier-register.xsd, ``getDossierRegister``) and its files.
* ``receiveCorrectedInspectionReport`` (表6 序号2 re-push): stored per report number and version;
  a case whose application names the report gets the corrected report among its materials.
* ``raiseObjection`` (driver; §7.2.5 f, 表6 序号2): an examiner's objection to the inspection report the case names,
  fed back to the inspection system (T6-2) by ``licensing_inspection_data``.
"""

from __future__ import annotations

from typing import Any

from conformance.contract.errors import ErrorCode
from conformance.reference import outbox
from conformance.reference.context import SEEDERS, SETUPS, Ctx, Reply, now_iso, operation
from conformance.reference.db import dumps, loads
from conformance.reference.errors import bad_request, conflict, not_found
from conformance.reference.files import MEDIA_TYPES, content_disposition
from conformance.reference.roles.licensing import dossier, inspection_data, reports, store
from conformance.reference.roles.licensing import workflow as flow
from conformance.reference.roles.messages import once
from conformance.reference.server_state import RoleServer
from conformance.serving import idempotency
from conformance.serving.envelope import page
from conformance.serving.params import entry


def setup(server: RoleServer) -> None:
    server.db.ensure(store.DDL)
    outbox.setup(server)


SETUPS["licensing"] = setup


def _seed(server: RoleServer, gen: Any) -> None:
    from conformance.reference.roles.licensing.seed import seed

    seed(server, gen)


SEEDERS["licensing"] = _seed


def _gov_register(server: RoleServer) -> Any:
    """``register_case`` of the gov-platform role when it runs on this database (``--role all``)."""
    if server.db.one("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'gov_cases'") is None:
        return None
    try:
        from conformance.reference.roles.gov_platform import cases as gov_cases
    except ImportError:  # pragma: no cover - the gov-platform role is optional
        return None
    return getattr(gov_cases, "register_case", None)


def _case(ctx: Ctx) -> store.Case:
    case = store.load_case(ctx.db, ctx.path["caseNo"])
    if case is None:
        raise not_found(f"办件 {ctx.path['caseNo']}", f"case {ctx.path['caseNo']}")
    return case


def _actor(ctx: Ctx) -> flow.Actor:
    client = ctx.client
    return flow.Actor(ctx.body["operatorName"], client.workflow_role if client else None, client.id if client else None)


# ---------------------------------------------------------------------------------- T5-5
@operation("pushApplication")
async def push_application(ctx: Ctx) -> Reply:
    body = ctx.body
    flow.check_item(body, ctx.server.defects)
    register = _gov_register(ctx.server)

    def process() -> tuple[int, dict[str, Any]]:
        status, receipt = flow.receive_application(ctx.server, body, gov_register=register)
        reports.on_receipt(ctx.server, body)  # identity and item-library look-ups (§7.1.5 a, b; §4.7 b)
        inspection_data.look_up(ctx.server, body)  # the inspection report it names (T6-1; §7.1.5 f)
        return status, receipt

    reply = await once(ctx, "licensing.T5-5", body, process)
    reply.headers["Location"] = f"{ctx.base_url}/driver/v1/cases/{body['caseNo']}"
    return reply


# ---------------------------------------------------------------------------------- 表6 序号2 re-push
@operation("receiveCorrectedInspectionReport")
async def receive_corrected_report(ctx: Ctx) -> Reply:
    report = ctx.body
    if not report.get("correctionOf"):
        raise bad_request(
            "本接口只接收更正后的检验报告：缺少 correctionOf（据以更正的异议标识）",
            "only corrected reports are accepted here: correctionOf is missing",
            [entry("/correctionOf", "缺少必填字段 correctionOf", "correctionOf required", "required")],
            code=ErrorCode.VALIDATION_FAILED,
        )
    db, no, version, fingerprint = ctx.db, report["reportNo"], report["version"], idempotency.fingerprint(report)
    with db.write():
        same = db.one("SELECT digest, received_at FROM lic_reports WHERE report_no = ? AND version = ?", no, version)
        if same is not None:
            if same[0] != fingerprint:
                raise conflict(
                    f"检验报告 {no} 第{version}版已接收，内容不同",
                    f"report {no} version {version} differs",
                    ErrorCode.DUPLICATE,
                )
            return Reply({"messageId": report["correctionOf"], "receivedAt": same[1], "duplicate": True}, status=200)
        latest = db.one("SELECT MAX(version) FROM lic_reports WHERE report_no = ?", no)
        if latest and latest[0] is not None and version <= latest[0]:
            raise conflict(
                f"检验报告 {no} 的版本 {version} 不大于已接收的版本 {latest[0]}",
                f"report {no} version {version} is not above the received version {latest[0]}",
                ErrorCode.CONFLICT,
            )
        at = now_iso()
        db.conn.execute(
            "INSERT INTO lic_reports (report_no, version, body, digest, correction_of, received_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (no, version, dumps(report), fingerprint, report["correctionOf"], at),
        )
        for row in db.all("SELECT case_no FROM lic_cases WHERE report_no = ?", no):
            case = store.load_case(db, row[0])
            if case is not None and not _archived(ctx, case.case_no):
                dossier.file_report(ctx.server, case, report, at)
    return Reply({"messageId": report["correctionOf"], "receivedAt": at, "duplicate": False}, status=201)


def _archived(ctx: Ctx, case_no: str) -> bool:
    row = dossier.dossier_row(ctx.db, case_no)
    return row is not None and row.status == "已归档"


def corrected_reports(db: Any, report_no: str) -> list[dict[str, Any]]:
    """Every received version of a report, oldest first."""
    return [loads(r[0]) for r in db.all("SELECT body FROM lic_reports WHERE report_no = ? ORDER BY version", report_no)]


# ---------------------------------------------------------------------------------- dossier query / reference
def _dossier(ctx: Ctx) -> dossier.DossierRow:
    row = dossier.dossier_by_code(ctx.db, ctx.path["dossierCode"])
    if row is None:
        raise not_found(f"电子卷宗 {ctx.path['dossierCode']}", f"dossier {ctx.path['dossierCode']}")
    return row


@operation("queryDossiers")
async def query_dossiers(ctx: Ctx) -> Reply:
    q = ctx.query
    number, size = int(q.get("page", 1)), int(q.get("size", 50))
    total, rows = dossier.query(
        ctx.db, case_no=q.get("caseNo"), uscc=q.get("uscc"), year=q.get("year"), page=number, size=size
    )
    return Reply(page([dossier.dossier_view(ctx.server, r, ctx.base_url) for r in rows], number, size, total))


@operation("getDossier")
async def get_dossier(ctx: Ctx) -> Reply:
    return Reply(dossier.dossier_view(ctx.server, _dossier(ctx), ctx.base_url))


@operation("getDossierMetadataXml")
async def get_dossier_metadata_xml(ctx: Ctx) -> Reply:
    return Reply(raw=dossier.metadata_xml(ctx.server, _dossier(ctx)), media_type="application/xml; charset=utf-8")


@operation("getDossierMetadataTxt")
async def get_dossier_metadata_txt(ctx: Ctx) -> Reply:
    return Reply(raw=dossier.metadata_text(ctx.server, _dossier(ctx)), media_type="text/plain; charset=utf-8")


@operation("getDossierRegister")
async def get_dossier_register(ctx: Ctx) -> Reply:
    return Reply(raw=dossier.register_xml(ctx.server, _dossier(ctx)), media_type="application/xml; charset=utf-8")


@operation("getDossierFile")
async def get_dossier_file(ctx: Ctx) -> Reply:
    row = _dossier(ctx)
    name = ctx.path["fileName"]
    found = dossier.find_file(ctx.server, row, name)
    if found is None:
        raise not_found(f"卷宗文件 {name}", f"dossier file {name}")
    doc, body = found
    return Reply(
        raw=body, media_type=MEDIA_TYPES[doc.format], headers={"Content-Disposition": content_disposition(name)}
    )


# ---------------------------------------------------------------------------------- workflow driver
@operation("getCaseState")
async def get_case_state(ctx: Ctx) -> Reply:
    return Reply(flow.case_state(ctx.server, _case(ctx), ctx.base_url))


@operation("getCaseHistory")
async def get_case_history(ctx: Ctx) -> Reply:
    return Reply(store.history(ctx.db, _case(ctx).case_no)[-500:])


@operation("getCaseNotices")
async def get_case_notices(ctx: Ctx) -> Reply:
    return Reply(dossier.notice_views(ctx.server, _case(ctx).case_no, ctx.base_url)[-100:])


@operation("getCaseDossier")
async def get_case_dossier(ctx: Ctx) -> Reply:
    case = _case(ctx)
    row = dossier.dossier_row(ctx.db, case.case_no)
    if row is None:
        if not case.legal_person and case.concluded:
            raise not_found(
                f"办件 {case.case_no} 的电子卷宗（自然人申请，无统一社会信用代码，无法按 §9.2 编制卷宗编码）",
                f"dossier of case {case.case_no} (natural-person applicant: no USCC for the §9.2 code)",
            )
        raise not_found(
            f"办件 {case.case_no} 的电子卷宗（办件尚未进入预归档）",
            f"dossier of case {case.case_no} (not yet in pre-archiving)",
        )
    return Reply(dossier.dossier_view(ctx.server, row, ctx.base_url))


@operation("performStep")
async def perform_step(ctx: Ctx) -> Reply:
    body = ctx.body
    if body["step"] == "certify":  # 制证 takes what the application left empty from its inspection report (§7.1.5 f)
        await inspection_data.settled(ctx.server, ctx.path["caseNo"])
    case = flow.perform_step(
        ctx.server, ctx.path["caseNo"], body["step"], body["outcome"], _actor(ctx), body["opinion"]
    )
    return Reply(flow.case_state(ctx.server, case, ctx.base_url))


@operation("performSpecialProcedure")
async def perform_special_procedure(ctx: Ctx) -> Reply:
    case = flow.special_procedure(ctx.server, ctx.path["caseNo"], ctx.body, _actor(ctx))
    return Reply(flow.case_state(ctx.server, case, ctx.base_url))


@operation("raiseObjection")
async def raise_objection(ctx: Ctx) -> Reply:
    """§7.2.5 f): the examiner's objection to inspection data, fed back to the inspection system (T6-2)."""
    case = _case(ctx)
    actor = _actor(ctx)
    items = inspection_data.objection_items(case, actor.role, ctx.body)
    report = await inspection_data.awaited_report(ctx.server, case)
    with ctx.db.write():
        inspection_data.raise_objection(ctx.server, case, report, items, actor.name)
    return Reply(flow.case_state(ctx.server, case, ctx.base_url))
