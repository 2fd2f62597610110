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
import base64
import json
import os
import ssl
import sys
import time
import urllib.error
import urllib.request

EXIT_USAGE = 2
EXIT_FAILED = 1
POLL_INTERVAL = 0.05
TIMEOUT = 3600


def _config_from_env():
    return {'url': os.environ.get('NETAPP_EIC_SIM_URL'),
            'username': os.environ.get('NETAPP_EIC_SIM_USER', 'admin'),
            'password': os.environ.get('NETAPP_EIC_SIM_PASSWORD', ''),
            'ca_file': os.environ.get('NETAPP_EIC_SIM_CA')}


class ToolError(Exception):
    """A failure to report on stderr."""


class _Client:
    def __init__(self, config):
        url = (config.get('url') or '').rstrip('/')
        url = url.removesuffix('/_sim')
        if not url:
            raise ToolError('no simulator URL (set NETAPP_EIC_SIM_URL)')
        self.url = url
        token = base64.b64encode(('{}:{}'.format(
            config.get('username') or 'admin',
            config.get('password') or '')).encode()).decode()
        self.headers = {'Authorization': 'Basic ' + token,
                        'Content-Type': 'application/json',
                        'Accept': 'application/json'}
        self.context = None
        if url.startswith('https'):
            self.context = ssl.create_default_context(
                cafile=config.get('ca_file') or None)

    def call(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data,
                                     method=method, headers=self.headers)
        try:
            with urllib.request.urlopen(req, context=self.context,
                                        timeout=60) as resp:
                return json.loads(resp.read() or b'{}')
        except urllib.error.HTTPError as e:
            raise ToolError(_error_text(e.read())) from None
        except urllib.error.URLError as e:
            raise ToolError(f'cannot reach the simulator at {self.url}: '
                            f'{e.reason}') from None


def _error_text(raw):
    try:
        error = json.loads(raw)['error']
        return '{} (code {})'.format(error['message'], error['code'])
    except (ValueError, KeyError, TypeError):
        return raw.decode(errors='replace')


def copy(config, src_ip, dst_ip, src_path, dst_path, timeout=TIMEOUT):
    """Run one offloaded copy; raises :class:`ToolError` on failure."""
    client = _Client(config)
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


def _parser():
    parser = argparse.ArgumentParser(
        prog='na_copyoffload_64',
        description='netapp-eic simulator stand-in for the NetApp copy '
                    'offload tool.')
    for name in ('src_ip', 'dst_ip', 'src_path', 'dst_path'):
        parser.add_argument(name)
    return parser


def main(argv=None, config=None):
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
