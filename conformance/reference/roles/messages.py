"""Idempotent message handling shared by every push-style operation (project profile:
a message id identifies a message; a repeat with the same content gets the first receipt
again, marked ``duplicate``; the same id with different content is a 409)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from conformance.contract.errors import ErrorCode
from conformance.reference import audit
from conformance.reference.context import Ctx, Reply
from conformance.reference.defects import D
from conformance.reference.errors import conflict
from conformance.serving import idempotency
from conformance.serving.idempotency import idempotency_key


async def once(ctx: Ctx, scope: str, body: Any, process: Callable[[], tuple[int, dict[str, Any]]]) -> Reply:
    """Run ``process`` (returning status and receipt) once per message, identified by the operation's
    ``x-idempotent-by`` in the contract; replay the receipt after.

    The receipt is stored in the same transaction as the work, so a crash never leaves a message
    processed but unremembered (or remembered but unprocessed); the reply waits for the commit.
    """
    db = ctx.server.db
    message_id = idempotency_key(ctx.op, body)
    if message_id is None:  # a handler calls once() only for an operation the contract makes idempotent
        raise RuntimeError(f"{ctx.op.operation_id} declares no x-idempotent-by")
    fingerprint = idempotency.fingerprint(body)
    # the defects belong to the sharing platform's push and the government platform's report-back
    # receivers (reference/defects/declared.py); other receivers stay idempotent
    broken = (ctx.defect(D.PUSH_NOT_IDEMPOTENT) and ctx.server.role == "sharing") or (
        ctx.defect(D.REPORT_BACK_NOT_IDEMPOTENT) and ctx.server.role == "gov-platform"
    )
    seen = None if broken else db.message(scope, message_id)
    if seen is not None:
        first_digest, _, receipt = seen
        if first_digest != fingerprint:
            raise conflict(
                f"消息标识 {message_id} 已用于内容不同的另一条消息",
                f"message id {message_id} was used for different content",
                ErrorCode.DUPLICATE,
            )
        await db.durable()  # the first copy may still be in the open group commit
        return Reply({**receipt, "duplicate": True}, status=200)
    with db.grouped():
        status, receipt = process()
        if not broken:
            db.remember_message(scope, message_id, fingerprint, status, receipt)
        if app_audited(ctx):
            # the audit entry joins this transaction: one disk sync for the work, the receipt and the audit
            ctx.audit(ctx.op.operation_id, ctx.op.path, durable=True)
            ctx.audited = True
    await db.durable()  # acknowledged only once on disk (group commit: one sync for concurrent pushes)
    return Reply(receipt, status=status)


def app_audited(ctx: Ctx) -> bool:
    return ctx.client is not None and audit.is_audited(ctx.op)
