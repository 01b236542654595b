"""What a defect declaration says (:class:`Defect`) and the run that must catch it (:class:`Run`), and the registry
the declarations of ``declared.py`` fill through :func:`declare`."""

from __future__ import annotations

from dataclasses import dataclass

#: ``Defect.role`` of a defect every role's server carries (a step of the pipeline around every handler).
ANY = "any"


@dataclass(frozen=True)
class Run:
    """What the server of a defect's kill run needs, and the role the suites are run as against it.

    The suites run are the tests that decide one of the defect's declared clauses (``--tzsb-clause``), nothing
    else; ``Run`` only says which server they run against."""

    #: the role under test (the suites' ``--tzsb-role``)
    role: str
    #: the server serves ``role`` only (False: every role in one process, ``--role all``)
    alone: bool = False
    #: demo data (seed 1) in the server's database (False: an empty database)
    seed: bool = True
    #: served over TLS (a loopback certificate, ``ServerConfig.tls``)
    tls: bool = False
    #: the harness's simulators first, then the server calling them: a licensing server
    #: (``stack.licensing_stack``) or the gov-platform alone pushing to the licensing simulator
    #: (``stack.platform_stack``)
    simulators: bool = False
    #: ``TZSB_HYPOTHESIS_SEED`` of the run (the workflow suite's walks), when it matters
    hypothesis_seed: str | None = None

    @property
    def server_role(self) -> str:
        """``ServerConfig.role`` of the run's server."""
        return self.role if self.alone else "all"

    def describe(self, lang: str = "zh") -> str:
        """The run in a few words: the role under test and what its server needs."""
        en = lang == "en"
        parts = [self.role]
        if self.simulators:
            parts.append("with the simulators" if en else "带模拟器")
        elif self.alone:
            parts.append("that role alone" if en else "仅该角色")
        else:
            parts.append("every role in one server" if en else "全部角色同一服务器")
        parts.append(("demo data" if en else "演示数据") if self.seed else ("empty database" if en else "空库"))
        if self.tls:
            parts.append("TLS")
        if self.hypothesis_seed:
            parts.append(f"{'hypothesis seed' if en else '假设检验种子'} {self.hypothesis_seed}")
        return ("; " if en else "，").join(parts)


@dataclass(frozen=True)
class Defect:
    """One defect switch of the reference server (``--defect NAME``): a realistic vendor mistake, the clauses of
    ``schemas/clauses`` it breaks, and the run that must catch it (``conformance.selfcheck.kill_matrix``)."""

    name: str
    #: the role whose server carries the defect (:data:`ANY`: every role's)
    role: str
    #: the clauses the defect breaks: its kill run runs the tests that decide them and must find one 不符合
    clauses: tuple[str, ...]
    zh: str
    en: str
    run: Run


#: Every declaration, in the order of ``declared.py`` (``conformance.reference.defects.DEFECTS``).
DECLARED: dict[str, Defect] = {}


def declare(name: str, role: str, clauses: tuple[str, ...], zh: str, en: str, *, run: Run) -> str:
    """Register one defect; its name is the switch users type (``--defect NAME``) and the value of the constant
    the declaration is assigned to (``D.ENVELOPE_MISSING_CODE = "envelope-missing-code"``)."""
    if name in DECLARED:
        raise ValueError(f"defect {name} declared twice")
    if not clauses:
        raise ValueError(f"defect {name} declares no clause")
    DECLARED[name] = Defect(name, role, tuple(clauses), zh, en, run)
    return name
