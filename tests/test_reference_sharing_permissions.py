"""The reference sharing platform's permission changes and suspensions
(``conformance/reference/roles/sharing/permissions.py``): what the suite cannot see from outside — the validation of a
request, the answers of the state machine, and that approved changes and active suspensions survive a restart."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import requests

from conformance.contract.errors import ErrorCode
from tests.refserver import Api, running
from tests.test_reference_sharing import error, ok


def change(**kw: Any) -> dict[str, Any]:
    return {
        "changeId": f"c-{secrets.token_hex(4)}",
        "clientId": "permission-subject",
        "addScopes": ["sharing:units:read"],
        "removeScopes": [],
        "reason": "测试",
        "requester": "测试人",
        **kw,
    }


def decide(api: Api, change_id: str, decision: str) -> requests.Response:
    return api.post(
        f"/api/v1/permission-changes/{change_id}/decision",
        {"decision": decision, "approver": "审批人", "comment": "意见"},
    )


def test_permission_changes_are_validated_and_decided_once(tmp_path: Path) -> None:
    with running(tmp_path, "sharing", seed=1) as srv:
        base = srv.url()
        requester, approver = Api(base, "permission-requester"), Api(base, "permission-approver")
        bad = error(requester.post("/api/v1/permission-changes", change(clientId="nobody")), 400)
        assert [e["path"] for e in bad["errors"]] == ["/clientId"]
        bad = error(requester.post("/api/v1/permission-changes", change(addScopes=["sharing:nothing:read"])), 400)
        assert [e["path"] for e in bad["errors"]] == ["/addScopes/0"]
        bad = error(requester.post("/api/v1/permission-changes", change(addScopes=[])), 400)
        assert [e["path"] for e in bad["errors"]] == ["/addScopes"]
        both = change(addScopes=["sharing:units:read"], removeScopes=["sharing:units:read"])
        assert [e["path"] for e in error(requester.post("/api/v1/permission-changes", both), 400)["errors"]] == [
            "/removeScopes"
        ]
        body = change()
        created = ok("createPermissionChange", requester.post("/api/v1/permission-changes", body), 201)
        assert (created["status"], created["requestedBy"]) == ("pending", "permission-requester")
        assert ok("createPermissionChange", requester.post("/api/v1/permission-changes", body)) == created
        other = error(requester.post("/api/v1/permission-changes", {**body, "reason": "另"}), 409)
        assert other["code"] == ErrorCode.DUPLICATE
        cid = body["changeId"]
        assert error(decide(requester, cid, "approve"), 403)["code"] == ErrorCode.FORBIDDEN
        assert error(decide(approver, "c-none", "approve"), 404)["code"] == ErrorCode.NOT_FOUND
        assert error(Api(base, "reader").get(f"/api/v1/permission-changes/{cid}"), 403)["code"] == ErrorCode.FORBIDDEN
        assert ok("getPermissionChange", requester.get(f"/api/v1/permission-changes/{cid}"))["status"] == "pending"
        approved = ok("decidePermissionChange", decide(approver, cid, "approve"))
        assert (approved["status"], approved["decidedBy"]) == ("approved", "permission-approver")
        assert ok("decidePermissionChange", decide(approver, cid, "approve")) == approved
        assert error(decide(approver, cid, "reject"), 409)["code"] == ErrorCode.STATE_CONFLICT


def test_approved_changes_and_active_suspensions_survive_a_restart(tmp_path: Path) -> None:
    with running(tmp_path, "sharing", seed=1) as srv:
        base = srv.url()
        before = Api(base, "permission-subject")
        assert error(before.get("/api/v1/units", params={"size": 1}), 403)["code"] == ErrorCode.FORBIDDEN
        body = change()
        ok("createPermissionChange", Api(base, "permission-requester").post("/api/v1/permission-changes", body), 201)
        ok("decidePermissionChange", decide(Api(base, "permission-approver"), body["changeId"], "approve"))
        ok("queryUnits", Api(base, "permission-subject").get("/api/v1/units", params={"size": 1}))
        assert error(before.get("/api/v1/units", params={"size": 1}), 403)["code"] == ErrorCode.FORBIDDEN  # old token
        suspension = {"suspensionId": "s-1", "clientId": "reader", "reason": "滥用", "evidence": ["审计记录"]}
        created = ok("createSuspension", Api(base).post("/api/v1/suspensions", suspension), 201)
        assert (created["status"], created["suspendedBy"]) == ("active", "harness")
        assert error(Api(base).post("/api/v1/suspensions", {**suspension, "reason": "另"}), 409)["code"] == (
            ErrorCode.DUPLICATE
        )
        bad = {**suspension, "suspensionId": "s-2", "clientId": "nobody"}
        assert [e["path"] for e in error(Api(base).post("/api/v1/suspensions", bad), 400)["errors"]] == ["/clientId"]
    with running(tmp_path, "sharing") as srv:  # the same database
        base = srv.url()
        ok("queryUnits", Api(base, "permission-subject").get("/api/v1/units", params={"size": 1}))
        reader = Api(base, "reader")
        assert error(reader.get("/api/v1/units", params={"size": 1}), 403)["code"] == ErrorCode.SUSPENDED
        ok("getCatalogue", reader.get("/api/v1/catalogue"))  # not shared data: unaffected
        lifted = ok("liftSuspension", Api(base).post("/api/v1/suspensions/s-1/lift", {"reason": "已整改"}))
        assert (lifted["status"], lifted["liftReason"]) == ("lifted", "已整改")
        assert ok("liftSuspension", Api(base).post("/api/v1/suspensions/s-1/lift", {"reason": "再次"})) == lifted
        ok("getSuspension", Api(base).get("/api/v1/suspensions/s-1"))
        ok("queryUnits", reader.get("/api/v1/units", params={"size": 1}))
        assert error(Api(base).post("/api/v1/suspensions/s-9/lift", {"reason": "无"}), 404)["code"] == (
            ErrorCode.NOT_FOUND
        )
