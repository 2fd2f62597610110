# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""The end-to-end session: one stack for every scenario, stopped at the end
whatever happens (failure, Ctrl-C, SIGTERM), and the time-to-available
table printed last.

Run with ``bash tools/quickstart e2e`` (or ``tox -e e2e``), which installs
what is needed and runs ``pytest -o python_files=e2e_*.py tests/e2e``. The
unit and functional run (``pytest tests``) collects nothing here: the
scenario modules are named ``e2e_*.py`` and this file imports nothing that
only the end-to-end environment has at module level.
"""

import os
import re
import signal
import sys

import pytest

_REPORT: dict = {'table': None, 'stack': None, 'memory': None,
                 'cleanup': None}
SIZE_MIB = int(os.environ.get('NETAPP_EIC_E2E_IMAGE_MIB', '256'))


def pytest_collection_modifyitems(session, config, items):
    """Scenario modules in the order of their numbers (``e2e_10_*``
    after ``e2e_9_*``, not after ``e2e_1_*``; ``e2e_99_logs`` last), so
    each runs on the stack the ones before it left."""
    items.sort(key=_module_number)


def _module_number(item) -> int:
    found = re.match(r'e2e_(\d+)_', os.path.basename(str(item.fspath)))
    return int(found.group(1)) if found else -1


def _raise_interrupt(signum, frame):
    """SIGTERM/SIGHUP end the run like Ctrl-C: the stack is stopped."""
    raise KeyboardInterrupt('signal %d' % signum)


def _paths() -> tuple[str, str]:
    root = os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__))))
    venv = os.environ.get('NETAPP_EIC_E2E_VENV',
                          os.path.join(root, '.tox', 'e2e'))
    run_dir = os.environ.get('NETAPP_EIC_E2E_RUN_DIR',
                             os.path.join(root, '.tox', 'e2e-run'))
    return venv, run_dir


@pytest.fixture(scope='session')
def e2e_venv() -> str:
    """The end-to-end environment: Cinder, Glance and this plugin as
    installed with pip."""
    return _paths()[0]


@pytest.fixture(scope='session')
def e2e_stack():
    """The running stack; stopped after the last scenario."""
    from tests.e2e import stack as stack_mod
    if os.geteuid() != 0:
        pytest.fail('the end-to-end run needs root (loop device, mounts, '
                    'RabbitMQ): run bash tools/quickstart e2e as root',
                    pytrace=False)
    venv, run_dir = _paths()
    if not os.path.exists(os.path.join(venv, 'bin', 'cinder-volume')):
        pytest.fail('%s has no Cinder: run bash tools/quickstart e2e, which '
                    'installs it' % venv, pytrace=False)
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _raise_interrupt)
    stack = stack_mod.E2EStack(run_dir, venv)
    pids: list[int] = []
    _REPORT['stack'] = stack
    try:
        stack.start()  # stops what it started if it fails or is stopped
        yield stack
    finally:
        try:
            _REPORT['memory'] = stack.memory()
            pids = stack.processes()
        finally:
            stack.stop()
            _REPORT['cleanup'] = _leftovers(stack, pids)


def _leftovers(stack, pids: list[int]) -> list[str]:
    """Processes, mounts and loop devices of the run still present."""
    left = ['process %d' % pid for pid in pids
            if os.path.exists('/proc/%d' % pid) and
            _state(pid) not in ('Z', None)]
    prefix = stack.run_dir + os.sep
    with open('/proc/mounts') as mounts:
        left += ['mount %s' % line.split()[1] for line in mounts
                 if line.split()[1].startswith(prefix)]
    for loop in sorted(os.listdir('/sys/block')):
        backing = '/sys/block/%s/loop/backing_file' % loop
        if os.path.exists(backing):
            with open(backing) as f:
                if f.read().strip().startswith(prefix):
                    left.append('loop device /dev/%s' % loop)
    return left


def _state(pid: int) -> str | None:
    try:
        with open('/proc/%d/stat' % pid) as stat:
            return stat.read().rsplit(')', 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return None


@pytest.fixture(scope='session')
def run(e2e_stack):
    """:class:`tests.e2e.scenario.Run` with the clients; quotas lifted."""
    from tests.e2e import clients
    from tests.e2e import scenario
    api = clients.Api(e2e_stack.glance.url, e2e_stack.cinder.url)
    api.lift_quotas()
    table = scenario.Table()
    _REPORT['table'] = table
    return scenario.Run(e2e_stack, api, table, SIZE_MIB)


@pytest.fixture
def glance_mode(run):
    """Put Glance in the location mode a module names in its
    ``GLANCE_MODE`` (restarting it only on a change)."""
    def ensure(mode: str) -> None:
        glance = run.stack.glance
        if glance.mode != mode:
            seconds = glance.restart(mode)
            run.stack.timings['glance restart (%s)' % mode] = seconds
    return ensure


@pytest.fixture
def scheduler_mode(run):
    """Run cinder-scheduler with the weighers a module names
    (:data:`tests.e2e.cinder_svc.SCHEDULER_MODES`), restarting it only on
    a change (a rolling restart)."""
    def ensure(mode: str) -> None:
        cinder = run.stack.cinder
        if cinder.scheduler_mode != mode:
            seconds = cinder.replace_scheduler(mode)
            run.stack.timings['scheduler restart (%s)' % mode] = seconds
    return ensure


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """The time-to-available table, stack figures and the cleanup check."""
    stack = _REPORT['stack']
    if stack is None:
        return
    write = terminalreporter.write_line
    terminalreporter.section('netapp-eic end to end')
    if stack.swept:
        write('removed what a killed earlier run left: %s' % ', '.join(
            stack.swept))
    table = _REPORT['table']
    if table is not None and table.rows:
        write('Time from the create request to "available" (%d MiB images, '
              '1 GiB volumes):' % SIZE_MIB)
        for line in table.render():
            write('  ' + line)
    for title, lines in (table.sections.items() if table else ()):
        write(title)
        for line in lines:
            write('  ' + line)
    timings = ', '.join('%s %.1f s' % kv for kv in stack.timings.items())
    write('stack (seconds; "up" counts from the first service start): %s'
          % timings)
    memory = _REPORT['memory']
    if memory:
        write('memory: %(processes)d processes, RSS sum %(rss_mib).0f MiB, '
              'PSS sum %(pss_mib).0f MiB' % memory)
    left = _REPORT['cleanup']
    if left is None:
        write('cleanup: not reached')
    elif left:
        write('cleanup: LEFT BEHIND: %s' % ', '.join(left))
    else:
        write('cleanup: no process, mount or loop device left')
    write('logs: %s' % os.path.join(stack.run_dir, 'logs'))


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session, exitstatus):
    """Anything left behind fails the run."""
    left = _REPORT['cleanup']
    if left:
        sys.stderr.write('end-to-end cleanup left: %s\n' % ', '.join(left))
        session.exitstatus = 1
