"""``tzsb-conform diff``: changes between contract trees, their classification, clauses, tests and stale runs
(docs/contract-diff.md)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from conformance.cli import main
from conformance.contract import documents as contracts
from conformance.contract.diff import EXIT_BREAKING, check_reports, compare, exit_code, run_diff
from conformance.contract.tree import ContractTree
from conformance.selfcheck.coverage import decided_by


def _edit_json(path: Path, change) -> None:  # type: ignore[no-untyped-def]
    data = json.loads(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


@pytest.fixture(scope="module")
def edited(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """A copy of schemas/ with five known edits, and the diff of the checkout's contracts against it."""
    root = tmp_path_factory.mktemp("new")
    shutil.copytree(contracts.SCHEMAS, root / "schemas")
    json_dir, lists = root / "schemas" / "json", root / "schemas" / "codelists"

    def required_field(d: dict) -> None:  # a new required request field
        sub = d["$defs"]["subscriptionRequest"]
        sub["properties"]["contact"] = {"type": "string", "title": "联系人", "minLength": 1}
        sub["required"].append("contact")

    def remove_response_field(d: dict) -> None:
        receipt = d["$defs"]["pushReceipt"]
        del receipt["properties"]["receivedAt"]
        receipt["required"].remove("receivedAt")

    _edit_json(json_dir / "sharing.schema.json", lambda d: (required_field(d), remove_response_field(d)))
    _edit_json(json_dir / "equipment.schema.json", lambda d: d["properties"]["status"]["enum"].remove("moved-out"))
    _edit_json(
        json_dir / "unit.schema.json",
        lambda d: d["properties"].__setitem__("nickname", {"type": "string", "title": "简称", "maxLength": 50}),
    )
    _edit_json(
        lists / "roles.json",
        lambda d: d["items"].append(
            {"code": "test-role", "name": "测试岗位", "duty": "测试", "clause": "—", "steps": []}
        ),
    )
    return root, compare(ContractTree.current(), ContractTree.from_folder(root), decided_by=decided_by)


def _by_code(result: dict) -> dict[str, dict]:
    return {ch["code"]: ch for ch in result["changes"]}


def test_exactly_the_known_edits_are_found(edited: tuple[Path, dict]) -> None:
    _, result = edited
    found = sorted((ch["area"], ch["code"], ch["subject"]) for ch in result["changes"])
    assert found == [
        ("codelist", "entry-added", "roles code=test-role"),
        ("schema", "enum-narrowed", "/properties/status"),
        ("schema", "property-added-optional", "/properties/nickname"),
        ("schema", "property-added-required", "/$defs/subscriptionRequest/properties/contact"),
        ("schema", "property-removed", "/$defs/pushReceipt/properties/receivedAt"),
    ]


def test_the_edits_are_classified(edited: tuple[Path, dict]) -> None:
    _, result = edited
    ch = _by_code(result)
    # a new required request field breaks the callers that send the request
    assert ch["property-added-required"]["breaking"] and ch["property-added-required"]["sides"] == ["callers"]
    # a removed response field breaks the callers that read it (and the providers: the receipt is closed)
    assert ch["property-removed"]["breaking"] and "callers" in ch["property-removed"]["sides"]
    # a narrowed enum breaks the senders: callers push equipment, providers return it
    assert ch["enum-narrowed"]["breaking"] and ch["enum-narrowed"]["sides"] == ["callers", "providers"]
    assert not ch["property-added-optional"]["breaking"] and not ch["entry-added"]["breaking"]
    assert result["breaking"] == 3
    assert exit_code(result) == EXIT_BREAKING


def test_the_edits_name_their_operations_clauses_and_tests(edited: tuple[Path, dict]) -> None:
    _, result = edited
    ch = _by_code(result)
    assert "sharing.yaml subscribeEquipment" in ch["property-added-required"]["operations"]
    assert "sharing.yaml pushEquipment" in ch["property-removed"]["operations"]
    assert "sharing.yaml queryEquipment" in ch["enum-narrowed"]["operations"]
    # the data sets' clauses (x-data-sets … x-clause) of the operations that use the schema
    assert "SHARE.MECH.CONTENT.1" in ch["enum-narrowed"]["clauses"]
    assert "SHARE.MECH.CONTENT.2" in ch["property-added-optional"]["clauses"]
    # a code list names the clauses that cite it
    assert ch["entry-added"]["clauses"] and all(c.startswith("DB42.") for c in ch["entry-added"]["clauses"])
    # deciding tests: collected clause marks and the catalogue's notes
    assert any(t.startswith("test_") and "::" in t for t in ch["enum-narrowed"]["tests"])


def test_the_command_on_folders(edited: tuple[Path, dict], capsys: pytest.CaptureFixture[str]) -> None:
    root, _ = edited
    assert main(["diff", str(contracts.SCHEMAS), str(root), "--no-tests", "--lang", "en"]) == EXIT_BREAKING
    out = capsys.readouterr().out
    assert "BREAKING" in out and "required property contact added" in out
    assert main(["diff", str(root), str(root / "schemas"), "--json", "--no-tests"]) == 0
    assert json.loads(capsys.readouterr().out)["changes"] == []


def test_head_against_itself_finds_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    try:
        tree = ContractTree.from_git("HEAD")
    except ValueError:
        pytest.skip("not a git checkout")
    assert compare(tree, tree, decided_by=None)["changes"] == []
    assert main(["diff", "HEAD", "HEAD", "--no-tests"]) == 0
    assert "没有变化" in capsys.readouterr().out


def test_usage_errors(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["diff", str(tmp_path / "absent"), "HEAD"]) == 2
    assert main(["diff", "HEAD", "HEAD", "--reports", str(tmp_path / "absent")]) == 2
    capsys.readouterr()


def _run(folder: Path, role: str, digests: dict[str, str] | None) -> Path:
    folder.mkdir(parents=True)
    run = {"target": {"role": role}, **({"contractDigests": digests} if digests is not None else {})}
    (folder / "report.json").write_text(json.dumps({"run": run}), encoding="utf-8")
    return folder


def test_runs_whose_contracts_changed_are_flagged(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tree = ContractTree.current()
    digests = tree.digests()
    _run(tmp_path / "runs" / "a-current", "sharing", digests)
    _run(tmp_path / "runs" / "b-stale", "sharing", {**digests, "openapi/sharing.yaml": "0" * 64})
    _run(tmp_path / "runs" / "c-other-role", "sharing", {**digests, "openapi/gov-platform.yaml": "0" * 64})
    _run(tmp_path / "runs" / "d-no-digests", "sharing", None)
    runs = {Path(r["folder"]).name: r for r in check_reports(tree, [tmp_path / "runs"])}
    assert runs["a-current"]["covers"] and runs["c-other-role"]["covers"]  # gov-platform.yaml: not a sharing file
    assert not runs["b-stale"]["covers"] and runs["b-stale"]["changed"] == ["openapi/sharing.yaml"]
    assert not runs["d-no-digests"]["covers"] and runs["d-no-digests"]["unknown"]
    # no contract change, but a stale run: exit 1
    code = run_diff(
        str(contracts.SCHEMAS), str(contracts.SCHEMAS), [tmp_path / "runs" / "b-stale"], True, decided_by=None
    )
    assert code == 1
    assert json.loads(capsys.readouterr().out)["runs"][0]["changed"] == ["openapi/sharing.yaml"]


def test_operation_changes_are_found_and_classified(tmp_path: Path) -> None:
    import yaml

    shutil.copytree(contracts.SCHEMAS, tmp_path / "schemas")
    doc = tmp_path / "schemas" / "openapi" / "sharing.yaml"
    spec = yaml.safe_load(doc.read_text(encoding="utf-8"))
    ops = {op["operationId"]: op for item in spec["paths"].values() for op in item.values() if isinstance(op, dict)}
    query, push, get = ops["queryEquipment"], ops["pushEquipment"], ops["getEquipment"]
    query["parameters"].append({"name": "region", "in": "query", "required": True, "schema": {"type": "string"}})
    del push["responses"]["409"]
    get["security"] = [{"bearerAuth": ["sharing:equipment:admin"]}]
    spec["paths"]["/api/v1/test-only"] = {
        "get": {"operationId": "testOnly", "responses": {"204": {"description": "无内容"}}, "security": []}
    }
    doc.write_text(yaml.safe_dump(spec, allow_unicode=True, sort_keys=False), encoding="utf-8")
    result = compare(ContractTree.current(), ContractTree.from_folder(tmp_path), decided_by=None)
    found = {(ch["subject"], ch["code"]): ch for ch in result["changes"]}
    assert sorted(found) == [
        ("sharing.yaml getEquipment", "security-changed"),
        ("sharing.yaml pushEquipment", "status-removed"),
        ("sharing.yaml queryEquipment", "parameter-added-required"),
        ("sharing.yaml testOnly", "operation-added"),
    ]
    assert found[("sharing.yaml queryEquipment", "parameter-added-required")]["sides"] == ["callers"]
    assert found[("sharing.yaml pushEquipment", "status-removed")]["sides"] == ["providers"]
    assert found[("sharing.yaml getEquipment", "security-changed")]["sides"] == ["callers", "providers"]
    assert found[("sharing.yaml testOnly", "operation-added")]["sides"] == ["providers"]
    assert all(ch["breaking"] for ch in result["changes"])
    assert "SHARE.MECH.CONTENT.1" in found[("sharing.yaml queryEquipment", "parameter-added-required")]["clauses"]
