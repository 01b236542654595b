"""The code lists: Table 1 by count and by name, catalogue and division tables consistent,
workflow steps and roles as in §6–7 and Annex A."""

from __future__ import annotations

import re

from conformance.contract import documents as contracts
from conformance.selfcheck.contract import check_licence_items
from tests import seeds

SEED = "004_4f71cde7988d8b47.txt"  # DB42/T 2279-2024, read from $TZSB_SEEDS_DIR only (tests/seeds.py)
TABLE1_COUNTS = {
    "锅炉": 12,
    "压力容器": 13,
    "电梯": 12,
    "起重机械": 12,
    "场（厂）内机动车": 12,
    "大型游乐设施": 12,
    "压力管道": 9,
    "气瓶": 10,
    "车用气瓶": 10,
    "客运索道": 12,
}


def test_every_code_list_names_its_source_and_date() -> None:
    for path in sorted(contracts.CODELISTS_DIR.glob("*.json")):
        data = contracts.load_data(path)
        for key in ("name", "title", "source", "date", "items"):
            assert data.get(key), f"{path.name}: {key}"
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", data["date"]), path.name


def test_licence_items_count_per_group() -> None:
    assert check_licence_items() == []
    data = contracts.codelist("licence-items")
    groups = {g["code"]: g for g in data["groups"]}
    got = {groups[code]["equipment"]: sum(1 for i in data["items"] if i["group"] == code) for code in groups}
    assert got == TABLE1_COUNTS


def test_licence_item_names_are_verbatim_from_table_1() -> None:
    text = seeds.seed_file(SEED).read_text(encoding="utf-8")
    table = text[text.index("表1 许可事项清单列表") : text.index("许可程序可分为")]
    items = contracts.codelist("licence-items")["items"]
    for item in items:
        assert item["name"] in table, item
    assert [i["seq"] for i in items] == list(range(1, 115))


def test_items_that_do_not_exist_are_absent() -> None:
    names = {i["name"] for i in contracts.codelist("licence-items")["items"]}
    for bad in (
        "压力管道使用登记迁出（跨区域注销）",
        "压力管道使用登记改造变更",
        "气瓶使用登记同区域内移装（在登记机关区域内移装）",
        "电梯使用登记达到设计使用年限继续使用的变更",
    ):
        assert bad not in names


def test_catalogue_parents_exist_and_levels_nest() -> None:
    items = {i["code"]: i for i in contracts.codelist("equipment-catalogue")["items"]}
    order = {"kind": 0, "class": 1, "variety": 2}
    for code, it in items.items():
        if it["parent"] is None:
            assert it["level"] == "kind", code
            continue
        parent = items[it["parent"]]
        assert order[parent["level"]] < order[it["level"]], code
        # F000 安全附件 lists its varieties directly under the kind (no class level) in the 2014 catalogue
        assert it.get("doubtful") or parent["code"] == "F000" or order[parent["level"]] == order[it["level"]] - 1, code
    assert items["3110"]["name"] == "曳引驱动乘客电梯"


def test_divisions_are_a_tree() -> None:
    items = {i["code"]: i for i in contracts.codelist("divisions")["items"]}
    assert items["420000"]["name"] == "湖北省"
    assert items["420100"]["name"] == "武汉市"
    for code, it in items.items():
        assert re.fullmatch(r"\d{6}", code)
        if it["parent"]:
            assert it["parent"] in items, code
    levels = [i["level"] for i in items.values()]
    assert levels.count("province") == 34
    assert levels.count("county") > 2500


def test_workflow_has_nine_steps_in_order_with_known_roles() -> None:
    wf = contracts.codelist("workflow")
    names = [s["name"] for s in sorted(wf["steps"], key=lambda s: s["order"])]
    assert names == ["申请", "受理", "审查", "决定", "制证", "发证", "办结", "预归档", "归档"]
    roles = {r["code"] for r in contracts.codelist("roles")["items"]}
    assert roles == {"formal-review", "accept", "review", "decide", "certify", "archive"}
    steps = {s["code"] for s in wf["steps"]}
    for s in wf["steps"]:
        assert set(s["roles"]) <= roles
    for o in wf["outcomes"]:
        assert o["step"] in steps and (o["next"] is None or o["next"] in steps), o
    accept = {o["name"] for o in wf["outcomes"] if o["step"] == "accept"}
    assert {"正式受理", "补齐补正", "不予受理"} <= accept
    decide = {o["name"] for o in wf["outcomes"] if o["step"] == "decide"}
    assert {"准予许可", "不予许可"} <= decide


def test_workflow_step_codes_match_the_json_schema_enum() -> None:
    enum = contracts.json_schema("identifiers")["$defs"]["stepCode"]["enum"]
    assert [s["code"] for s in sorted(contracts.codelist("workflow")["steps"], key=lambda s: s["order"])] == enum
    roles = contracts.json_schema("identifiers")["$defs"]["roleCode"]["enum"]
    assert sorted(roles) == sorted(r["code"] for r in contracts.codelist("roles")["items"])


def test_licence_categories_table_3() -> None:
    data = contracts.codelist("licence-categories")
    assert {i["code"]: i["name"] for i in data["items"]} == {
        "01": "普通许可",
        "02": "特许",
        "03": "认可",
        "04": "核准",
        "05": "登记",
    }
    assert data["useRegistration"]["category"] == "05"
    assert data["useRegistration"]["itemCode"] == "01100000"


def test_each_operation_leaves_statuses_the_schemas_know() -> None:
    """licence-items.json operations (PROFILE.DB42.10.4.T7-2): the statuses are values of the schemas' enums; a first
    registration, a new using unit and a move into the region get a new number, every other operation keeps it."""
    enum = {
        "registrationStatus": contracts.json_schema("use-registration")["properties"]["status"]["enum"],
        "equipmentStatus": contracts.json_schema("equipment")["properties"]["status"]["enum"],
        "licenceStatus": contracts.json_schema("licence-certificate")["properties"]["status"]["enum"],
    }
    ops = contracts.codelist("licence-items")["operations"]
    for op in ops:
        for key, values in enum.items():
            assert op[key] in values, (op["code"], key)
    assert {o["code"] for o in ops if not o["keepsRegistrationNo"]} == {"01", "03", "05"}
    assert {o["code"]: o["registrationStatus"] for o in ops if o["registrationStatus"] != "registered"} == {
        "02": "cancelled",
        "04": "cancelled",
        "06": "changed",
        "07": "changed",
        "08": "changed",
        "09": "changed",
        "10": "suspended",
        "12": "scrapped",
    }


def test_inspection_data_fields_point_into_the_report_and_the_application() -> None:
    """workflow.json inspectionData: each field is a property of the inspection report and of the application."""
    from conformance.contract.openapi import pointer_get

    data = contracts.codelist("workflow")["inspectionData"]
    report = contracts.json_schema("inspection-report")["properties"]
    app = contracts.json_schema("application")
    for f in data["fields"]:
        assert f["report"].lstrip("/") in report, f
        parent, _, name = f["application"].rpartition("/")
        where = "".join(f"/properties/{part}" for part in parent.strip("/").split("/"))
        assert name in pointer_get(app, f"{where}/properties"), f
    roles = {r["code"] for r in contracts.codelist("roles")["items"]}
    assert set(data["objection"]["roles"]) <= roles
    assert set(data["objection"]["allowedIn"]) <= {s["code"] for s in contracts.codelist("workflow")["steps"]}
