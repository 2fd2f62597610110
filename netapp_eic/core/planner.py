# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""The EIC decision, without I/O.

:mod:`netapp_eic.core.facts` collects everything the decision needs (cache
entry state, where the image's files live, whether the copy offload tool can
run, what the image inspection said); :func:`plan` turns those facts into an
ordered list of steps, each faster path either planned or skipped with a
reason. The engine tries the planned steps in order and falls through on
failure; the Glance download is always last. :func:`explain` renders a plan
for logs and for a CLI that wants to show what would happen.
"""

import dataclasses

from netapp_eic.core.types import CacheState, Route, Source

# The copy offload tool needs ONTAP 8.2 or later (NetApp's documentation).
COPY_OFFLOAD_MIN_VERSION = (8, 2, 0)


@dataclasses.dataclass(frozen=True)
class Facts:
    """What the decision needs to know, gathered beforehand.

    ``cache_reason`` explains any ``cache_state`` but ``FRESH``.
    ``local_image`` is the image file when it lies in the destination
    FlexVol. ``image_problem`` is set when an inspection of the
    image (or a policy) already rules out every fast path that would use the
    Glance file. ``vstorage`` maps SVM names to their NFS vStorage setting.
    ``tool_blocked`` says why the copy offload tool's breaker holds it off.
    ``peer_problems`` maps the SVMs of sources in another SVM than the
    destination's to why a File Copy from them would be refused (no SVM
    peer relationship with the ``file_copy`` application);
    ``create_svm_peers`` says to create that relationship instead.
    """

    image_id: str
    volume_id: str
    pool: str
    dest_svm: str | None
    dest_flexvol: str | None
    dest_problem: str | None = None
    cache_state: CacheState = CacheState.UNKNOWN
    cache_reason: str = ''
    local_image: Source | None = None
    remote_sources: tuple[Source, ...] = ()
    rejected_locations: tuple[tuple[str, str], ...] = ()
    image_problem: str | None = None
    tool_path: str | None = None
    tool_blocked: str | None = None
    peer_problems: tuple[tuple[str, str], ...] = ()
    create_svm_peers: bool = False
    ontap_version: tuple[int, int, int] | None = None
    vstorage: tuple[tuple[str, bool], ...] = ()


@dataclasses.dataclass(frozen=True)
class Step:
    """One planned attempt: a path and the file it starts from;
    ``make_peer`` says to create the SVM peer a File Copy needs first,
    ``adopt`` to check and adopt the in-tree driver's cache entry before
    cloning it, ``into_cache`` to make the raw file the pool's cache entry
    and clone the volume from it (False: the cache is disabled, the volume
    is made from the source once)."""

    path: Route
    source: Source | None = None
    make_peer: bool = False
    adopt: bool = False
    into_cache: bool = True

    def describe(self) -> str:
        if self.source is None:
            return str(self.path)
        text = '%s from %s' % (self.path, self.source.label)
        if self.make_peer:
            text += ' (after creating the SVM peer)'
        return text


@dataclasses.dataclass(frozen=True)
class Plan:
    """Ordered steps to try and the faster paths skipped, with reasons."""

    facts: Facts
    steps: tuple[Step, ...]
    skipped: tuple[tuple[Route, str], ...]


def plan(facts: Facts) -> Plan:
    """Order the paths for ``facts``; the download always ends the list."""
    steps: list[Step] = []
    skipped: list[tuple[Route, str]] = []
    if facts.dest_problem:
        for path in (Route.CACHE_CLONE, Route.DIRECT_CLONE, Route.FILE_COPY):
            skipped.append((path, facts.dest_problem))
        return Plan(facts, (Step(Route.DOWNLOAD),), tuple(skipped))
    _plan_cache(facts, steps, skipped)
    _plan_direct(facts, steps, skipped)
    _plan_copies(facts, steps, skipped)
    steps.append(Step(Route.DOWNLOAD))
    if facts.cache_state is CacheState.DISABLED:
        steps = [dataclasses.replace(step, into_cache=False)
                 for step in steps]
    return Plan(facts, tuple(steps), tuple(skipped))


Skipped = list[tuple[Route, str]]


def _plan_cache(facts: Facts, steps: list[Step], skipped: Skipped) -> None:
    if facts.cache_state in (CacheState.FRESH, CacheState.LEGACY):
        steps.append(Step(Route.CACHE_CLONE,
                          adopt=facts.cache_state is CacheState.LEGACY))
    else:
        skipped.append((Route.CACHE_CLONE, facts.cache_reason or
                        'cache entry %s' % facts.cache_state))


def _plan_direct(facts: Facts, steps: list[Step],
                 skipped: Skipped) -> None:
    if facts.local_image is None:
        skipped.append((Route.DIRECT_CLONE, _no_local_image_reason(facts)))
    elif facts.image_problem:
        skipped.append((Route.DIRECT_CLONE, facts.image_problem))
    else:
        steps.append(Step(Route.DIRECT_CLONE, facts.local_image))


def _no_local_image_reason(facts: Facts) -> str:
    reason = 'image file is not in FlexVol %s' % facts.dest_flexvol
    if not facts.remote_sources and facts.rejected_locations:
        reason += ' (no usable location: %s)' % '; '.join(
            '%s: %s' % pair for pair in facts.rejected_locations)
    elif not facts.remote_sources:
        reason += ' (no location on this cluster)'
    return reason


def _plan_copies(facts: Facts, steps: list[Step],
                 skipped: Skipped) -> None:
    """File Copy (or the copy offload tool) from another FlexVol.

    Another pool's cache entry is preferred to the Glance file: it is raw
    already and was checked when it was built.
    """
    sources = sorted(facts.remote_sources, key=lambda s: not s.is_cache)
    usable: list[Source] = []
    for source in sources:
        if not source.is_cache and facts.image_problem:
            skipped.append((Route.FILE_COPY, '%s: %s' % (
                source.label, facts.image_problem)))
        else:
            usable.append(source)
    if not usable:
        if not sources:
            skipped.append((Route.FILE_COPY,
                            'no copy of the image in another FlexVol of '
                            'this cluster'))
        return
    for source in usable:
        if facts.tool_path:
            problem = tool_problem(facts, source)
            if problem:
                skipped.append((Route.COPY_OFFLOAD, problem))
            else:
                steps.append(Step(Route.COPY_OFFLOAD, source))
        peer_problem = dict(facts.peer_problems).get(source.svm)
        if peer_problem and not facts.create_svm_peers:
            skipped.append((Route.FILE_COPY, '%s: %s' % (source.label,
                                                         peer_problem)))
        else:
            steps.append(Step(Route.FILE_COPY, source,
                              make_peer=bool(peer_problem)))


def tool_problem(facts: Facts, source: Source) -> str | None:
    """Why the copy offload tool cannot copy ``source``, or None."""
    if facts.tool_blocked:
        return facts.tool_blocked
    version = facts.ontap_version
    if version is not None and version < COPY_OFFLOAD_MIN_VERSION:
        return 'copy offload needs ONTAP >= 8.2, cluster runs %s' % (
            '.'.join(str(v) for v in version))
    vstorage = dict(facts.vstorage)
    for svm in (source.svm, facts.dest_svm):
        if svm is None or not vstorage.get(svm, False):
            return 'vstorage is disabled on SVM %s' % svm
    return None


def explain(the_plan: Plan) -> str:
    """One line: the steps in order, then each skipped path's reason."""
    steps = ' -> '.join(step.describe() for step in the_plan.steps)
    skipped = '; '.join('%s skipped: %s' % (path, reason)
                        for path, reason in the_plan.skipped)
    return '%s [%s]' % (steps, skipped) if skipped else steps
