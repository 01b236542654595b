"""``tzsb-conform binding check FILE``: print what the check of a binding found; exit 0 when it is usable, 1 when
not (:mod:`conformance.binding.check`)."""

from __future__ import annotations

from pathlib import Path

from conformance.binding.check import check


def run_check(path: Path, lang: str) -> int:
    binding, problems, counts = check(str(path))
    en = lang == "en"
    for p in problems:
        print(f"✗ {p.where}: {p.en if en else p.zh}")
    if binding is None:
        return 1
    roles = ", ".join(f"{role} {n}" for role, n in counts.items() if role != "fixtures")
    name = binding.name_en if en else binding.name
    if problems:
        print(f"{name}: {len(problems)} problem(s)" if en else f"{name}：发现 {len(problems)} 个问题，绑定不可用")
        return 1
    fixtures = counts.get("fixtures", 0)
    print(
        f"{name}: usable; operations paired ({roles}); {fixtures} fixtures round-trip unchanged"
        if en
        else f"{name}：可用；操作已配对（{roles}）；{fixtures} 个样例往返不变"
    )
    return 0
