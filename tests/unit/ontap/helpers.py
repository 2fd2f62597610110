# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""Helpers of the ONTAP client's tests."""

import os

MiB = 1024 * 1024


def share_dir(sim, ip, vol):
    return sim.shares[f'{ip}:/{vol}']


def write(sim, vol, name, data, ip='127.0.0.1'):
    path = os.path.join(share_dir(sim, ip, vol), name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'wb') as f:
        f.write(data)
    return path


def read(sim, vol, name, ip='127.0.0.1'):
    with open(os.path.join(share_dir(sim, ip, vol), name), 'rb') as f:
        return f.read()


def flexvol(client, name, svm='vs0'):
    return next(v for v in client.flexvols(svm) if v.name == name)
