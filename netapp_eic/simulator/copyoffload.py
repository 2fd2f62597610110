# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""Stand-in for NetApp's deprecated copy offload tool.

Usage, as the real tool: ``TOOL src_ip dst_ip src_path dst_path`` where the
paths are NFS junction paths (``/vol_glance/images/abc``). The copy is asked
of the simulator through ``POST /_sim/copyoffload`` (HTTPS, verifying the
simulator's CA) and waited for. Exit status 0 on success; non-zero with a
message on stderr otherwise (vstorage disabled, unknown LIF, missing path,
failed copy).

The connection comes from ``config`` (written into the script by
``Simulator.write_copyoffload_tool``) or from the environment variables
``NETAPP_EIC_SIM_URL``, ``NETAPP_EIC_SIM_USER``, ``NETAPP_EIC_SIM_PASSWORD``
and ``NETAPP_EIC_SIM_CA``.
"""

import argparse
import os
import sys
import time
from collections.abc import Mapping, Sequence
from typing import Any

import requests

EXIT_USAGE = 2
EXIT_FAILED = 1
POLL_INTERVAL = 0.05
TIMEOUT = 3600
REQUEST_TIMEOUT = 60
Config = Mapping[str, str | None]


def _config_from_env() -> dict[str, str | None]:
    return {'url': os.environ.get('NETAPP_EIC_SIM_URL'),
            'username': os.environ.get('NETAPP_EIC_SIM_USER', 'admin'),
            'password': os.environ.get('NETAPP_EIC_SIM_PASSWORD', ''),
            'ca_file': os.environ.get('NETAPP_EIC_SIM_CA')}


class ToolError(Exception):
    """A failure to report on stderr."""


class _Client:
    """A ``requests`` session on the simulator, verifying its CA."""

    def __init__(self, config: Config) -> None:
        url = (config.get('url') or '').rstrip('/').removesuffix('/_sim')
        if not url:
            raise ToolError('no simulator URL (set NETAPP_EIC_SIM_URL)')
        self.url = url
        self.session = requests.Session()
        # The simulator is on loopback with its own CA: no proxy and no
        # CA bundle from the environment.
        self.session.trust_env = False
        self.session.auth = (config.get('username') or 'admin',
                             config.get('password') or '')
        self.verify: str | bool = config.get('ca_file') or True

    def call(self, method: str, path: str,
             body: dict[str, Any] | None = None) -> dict[str, Any]:
        try:
            resp = self.session.request(
                method, self.url + path, json=body, verify=self.verify,
                headers={'Accept': 'application/json'},
                timeout=REQUEST_TIMEOUT)
        except requests.RequestException as e:
            raise ToolError(f'cannot reach the simulator at {self.url}: '
                            f'{e}') from None
        if not resp.ok:
            raise ToolError(_error_text(resp))
        try:
            return dict(resp.json() or {})
        except ValueError:
            raise ToolError(f'not a JSON answer from {path}') from None

    def close(self) -> None:
        self.session.close()


def _error_text(resp: requests.Response) -> str:
    try:
        error = resp.json()['error']
        return '{} (code {})'.format(error['message'], error['code'])
    except (ValueError, KeyError, TypeError):
        return f'HTTP {resp.status_code}: {resp.text}'


def copy(config: Config, src_ip: str, dst_ip: str, src_path: str,
         dst_path: str, timeout: float = TIMEOUT) -> dict[str, Any]:
    """Run one offloaded copy; raises :class:`ToolError` on failure."""
    client = _Client(config)
    try:
        return _copy(client, src_ip, dst_ip, src_path, dst_path, timeout)
    finally:
        client.close()


def _copy(client: _Client, src_ip: str, dst_ip: str, src_path: str,
          dst_path: str, timeout: float) -> dict[str, Any]:
    body = client.call('POST', '/_sim/copyoffload', {
        'src_ip': src_ip, 'dst_ip': dst_ip, 'src_path': src_path,
        'dst_path': dst_path})
    job_uuid = body['job']['uuid']
    deadline = time.monotonic() + timeout
    while True:
        try:
            job = client.call('GET', f'/api/cluster/jobs/{job_uuid}')
        except ToolError as e:
            raise ToolError(f'copy job {job_uuid}: {e}') from None
        if job.get('state') == 'success':
            return job
        if job.get('state') == 'failure':
            raise ToolError('copy failed: {}'.format(job.get('message')))
        if time.monotonic() > deadline:
            raise ToolError(f'copy job {job_uuid} timed out')
        time.sleep(POLL_INTERVAL)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog='na_copyoffload_64',
        description='netapp-eic simulator stand-in for the NetApp copy '
                    'offload tool.')
    for name in ('src_ip', 'dst_ip', 'src_path', 'dst_path'):
        parser.add_argument(name)
    return parser


def main(argv: Sequence[str] | None = None,
         config: Config | None = None) -> int:
    """Console entry point; returns the exit status."""
    try:
        args = _parser().parse_args(argv)
    except SystemExit as e:
        return EXIT_USAGE if e.code else 0
    try:
        copy(config or _config_from_env(), args.src_ip, args.dst_ip,
             args.src_path, args.dst_path)
    except ToolError as e:
        print(f'copyoffload: error: {e}', file=sys.stderr)
        return EXIT_FAILED
    print(f'copyoffload: copied {args.src_ip}:{args.src_path} to '
          f'{args.dst_ip}:{args.dst_path}')
    return 0


if __name__ == '__main__':  # pragma: no cover
    sys.exit(main())
