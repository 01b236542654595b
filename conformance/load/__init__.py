"""Performance conformance (``tzsb-conform load``): Locust load against a target, judged per
performance clause (SHARE.IF.PERF.*, PROFILE.PERF.*) with evidence. See ``docs/performance.md``.

Modules: :mod:`.profiles` (performance profiles), :mod:`.settings` (the target file's ``[load]``),
:mod:`.guard` (the host list), :mod:`.discovery` (preflight), :mod:`.engine` (Locust processes),
:mod:`.runtime` (inside the Locust processes only: users, recorder, timeline), :mod:`.histogram`,
:mod:`.analysis` (checks and verdicts), :mod:`.chart` (SVG), :mod:`.output` (evidence files and the
HTML page), :mod:`.cli`.
"""
