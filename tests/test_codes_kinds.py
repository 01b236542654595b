"""Citizen ID, e-licence identifier, registration number, equipment code, division, catalogue code."""

from __future__ import annotations

import datetime as dt

import pytest

from conformance.codes import check, citizen_check_char, mod37_36_check
from conformance.contract.documents import codelist

# ------------------------------------------------------------------ citizen ID (GB 11643-1999)


def test_citizen_id_examples_of_the_standard() -> None:
    assert check("citizen-id", "11010519491231002X").ok
    # the standard's other example: born 1880 in 潮阳县 (440524, abolished since): valid, two warnings
    old = check("citizen-id", "440524188001010014")
    assert old.ok and [p.part for p in old.warnings][:1] == ["birth date"]
    assert "address code" in [p.part for p in old.problems]  # a warning, or a note of its era (division history)


def test_citizen_id_problems() -> None:
    lower = check("citizen-id", "11010519491231002x", strict=False)
    assert not lower.ok and "小写 x 应写作大写 X" in lower.message()
    wrong = check("citizen-id", "110105194912310021")
    assert wrong.message() == "公民身份号码无效：校验码错误：第18位应为 X，实为 1（GB 11643 MOD 11-2）"
    first17 = "11010519490230002"  # 30 February
    bad_date = check("citizen-id", first17 + citizen_check_char(first17))
    assert [p.part for p in bad_date.errors] == ["birth date"]
    assert "不是有效日期" in bad_date.message() and "not a valid date" in bad_date.message("en")
    future = f"110105{dt.date.today().year + 1}0101002"
    assert "在今天之后" in check("citizen-id", future + citizen_check_char(future)).message()
    assert "15位旧号码" in check("citizen-id", "110105491231002").message()
    unknown = "99010519491231002"  # no province 99: refused by no reading of data ("held" only warns)
    assert check("citizen-id", unknown + citizen_check_char(unknown), mode="held").warnings[0].part == "address code"
    assert not check("citizen-id", "00010519491231002" + citizen_check_char("00010519491231002")).ok
    withdrawn = "42999919491231002"  # well-formed, not in the table: address codes stay for life → "held" warns
    result = check("citizen-id", withdrawn + citizen_check_char(withdrawn), mode="held")
    assert result.ok and [p.part for p in result.warnings] == ["address code"]


# ------------------------------------------------------------------ e-licence identifier

PUBLISHED = [
    # a ministry interface specification's format example
    "1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.001.U",
    # file name of a licence served by a provincial government-service platform
    "1.2.156.3005.2.11100000000013338W009.11330105002500287C.2025052201.002.0",
]
HEFEI_TEST_DATA = "1.2.156.3005.2.11100000MB03271699022.340100.000000016.001.9"


@pytest.mark.parametrize("value", PUBLISHED)
def test_published_identifiers_verify(value: str) -> None:
    result = check("elicense-id", value)
    assert result.ok and not result.warnings, result.problems
    assert [p.name_en for p in result.parts] == [
        "root OID",
        "licence type code",
        "issuer code",
        "licence number",
        "version",
        "check character",
    ]


def test_check_scope_excludes_the_root_oid() -> None:
    """The published identifiers verify over type+issuer+number+version only, not with the root."""
    for value in [*PUBLISHED, HEFEI_TEST_DATA]:
        body, check_char = value.rsplit(".", 1)
        without_root = body[len("1.2.156.3005.2.") :].replace(".", "")
        assert mod37_36_check(without_root) == check_char
        assert mod37_36_check(body.replace(".", "")) != check_char


def test_issuer_must_be_a_uscc_in_strict_mode() -> None:
    strict = check("elicense-id", HEFEI_TEST_DATA)
    assert not strict.ok and strict.errors[0].part == "issuer code"
    assert "GB/T 36904" in strict.message()
    lenient = check("elicense-id", HEFEI_TEST_DATA, strict=False)
    assert lenient.ok and lenient.warnings[0].part == "issuer code"


def test_root_included_variant_is_named() -> None:
    body = PUBLISHED[0].rsplit(".", 1)[0]
    variant = mod37_36_check(body.replace(".", ""))
    value = f"{body}.{variant}"
    strict = check("elicense-id", value)
    assert not strict.ok and "根代码也计入校验" in strict.message()
    assert check("elicense-id", value, strict=False).ok


def test_elicense_problems() -> None:
    value = PUBLISHED[0]
    assert "1.2.156.3003.2" in check("elicense-id", value.replace("3005", "3003")).message()
    wrong = value[:-1] + "V"
    assert (
        check("elicense-id", wrong)
        .message()
        .endswith(
            "校验位错误：第73位应为 U，实为 V（ISO/IEC 7064 MOD 37,36，按类型代码+颁发机构代码+流水号+版本号计算）"
        )
    )
    lower = value.replace(".20230000403.", ".2023000040a.")
    assert "小写" in check("elicense-id", lower, strict=False).message()
    assert "5段" in check("elicense-id", "1.2.156.3005.2.11100000000013338W011.001.U").message()


# ------------------------------------------------------------------ registration number (TSG 08-2017)


@pytest.mark.parametrize("value", ["梯11浙AJ5023(19)", "起17辽JG0033(24)", "梯11鄂A00001(24)", "容21沪B12345(20)"])
def test_registration_numbers_strictly_valid(value: str) -> None:
    result = check("registration-no", value)
    assert result.ok and not result.warnings, result.problems


def test_fujian_sample_is_held_not_issued() -> None:
    value = "梯11闽E3622(16)"  # a 2016 number of the 4-digit-serial form (sources: docs/identifiers.md)
    issued = check("registration-no", value, mode="issued")
    assert not issued.ok and [p.part for p in issued.errors] == ["serial"]
    assert "流水号「3622」为4位" in issued.message() and "TSG 08-2017 施行前" in issued.message()
    held = check("registration-no", value, mode="held")
    assert held.ok and not held.warnings and held.forms == ("serial-4",)
    assert [p.value for p in held.parts] == ["梯", "11", "闽", "E", "3622", "(16)"]


@pytest.mark.parametrize(
    ("value", "part", "form"),
    [
        ("梯11宁A00123（19）", "year", "printed-brackets"),  # as printed on certificates
        ("梯11粤EM0866", "year", "no-year"),
        ("梯11黔A00001(24)", "province abbreviation", "alt-province"),
        ("梯11闽E3622(16)", "serial", "serial-4"),
    ],
)
def test_registration_older_forms_are_held_with_a_note(value: str, part: str, form: str) -> None:
    issued = check("registration-no", value, mode="issued")
    assert not issued.ok and issued.errors[0].part == part and issued.forms == (form,)
    held = check("registration-no", value, mode="held")
    assert held.ok and not held.warnings and held.forms == (form,)
    assert [p.part for p in held.notes] == ["form"] and held.note()


def test_registration_older_features_combine_and_are_each_named() -> None:
    held = check("registration-no", "梯11闽E3622", mode="held")
    assert held.ok and held.forms == ("serial-4", "no-year") and len(held.notes) == 2
    assert len(check("registration-no", "梯11闽E3622", mode="issued").errors) == 2


def test_mixed_brackets_are_a_slip_not_a_form() -> None:
    value = "梯11鄂A00001(24）"
    assert not check("registration-no", value, mode="issued").ok
    held = check("registration-no", value, mode="held")
    assert held.ok and held.warnings[0].part == "year" and not held.notes and "录入差错" in held.message()


@pytest.mark.parametrize(
    ("value", "part", "phrase"),
    [
        ("梯19鄂A00001(24)", "variety digits", "品种代号「19」与设备代号「梯」不符"),
        ("梯21鄂A00001(24)", None, None),  # 3210 液压乘客电梯: valid
        ("阀11鄂A00001(24)", "equipment character", "不是已知的设备代号"),
        ("梯11中A00001(24)", "province abbreviation", "不是任何省级行政区的简称"),
        ("梯11鄂a00001(24)", "prefecture letter", "大写字母"),
        ("梯11鄂A000001(24)", "serial", "应为5位数字"),
        ("梯11鄂A00001(2024)", "year", "2位数字"),
        ("梯11鄂A０0001(24)", "value", "全角"),
    ],
)
def test_registration_problems(value: str, part: str | None, phrase: str | None) -> None:
    result = check("registration-no", value, mode="held")  # refused even when every real form counts
    if part is None:
        assert result.ok and not result.warnings
        return
    assert not result.ok and result.errors[0].part == part
    assert phrase in result.message()


def test_doubtful_characters_warn() -> None:
    result = check("registration-no", "管11鄂A00001(24)")  # 8110 输油管道
    assert result.ok and result.warnings[0].part == "equipment character"


# ------------------------------------------------------------------ equipment code (TSG 08-2017)


def test_equipment_codes() -> None:
    assert check("equipment-code", "311010123201500098").ok
    assert check("equipment-code", "4D0033001202112345").ok  # class without varieties
    assert check("equipment-code", "21501089020150A001").ok  # serial past 99999 uses a letter
    class_level = "310010123201500098"
    assert not check("equipment-code", class_level).ok
    held = check("equipment-code", class_level, mode="held")  # a deviation seen in data, not a form: warning
    assert held.ok and "应为品种代码" in held.warnings[0].zh and not held.notes
    assert "审批机关区域" in check("equipment-code", "311099123201500098").message()
    assert "超出范围" in check("equipment-code", "311010123194900098").message()
    assert "不在《特种设备目录》" in check("equipment-code", "399910123201500098").message()
    doubtful = check("equipment-code", "721010123201500098")
    assert doubtful.ok and doubtful.warnings[0].part == "catalogue variety"


def test_legacy_registration_code_is_held_not_issued() -> None:
    legacy = "31103506002016053337"  # 20-character 注册代码 of a Fujian elevator (2016-05)
    issued = check("equipment-code", legacy, mode="issued")
    assert not issued.ok and "20位" in issued.message() and "18-character" in issued.message("en")
    held = check("equipment-code", legacy, mode="held")
    assert held.ok and not held.warnings and held.notes
    assert [p.value for p in held.parts] == ["3110", "350600", "201605", "3337"]
    # both layouts read validly (May 2016 + 3337, or 2016 + 053337): both named
    assert held.forms == ("reg-code-yyyymm", "reg-code-year") and "两种形式" in held.message()


def test_legacy_code_with_a_six_digit_sequence_is_read_by_its_form() -> None:
    """Positions 15-16 of ``31104403002009001047`` are not a month: the year + 6-digit-sequence form reads it."""
    value = "31104403002009001047"  # sources: docs/identifiers.md
    held = check("equipment-code", value, mode="held")
    assert held.ok and not held.warnings and held.forms == ("reg-code-year",)
    assert [(p.name_en, p.value) for p in held.parts] == [
        ("catalogue code", "3110"),
        ("division", "440300"),
        ("registration year", "2009"),
        ("sequence", "001047"),
    ]
    assert not check("equipment-code", value, mode="issued").ok


def test_legacy_code_that_reads_in_no_form_names_each_reading() -> None:
    bad = check("equipment-code", "31103506002016A33337", mode="held")  # month 'A3'? sequence with a letter?
    assert not bad.ok and bad.forms == ()
    assert any(p.zh.startswith("按20位设备注册代码（类别4+行政区划6+注册年月6") for p in bad.errors)
    assert any(p.zh.startswith("按20位设备注册代码（类别4+行政区划6+注册年份4") for p in bad.errors)
    assert not check("equipment-code", "31103506002030053337", mode="held").ok  # registered in 2030


# ------------------------------------------------------------------ division, catalogue code


def test_divisions() -> None:
    for code in ("420000", "420100", "420102", "110101", "429004"):
        assert check("division", code).ok, code
    assert [p.value for p in check("division", "420102").parts] == ["42", "01", "02"]
    absent = check("division", "420199")
    assert not absent.ok and "不在 GB/T 2260 代码表" in absent.message()
    assert check("division", "420199", strict=False).ok
    assert "省级部分不能为 00" in check("division", "001234", strict=False).message()
    assert "结构错误" in check("division", "420012", strict=False).message()
    doubtful = next(it for it in codelist("divisions")["items"] if it.get("doubtful"))
    result = check("division", doubtful["code"])
    assert result.ok and "存疑" in result.warnings[0].zh


def test_catalogue_codes() -> None:
    for code in ("3000", "3100", "3110", "4D00", "23T0", "F000"):
        assert check("catalogue-code", code).ok, code
    doubtful = next(it["code"] for it in codelist("equipment-catalogue")["items"] if it.get("doubtful"))
    result = check("catalogue-code", doubtful)
    assert result.ok and result.warnings
    assert not check("catalogue-code", "3111").ok
    assert not check("catalogue-code", "4d00", strict=False).ok
