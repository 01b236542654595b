"""Deterministic, realistic records for the six theme data sets.

Every identifier comes from the identifier library's generators, so every record is
valid against ``schemas/json``. Used by the benchmarks and the reference server's demo
data; the same seed always gives the same records (no clock is read).
"""

from __future__ import annotations

import datetime as dt
import functools
import random
from collections.abc import Iterator
from typing import Any

from conformance.clock import CHINA
from conformance.codes import KINDS
from conformance.codes import lists as code_lists

#: Provinces the demo data spreads over (湖北 first: DB42/T 2279-2024 is a Hubei standard).
PROVINCES = ("42", "37", "35", "33", "44", "51")
#: Equipment mix by catalogue kind, roughly the national 2023 counts (seed 000).
KIND_WEIGHTS = (("3000", 50), ("2000", 25), ("4000", 14), ("5000", 10), ("1000", 1.5), ("6000", 0.2), ("9000", 0.05))
BASE_TIME = dt.datetime(2025, 6, 30, 9, 0, tzinfo=CHINA)

_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
_GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国志强文斌海燕晓东红梅俊峰丹宇浩然思远欣怡子涵梓萱"
_TRADES = (
    "物业服务",
    "房地产开发",
    "机械制造",
    "化工",
    "热力",
    "燃气",
    "物流",
    "港口",
    "商业管理",
    "医院",
    "酒店管理",
    "钢铁",
    "食品",
    "纺织",
)
_FORMS = ("有限公司", "有限责任公司", "股份有限公司")
_BRANDS = (
    "长江",
    "楚天",
    "汉江",
    "东湖",
    "荆楚",
    "泰山",
    "闽江",
    "钱塘",
    "珠江",
    "锦江",
    "华中",
    "江城",
    "光谷",
    "黄鹤",
)
_STREETS = ("解放大道", "中山路", "建设路", "人民路", "友谊路", "和平大道", "光谷大道", "发展大道", "东风路", "胜利街")


@functools.cache
def _varieties_by_kind() -> dict[str, tuple[str, ...]]:
    cat = code_lists.catalogue()
    out: dict[str, list[str]] = {}
    for code in sorted(code_lists.catalogue_specific()):
        if cat[code].get("doubtful") or code[0] in "78F":
            continue
        out.setdefault(code[0] + "000", []).append(code)
    return {k: tuple(v) for k, v in out.items()}


def _end_of(day: dt.date) -> dt.datetime:
    """The evening of ``day`` (Beijing time), not after BASE_TIME: an update on the day of an event."""
    return min(dt.datetime.combine(day, dt.time(18, 0), CHINA), BASE_TIME)


def _iso(t: dt.datetime) -> str:
    return t.isoformat(timespec="seconds")


class DataGen:
    """Records drawn from one seeded random stream."""

    def __init__(self, seed: int = 0) -> None:
        self.rng = random.Random(seed)
        self._units: list[dict[str, Any]] = []

    # ---------------------------------------------------------------- small parts
    def person(self) -> str:
        r = self.rng
        return r.choice(_SURNAMES) + "".join(r.choice(_GIVEN) for _ in range(r.choice((1, 2))))

    def mobile(self) -> str:
        r = self.rng
        return f"1{r.choice('3456789')}{r.randrange(10**9):09d}"

    def county(self, province: str | None = None) -> str:
        province = province or self.rng.choice(PROVINCES)
        return self.rng.choice(code_lists.division_pool("county", province))

    def division_name(self, code: str) -> str:
        div = code_lists.divisions()
        names = []
        for c in (code[:2] + "0000", code[:4] + "00", code):
            if c in div and div[c]["name"] not in names:
                names.append(div[c]["name"])
        return "".join(names)

    def address(self, division: str) -> str:
        r = self.rng
        return f"{self.division_name(division)}{r.choice(_STREETS)}{r.randint(1, 999)}号"

    def when(self, days_back: int = 3650) -> dt.datetime:
        return BASE_TIME - dt.timedelta(seconds=self.rng.randrange(days_back * 86400))

    def uscc(self, division: str) -> str:
        return KINDS["uscc"].generate(self.rng, division=division, pair="91")

    # ---------------------------------------------------------------- records
    def unit(self, unit_type: str = "use", province: str | None = None) -> dict[str, Any]:
        r = self.rng
        division = self.county(province)
        city = code_lists.divisions().get(division[:4] + "00", {}).get("name", "")
        if unit_type == "inspection":
            name = f"{city}{r.choice(('特种设备检验检测研究院', '特种设备监督检验所', '锅炉压力容器检验研究院'))}"
        else:
            name = f"{city}{r.choice(_BRANDS)}{r.choice(_TRADES)}{r.choice(_FORMS)}"
        rec = {
            "uscc": self.uscc(division),
            "name": name,
            "unitType": unit_type,
            "division": division,
            "address": self.address(division),
            "legalRepresentative": self.person(),
            "contactPerson": self.person(),
            "contactPhone": self.mobile(),
            "safetyManager": self.person(),
            "equipmentCount": r.randint(1, 400),
            "status": "active",
            "registeredAt": _iso(registered := self.when(7300)),
            "updatedAt": _iso(max(self.when(365), registered)),  # never before its own registration
        }
        self._units.append(rec)
        return rec

    def _some_unit(self, unit_type: str = "use", province: str | None = None) -> dict[str, Any]:
        pool = [
            u
            for u in self._units[-200:]
            if u["unitType"] == unit_type and (province is None or u["division"][:2] == province)
        ]
        if pool and self.rng.random() < 0.8:
            return self.rng.choice(pool)
        return self.unit(unit_type, province)

    def equipment(self, province: str | None = None) -> dict[str, Any]:
        r = self.rng
        kinds, weights = zip(*KIND_WEIGHTS, strict=True)
        kind = r.choices(kinds, weights)[0]
        variety = r.choice(_varieties_by_kind()[kind])
        province = province or r.choice(PROVINCES)
        owner = self._some_unit("use", province)
        maker = self._some_unit("manufacture")
        made = self.when(7300).date()
        year = made.year
        last = self.when(365).date()
        # the dates in the order they happen: made, installed, registered (not after BASE_TIME), inspected (not
        # before registration), updated (not before any of them); the draws stay as they were
        registered = min(made + dt.timedelta(days=r.randint(60, 500)), BASE_TIME.date())
        last = max(last, registered)
        rec: dict[str, Any] = {
            "equipmentCode": KINDS["equipment-code"].generate(
                r, catalogue=variety, division=maker["division"], year=year
            ),
            "catalogueCode": variety,
            "equipmentName": code_lists.catalogue()[variety]["name"],
            "model": f"{r.choice('ABCDHKSTW')}{r.choice('ABCDKLMPX')}-{r.randint(100, 9999)}",
            "factoryNo": f"{year}{r.randint(1, 99999):05d}",
            "manufacturerUscc": maker["uscc"],
            "manufacturerName": maker["name"],
            "manufactureDate": made.isoformat(),
            "installDate": min(made + dt.timedelta(days=r.randint(30, 400)), registered).isoformat(),
            "useUnitUscc": owner["uscc"],
            "useUnitName": owner["name"],
            "propertyUnitName": owner["name"],
            "division": owner["division"],
            "address": self.address(owner["division"]),
            "internalNo": f"{r.choice('ABCDEFG')}-{r.randint(1, 999):03d}",
            "registrationNo": KINDS["registration-no"].generate(
                r, catalogue=variety, province=province, year=registered.year
            ),
            "registrationAuthority": f"{self.division_name(owner['division'][:4] + '00')}市场监督管理局",
            "registrationDate": registered.isoformat(),
            "status": r.choices(("in-use", "suspended", "scrapped"), (92, 6, 2))[0],
            "designLifeYears": r.choice((15, 20, 25, 30)),
            "lastInspectionDate": last.isoformat(),
            "nextInspectionDate": (last + dt.timedelta(days=365)).isoformat(),
            "inspectionConclusion": r.choices(("合格", "基本符合要求", "复检合格", "不合格"), (85, 8, 5, 2))[0],
            "maintenanceUnitName": maker["name"],
            "maintenanceUnitUscc": maker["uscc"],
            "safetyManager": self.person(),
            "emergencyPhone": self.mobile(),
            "longitude": round(r.uniform(108.3, 122.0), 6),
            "latitude": round(r.uniform(21.5, 37.5), 6),
            "parameters": self._parameters(kind),
            "updatedAt": _iso(max(self.when(180), _end_of(last))),
        }
        return rec

    def _parameters(self, kind: str) -> dict[str, Any]:
        r = self.rng
        if kind == "3000":
            return {
                "额定载重量(kg)": r.choice((630, 800, 1000, 1350, 1600)),
                "额定速度(m/s)": r.choice((1.0, 1.5, 1.75, 2.5)),
                "层站数": r.randint(2, 40),
            }
        if kind == "2000":
            return {
                "设计压力(MPa)": round(r.uniform(0.1, 30), 2),
                "容积(m3)": round(r.uniform(0.05, 200), 2),
                "介质": r.choice(("空气", "液化石油气", "氮气", "蒸汽")),
            }
        if kind == "4000":
            return {"额定起重量(t)": r.choice((1, 3, 5, 10, 16, 20, 32, 50)), "跨度(m)": round(r.uniform(5, 40), 1)}
        if kind == "1000":
            return {
                "额定蒸发量(t/h)": r.choice((1, 2, 4, 6, 10, 20)),
                "额定工作压力(MPa)": round(r.uniform(0.4, 9.8), 2),
            }
        return {"额定载荷": r.randint(500, 5000)}

    def personnel(self, province: str | None = None) -> dict[str, Any]:
        r = self.rng
        employer = self._some_unit("use", province)
        issued = self.when(3000).date()
        return {
            "personId": KINDS["citizen-id"].generate(
                r,
                division=employer["division"],
                birth=f"{r.randint(1965, 2002)}{r.randint(1, 12):02d}{r.randint(1, 28):02d}",
            ),
            "name": self.person(),
            "gender": r.choice(("男", "女")),
            "certificateNo": f"TS{employer['division'][:4]}{r.randrange(10**8):08d}",
            "workItems": sorted(r.sample(("A", "T", "Q1", "Q2", "N1", "N2", "G1", "G2", "R1", "P"), r.randint(1, 2))),
            "issuingAuthority": f"{self.division_name(employer['division'][:4] + '00')}市场监督管理局",
            "issueDate": issued.isoformat(),
            "expiryDate": (issued + dt.timedelta(days=4 * 365)).isoformat(),
            "employerUscc": employer["uscc"],
            "employerName": employer["name"],
            "phone": self.mobile(),
            "status": "valid" if (issued + dt.timedelta(days=4 * 365)) > BASE_TIME.date() else "expired",
            "updatedAt": _iso(max(self.when(365), _end_of(issued))),
        }

    def inspection_report(self, equipment: dict[str, Any], org: dict[str, Any] | None = None) -> dict[str, Any]:
        r = self.rng
        org = org or self._some_unit("inspection", equipment["division"][:2])
        date = dt.date.fromisoformat(equipment["lastInspectionDate"])
        issued = _iso(dt.datetime.combine(date, dt.time(16, 0), BASE_TIME.tzinfo) + dt.timedelta(days=r.randint(1, 10)))
        return {
            "reportNo": f"{equipment['catalogueCode'][0]}{equipment['division'][:4]}-{date.year}-{r.randrange(10**6):06d}",
            "equipmentCode": equipment["equipmentCode"],
            "registrationNo": equipment["registrationNo"],
            "catalogueCode": equipment["catalogueCode"],
            "useUnitUscc": equipment["useUnitUscc"],
            "useUnitName": equipment["useUnitName"],
            "inspectionType": r.choice(("定期检验", "定期检验", "监督检验")),
            "inspectionOrgUscc": org["uscc"],
            "inspectionOrgName": org["name"],
            "inspectionDate": date.isoformat(),
            "conclusion": equipment["inspectionConclusion"],
            "nextInspectionDate": equipment["nextInspectionDate"],
            "inspectors": [self.person(), self.person()],
            "issuedAt": issued,
            "version": 1,
            "items": [{"name": "安全保护装置", "result": "符合"}, {"name": "运行试验", "result": "符合"}],
            "updatedAt": issued,
        }

    def accident(self, equipment: dict[str, Any]) -> dict[str, Any]:
        r = self.rng
        at = self.when(1800)
        deaths = r.choices((0, 1, 2), (80, 17, 3))[0]
        return {
            "accidentId": f"SG{equipment['division'][:4]}{at.year}{r.randrange(10**5):05d}",
            "occurredAt": _iso(at),
            "division": equipment["division"],
            "address": equipment["address"],
            "equipmentCode": equipment["equipmentCode"],
            "catalogueCode": equipment["catalogueCode"],
            "useUnitUscc": equipment["useUnitUscc"],
            "useUnitName": equipment["useUnitName"],
            "level": "一般事故" if deaths < 3 else "较大事故",
            "deaths": deaths,
            "injuries": r.randint(0, 3),
            "directLoss": round(r.uniform(1, 300), 1),
            "cause": r.choice(("违规作业", "安全保护装置失效", "维护保养不到位", "超载使用")),
            "description": "设备运行中发生故障，详见事故调查报告。",
            "reportedAt": _iso(at + dt.timedelta(hours=r.randint(1, 24))),
            "status": r.choice(("investigating", "closed")),
            "updatedAt": _iso(at + dt.timedelta(days=r.randint(1, 60))),
        }

    def use_registration(self, equipment: dict[str, Any], authority: dict[str, Any]) -> dict[str, Any]:
        r = self.rng
        group = next(
            g["code"]
            for g in code_lists.licence_groups().values()
            if equipment["catalogueCode"][0] + "000" in g["catalogue"]
            or equipment["catalogueCode"][:2] + "00" in g["catalogue"]
        )
        return {
            "registrationNo": equipment["registrationNo"],
            "equipmentCode": equipment["equipmentCode"],
            "catalogueCode": equipment["catalogueCode"],
            "itemCode": f"01100000-{group}-01",
            "caseNo": f"{equipment['division']}{equipment['registrationDate'].replace('-', '')}{r.randrange(10**6):06d}",
            "useUnitUscc": equipment["useUnitUscc"],
            "useUnitName": equipment["useUnitName"],
            "useAddress": equipment["address"],
            "authority": authority,
            "registeredAt": _iso(
                dt.datetime.combine(
                    dt.date.fromisoformat(equipment["registrationDate"]), dt.time(10, 0), BASE_TIME.tzinfo
                )
            ),
            "status": "registered",
            "updatedAt": equipment["updatedAt"],
        }

    def equipment_stream(self, count: int, province: str | None = None) -> Iterator[dict[str, Any]]:
        for _ in range(count):
            yield self.equipment(province)
