# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""Processes of the end-to-end stack: started alone, stopped by their group.

Every service starts in a session of its own (``setsid``), so its process
group id is its PID and holds everything it forks (gunicorn workers,
cinder-volume's backend child and the privsep daemon it re-parents to
init, RabbitMQ's Erlang helpers). Stopping sends SIGTERM to that group,
waits, then SIGKILL, and returns only when no process of the group is left.
Nothing is ever looked up or killed by name.

Each start is recorded in ``<run_dir>/pids/<name>`` (PID and the kernel's
start time of the process) so that :func:`sweep` can stop what a previous
run left behind when its runner was killed with SIGKILL, without ever
hitting a recycled PID.
"""

import contextlib
import logging
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence

LOG = logging.getLogger(__name__)

# Variables of the runner's environment that must not reach the services:
# the runner's own import path (the services use the installed plugin),
# Cinder's native-threads switch set by tests/conftest.py (the services
# run as deployed, with eventlet), and CA bundles that requests would let
# override netapp_ssl_cert_path, so that TLS verification of the simulator
# fails (the simulator has its own CA).
_DROPPED_ENV = ('PYTHONPATH', 'PYTHONHOME',
                'OS_CINDER_DISABLE_EVENTLET_PATCHING', 'REQUESTS_CA_BUNDLE',
                'CURL_CA_BUNDLE', 'SSL_CERT_FILE', 'OS_AUTH_TYPE',
                'OS_AUTH_URL', 'OS_CLOUD', 'OS_TOKEN')


class ProcessError(RuntimeError):
    """A service process failed to start or to become ready."""


def service_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of a service: the runner's, cleaned, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if k not in _DROPPED_ENV}
    env.update(extra or {})
    return env


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(('127.0.0.1', 0))
        return int(sock.getsockname()[1])


def port_open(port: int, host: str = '127.0.0.1') -> bool:
    """True when a TCP connection to ``host:port`` is accepted."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def _start_time(pid: int) -> str | None:
    """The kernel's start time of ``pid`` (field 22 of stat), or None."""
    try:
        with open('/proc/%d/stat' % pid) as stat:
            fields = stat.read().rsplit(')', 1)[1].split()
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return None
    return fields[19]


def _proc_table() -> dict[int, tuple[int, int, str, str]]:
    """``{pid: (ppid, pgid, state, start time)}`` of every process."""
    table = {}
    for entry in os.listdir('/proc'):
        if not entry.isdigit():
            continue
        try:
            with open('/proc/%s/stat' % entry) as stat:
                fields = stat.read().rsplit(')', 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        table[int(entry)] = (int(fields[1]), int(fields[2]), fields[0],
                             fields[19])
    return table


def group_members(pgid: int) -> list[int]:
    """PIDs of the live (not zombie) processes of process group ``pgid``."""
    return [pid for pid, (_, group, state, _) in _proc_table().items()
            if group == pgid and state != 'Z']


def family(pid: int) -> dict[int, str]:
    """The process group ``pid`` leads and every descendant of ``pid``
    (Erlang starts its helpers in sessions of their own), with their
    start times: ``{pid: start time}``."""
    table = _proc_table()
    found = {p for p, (_, group, state, _) in table.items()
             if group == pid and state != 'Z'}
    if pid in table:
        found.add(pid)
    grew = True
    while grew:
        children = {p for p, (parent, _, state, _) in table.items()
                    if parent in found and state != 'Z'} - found
        found |= children
        grew = bool(children)
    return {p: table[p][3] for p in found}


def _alive(members: dict[int, str]) -> list[int]:
    """Those of ``members`` still running (same PID and start time)."""
    table = _proc_table()
    return [p for p, started in members.items()
            if p in table and table[p][3] == started and table[p][2] != 'Z']


def stop_group(pgid: int, name: str, timeout: float = 15.0) -> None:
    """SIGTERM the group, wait up to ``timeout``, then SIGKILL; return once
    no process of the group and no descendant of its leader is left.
    Never raises for a group that is already gone."""
    members = family(pgid)
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 10.0)):
        members.update(family(pgid))
        if not _alive(members):
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, sig)
        if sig == signal.SIGKILL:
            for pid in _alive(members):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, sig)
        deadline = time.monotonic() + wait
        while _alive(members) and time.monotonic() < deadline:
            time.sleep(0.1)
        if sig == signal.SIGTERM and _alive(members):
            LOG.warning('%s (process group %d): %s still running %.0f s '
                        'after SIGTERM; sending SIGKILL', name, pgid,
                        _alive(members), timeout)
    left = _alive(members)
    if left:
        raise ProcessError('%s: processes %s survived SIGKILL' % (name, left))


class Service:
    """One service process started in its own session.

    :param name: short name, also the log and pid file names.
    :param argv: the command (no shell).
    :param run_dir: where ``pids/`` and ``logs/`` live.
    """

    def __init__(self, name: str, argv: Sequence[str], run_dir: str,
                 env: Mapping[str, str] | None = None,
                 cwd: str | None = None, stop_timeout: float = 15.0):
        self.name = name
        self.argv = [str(arg) for arg in argv]
        self.run_dir = run_dir
        self.env = service_env(env)
        self.cwd = cwd or run_dir
        self.stop_timeout = stop_timeout
        self.log_path = os.path.join(run_dir, 'logs', name + '.out')
        self.popen: subprocess.Popen[bytes] | None = None
        self.stopped = False

    @property
    def pid(self) -> int | None:
        return self.popen.pid if self.popen is not None else None

    def start(self) -> 'Service':
        os.makedirs(os.path.dirname(self.log_path), exist_ok=True)
        os.makedirs(os.path.join(self.run_dir, 'pids'), exist_ok=True)
        with open(self.log_path, 'ab') as log:
            self.popen = subprocess.Popen(
                self.argv, stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, env=self.env, cwd=self.cwd,
                start_new_session=True)
        with open(self._pid_file(), 'w') as record:
            record.write('%d %s\n' % (self.popen.pid,
                                      _start_time(self.popen.pid) or '-'))
        LOG.info('started %s (pid %d)', self.name, self.popen.pid)
        return self

    def _pid_file(self) -> str:
        return os.path.join(self.run_dir, 'pids', self.name)

    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def check_alive(self) -> None:
        """Raise with the end of its log if the process has exited."""
        if self.popen is not None and self.popen.poll() is not None:
            raise ProcessError('%s exited with status %s; end of %s:\n%s' % (
                self.name, self.popen.returncode, self.log_path,
                tail(self.log_path)))

    def wait_until(self, ready: Callable[[], bool], what: str,
                   timeout: float = 120.0) -> float:
        """Poll ``ready`` until true; fail early if the process died."""
        start = time.monotonic()
        while True:
            self.check_alive()
            try:
                if ready():
                    return time.monotonic() - start
            except OSError:
                pass
            if time.monotonic() - start > timeout:
                raise ProcessError('%s not ready after %.0f s (%s); end of '
                                   '%s:\n%s' % (self.name, timeout, what,
                                                self.log_path,
                                                tail(self.log_path)))
            time.sleep(0.2)

    def wait_done(self, timeout: float = 300.0) -> None:
        """For a one-shot command (a db sync): wait for it to exit 0."""
        assert self.popen is not None
        try:
            status = self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            raise ProcessError('%s still running after %.0f s' % (
                self.name, timeout)) from None
        if status != 0:
            raise ProcessError('%s exited with status %d; end of %s:\n%s' % (
                self.name, status, self.log_path, tail(self.log_path)))
        self.stop()

    def stop(self) -> None:
        """Stop the whole process group; reap the direct child."""
        if self.popen is None or self.stopped:
            return
        try:
            stop_group(self.popen.pid, self.name, self.stop_timeout)
        finally:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(5)
        self.stopped = True
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self._pid_file())
        LOG.info('stopped %s (pid %d)', self.name, self.popen.pid)


def tail(path: str, lines: int = 25) -> str:
    """The last ``lines`` lines of a text file ('' if it does not exist)."""
    try:
        with open(path, 'rb') as log:
            log.seek(0, os.SEEK_END)
            log.seek(max(0, log.tell() - 16384))
            text = log.read().decode('utf-8', 'replace')
    except FileNotFoundError:
        return ''
    return '\n'.join(text.splitlines()[-lines:])


def sweep(run_dir: str) -> list[str]:
    """Stop the process groups a previous, killed run recorded in
    ``<run_dir>/pids``; returns their names. A record whose PID now
    belongs to another process (other start time) is dropped unused."""
    pid_dir = os.path.join(run_dir, 'pids')
    stopped = []
    for name in sorted(os.listdir(pid_dir)) if os.path.isdir(pid_dir) else ():
        path = os.path.join(pid_dir, name)
        with open(path) as record:
            pid_text, _, started = record.read().strip().partition(' ')
        if not pid_text.isdigit():
            LOG.warning('ignoring the unreadable record %s', path)
            os.unlink(path)
            continue
        pid = int(pid_text)
        if _start_time(pid) == started or (
                _start_time(pid) is None and group_members(pid)):
            LOG.warning('stopping %s (process group %d) left by an earlier '
                        'run', name, pid)
            stop_group(pid, name, 10.0)
            stopped.append(name)
        os.unlink(path)
    return stopped
