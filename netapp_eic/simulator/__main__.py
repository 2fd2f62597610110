# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""``netapp-eic-sim``: run the simulator standalone.

Prints one JSON line (see ``Simulator.info()``) on stdout once it serves,
then serves until SIGTERM or SIGINT and exits 0.
"""

import argparse
import json
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType

from netapp_eic.simulator.simulator import Simulator


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog='netapp-eic-sim', description='Simulated NetApp ONTAP REST API.')
    parser.add_argument('--config', help='topology file (YAML or JSON)')
    parser.add_argument('--data-root',
                        help='directory holding one directory per FlexVol '
                             '(default: a temporary directory)')
    parser.add_argument('--http', action='store_true',
                        help='serve plain HTTP instead of HTTPS')
    parser.add_argument('--seed', type=int, help='seed for uuids')
    parser.add_argument('--port', type=int, default=0,
                        help='TCP port on 127.0.0.1 (default: any free)')
    parser.add_argument('--username', default='admin')
    parser.add_argument('--password', help='default: random')
    parser.add_argument('--job-ttl', type=float, default=300.0,
                        help='seconds a finished job stays visible')
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Serve until SIGTERM/SIGINT; returns the exit status."""
    args = _parser().parse_args(argv)
    stop = threading.Event()

    def _on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    sim = Simulator(topology=args.config, data_root=args.data_root,
                    tls=not args.http, seed=args.seed,
                    username=args.username, password=args.password,
                    port=args.port, job_ttl=args.job_ttl)
    sim.start()
    try:
        sys.stdout.write(json.dumps(sim.info()) + '\n')
        sys.stdout.flush()
        while not stop.wait(0.5):
            pass
    finally:
        sim.stop()
    return 0


if __name__ == '__main__':
    sys.exit(main())
