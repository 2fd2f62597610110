# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""RabbitMQ from Debian's package, run directly as root out of the run
directory on free loopback ports.

``/usr/lib/rabbitmq/bin/rabbitmq-server`` is the broker itself; the
``/usr/sbin`` wrapper would switch to the ``rabbitmq`` user and use
``/var/lib/rabbitmq``. epmd is started by us, on its own free port, so
that its PID is ours (RabbitMQ would otherwise spawn an ``epmd -daemon``
that outlives it) and no well-known port (4369, 5672, 25672) is needed.
"""

import os

from tests.e2e import procs

RABBITMQ_SERVER = '/usr/lib/rabbitmq/bin/rabbitmq-server'
EPMD_CANDIDATES = ('/usr/bin/epmd', '/usr/lib/erlang/bin/epmd')


class RabbitMQ:
    """One broker: ``transport_url`` once :meth:`start` returned."""

    def __init__(self, run_dir: str):
        self.run_dir = run_dir
        self.home = os.path.join(run_dir, 'rabbitmq')
        self.amqp_port = procs.free_port()
        self.dist_port = procs.free_port()
        self.epmd_port = procs.free_port()
        self.epmd: procs.Service | None = None
        self.server: procs.Service | None = None

    @property
    def transport_url(self) -> str:
        return 'rabbit://guest:guest@127.0.0.1:%d/' % self.amqp_port

    def _env(self) -> dict[str, str]:
        none_env = os.path.join(self.home, 'none.env')
        return {
            'HOME': self.home,
            'ERL_EPMD_ADDRESS': '127.0.0.1',
            'ERL_EPMD_PORT': str(self.epmd_port),
            'RABBITMQ_NODENAME': 'rabbit@localhost',
            'RABBITMQ_NODE_IP_ADDRESS': '127.0.0.1',
            'RABBITMQ_NODE_PORT': str(self.amqp_port),
            'RABBITMQ_DIST_PORT': str(self.dist_port),
            'RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS':
                '-kernel inet_dist_use_interface {127,0,0,1}',
            'RABBITMQ_MNESIA_BASE': os.path.join(self.home, 'mnesia'),
            'RABBITMQ_LOG_BASE': os.path.join(self.run_dir, 'logs',
                                              'rabbitmq'),
            'RABBITMQ_CONF_ENV_FILE': none_env,
            'RABBITMQ_CONFIG_FILE': os.path.join(self.home, 'rabbitmq'),
            'RABBITMQ_ENABLED_PLUGINS_FILE': os.path.join(
                self.home, 'enabled_plugins'),
        }

    def start(self) -> None:
        """Start epmd and the broker (readiness: :meth:`wait_ready`)."""
        epmd = next((p for p in EPMD_CANDIDATES if os.access(p, os.X_OK)),
                    None)
        if epmd is None or not os.access(RABBITMQ_SERVER, os.X_OK):
            raise procs.ProcessError(
                'RabbitMQ is not installed (%s, epmd); install the Debian '
                'package rabbitmq-server (bash tools/quickstart e2e does)'
                % RABBITMQ_SERVER)
        os.makedirs(self.home, exist_ok=True)
        open(os.path.join(self.home, 'none.env'), 'w').close()
        with open(os.path.join(self.home, 'enabled_plugins'), 'w') as f:
            f.write('[].\n')
        env = self._env()
        # Each Service is kept before it starts, so that stop() finds it
        # even when an interruption lands inside start().
        self.epmd = procs.Service(
            'epmd', [epmd, '-address', '127.0.0.1', '-port',
                     str(self.epmd_port)], self.run_dir, env=env)
        self.epmd.start()
        self.epmd.wait_until(lambda: procs.port_open(self.epmd_port),
                             'epmd port %d' % self.epmd_port, 20)
        self.server = procs.Service('rabbitmq', [RABBITMQ_SERVER],
                                    self.run_dir, env=env,
                                    cwd=self.home, stop_timeout=20)
        self.server.start()

    def wait_ready(self, timeout: float = 120.0) -> float:
        """Seconds until the AMQP listener accepts connections (RabbitMQ
        opens it last in its boot)."""
        assert self.server is not None
        return self.server.wait_until(
            lambda: procs.port_open(self.amqp_port),
            'AMQP port %d' % self.amqp_port, timeout)

    def stop(self) -> None:
        """Broker first, then epmd (RabbitMQ deregisters from it)."""
        try:
            if self.server is not None:
                self.server.stop()
        finally:
            if self.epmd is not None:
                self.epmd.stop()
