"""How deep a run goes, per profile (``quick``: CI minutes; ``standard``; ``certification``: deep): one typed table
that every suite, the run guard and the command line read. A target file's ``[thresholds]`` may override single
values where a suite says so (e.g. ``fuzz_max_examples``)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Sharing:
    records: int  # records pulled per data set for the data-quality indicators
    walk: int  # largest filtered result walked page by page
    pages: int  # pages a completeness walk is cut into
    refs: int  # distinct references resolved by key per relation
    examples: int  # Hypothesis examples
    feed_pages: int  # pages of the change feed read from the start (limit = maximum)
    tail_pages: int  # most pages read to reach the end of the change feed
    samples: int  # records re-read by key per data set


@dataclass(frozen=True)
class Workflow:
    items_per_group: int | None  # licence items pushed per group (None: every item)
    walks: int  # Hypothesis walks of the procedure
    walk_steps: int  # steps per walk
    #: client side: items walked per registration status a change leaves (changed, suspended, cancelled, scrapped —
    #: licence-items.json operations); None: one item of every operation that changes the registration
    change_items: int | None


@dataclass(frozen=True)
class Dossier:
    samples: int  # dossiers read from the list
    archive_pause_s: float  # pause before the last archiving, so that 创建时间 and 更新时间 differ


@dataclass(frozen=True)
class Contract:
    max_examples: int  # fuzzing examples per operation
    max_coverage: int  # coverage-phase cases per operation
    deadline_s: float  # fuzzing time per role
    near_miss: int  # near-miss identifiers per site


@dataclass(frozen=True)
class Reporting:
    reports: int  # sample inspection reports read by number
    probes: int  # report numbers of the sharing platform tried at T6-1 when the target file declares none
    near_misses: int  # invalid values tried per identifier field


@dataclass(frozen=True)
class Depth:
    name: str
    deadline_s: float  # the whole run's deadline (harness/run_guard.py)
    token_expiry_wait_s: float  # longest wait for a token to expire (security suite)
    sharing: Sharing
    workflow: Workflow
    dossier: Dossier
    contract: Contract
    reporting: Reporting


PROFILES: dict[str, Depth] = {
    "quick": Depth(
        "quick",
        deadline_s=1800.0,
        token_expiry_wait_s=10,
        sharing=Sharing(records=1000, walk=300, pages=6, refs=30, examples=10, feed_pages=2, tail_pages=50, samples=3),
        workflow=Workflow(items_per_group=1, walks=4, walk_steps=25, change_items=1),
        dossier=Dossier(samples=3, archive_pause_s=0.0),
        contract=Contract(max_examples=3, max_coverage=12, deadline_s=120.0, near_miss=1),
        reporting=Reporting(reports=20, probes=50, near_misses=1),
    ),
    "standard": Depth(
        "standard",
        deadline_s=7200.0,
        token_expiry_wait_s=300,
        sharing=Sharing(
            records=10_000, walk=3000, pages=20, refs=200, examples=50, feed_pages=10, tail_pages=2000, samples=20
        ),
        workflow=Workflow(items_per_group=3, walks=12, walk_steps=40, change_items=2),
        dossier=Dossier(samples=10, archive_pause_s=2.1),
        contract=Contract(max_examples=15, max_coverage=40, deadline_s=600.0, near_miss=3),
        reporting=Reporting(reports=200, probes=200, near_misses=3),
    ),
    "certification": Depth(
        "certification",
        deadline_s=21600.0,
        token_expiry_wait_s=7300,
        sharing=Sharing(
            records=100_000,
            walk=30_000,
            pages=60,
            refs=1000,
            examples=200,
            feed_pages=200,
            tail_pages=100_000,
            samples=100,
        ),
        workflow=Workflow(items_per_group=None, walks=50, walk_steps=60, change_items=None),
        dossier=Dossier(samples=50, archive_pause_s=2.1),
        contract=Contract(max_examples=50, max_coverage=120, deadline_s=1800.0, near_miss=8),
        reporting=Reporting(reports=100_000, probes=1000, near_misses=10),
    ),
}

#: The profile names, shallow to deep (the command line's and the plugin's choices).
NAMES = tuple(PROFILES)


def depth(profile: str | None) -> Depth:
    """The depth of a profile (an unknown or missing one: quick)."""
    return PROFILES.get(profile or "quick", PROFILES["quick"])
