# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""The ONTAP simulator in a process of its own, and this process's reads.

In a process of its own the simulator's work (copies, clones, the file
fingerprints it computes for ONTAP) is not this process's: what this
process reads (``/proc/self/io``, ``rchar``: every byte a read system call
returned, files and sockets alike) is then what the host read, as the
kernel counts it, not as the driver says. :class:`SimulatorProcess` starts
``python -m netapp_eic.simulator`` on ``127.0.0.1`` (port 0), reads the
JSON line it prints and offers the attributes the harness uses of an
in-process :class:`~netapp_eic.simulator.Simulator`; it stops the process
by its own PID. :func:`reads` is the counter.
"""

import json
import os
import signal
import subprocess
import sys
import tempfile

#: Seconds the simulator may take to print its line, then to stop.
START_SECONDS = 60
STOP_SECONDS = 20


def reads() -> int:
    """Bytes this process has read so far (``rchar``; not its children's:
    a ``qemu-img`` conversion's reads are its own process's)."""
    with open('/proc/self/io') as io:
        for line in io:
            key, _sep, value = line.partition(':')
            if key == 'rchar':
                return int(value)
    raise RuntimeError('/proc/self/io has no rchar')


class SimulatorProcess:
    """``netapp-eic-sim`` as a child process, with the in-process
    simulator's connection attributes (``host``, ``port``, ``username``,
    ``password``, ``ca_file``, ``vserver``, ``url``, ``shares``,
    ``clone_mode``)."""

    def __init__(self, data_root, topology=None, seed=None):
        self.data_root = data_root
        self.topology = topology
        self.seed = seed
        self.process = None
        self._info = {}

    def __enter__(self):
        argv = [sys.executable, '-m', 'netapp_eic.simulator', '--data-root',
                self.data_root]
        if self.topology is not None:
            fd, path = tempfile.mkstemp(suffix='.json', dir=os.path.dirname(
                os.path.abspath(self.data_root)))
            with os.fdopen(fd, 'w') as f:
                json.dump(self.topology, f)
            argv += ['--config', path]
        if self.seed is not None:
            argv += ['--seed', str(self.seed)]
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(
            [os.path.dirname(os.path.dirname(os.path.abspath(__file__)))] +
            [p for p in os.environ.get('PYTHONPATH', '').split(os.pathsep)
             if p]))
        self.process = subprocess.Popen(
            argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            env=env, text=True)
        try:
            line = self._first_line()
            self._info = json.loads(line)
        except BaseException:
            self.stop()
            raise
        return self

    def _first_line(self):
        import selectors
        with selectors.DefaultSelector() as selector:
            selector.register(self.process.stdout, selectors.EVENT_READ)
            if not selector.select(START_SECONDS):
                raise RuntimeError('the simulator printed nothing within '
                                   '%d s' % START_SECONDS)
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError('the simulator exited with status %s' %
                               self.process.wait())
        return line

    def __exit__(self, *exc_info):
        self.stop()

    def stop(self):
        """SIGTERM to its own PID, then SIGKILL if it does not stop."""
        process, self.process = self.process, None
        if process is None:
            return
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(STOP_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        process.stdout.close()

    def __getattr__(self, name):
        if name in ('host', 'port', 'username', 'password', 'ca_file',
                    'vserver', 'url', 'control_url', 'clone_mode'):
            return self._info[name]
        raise AttributeError(name)

    @property
    def shares(self):
        return dict(self._info['shares'])

    def write_copyoffload_tool(self, directory):
        """The copy offload stand-in, as the in-process simulator writes
        it (it talks to this simulator's URL)."""
        from netapp_eic.simulator import simulator as sim_mod
        return sim_mod.Simulator.write_copyoffload_tool(self, directory)
