# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""Fixtures for the ONTAP client's tests: the simulator with a topology of
nested and look-alike junctions, and a client on an explicit connection
(never netapp_ontap's global one) over the in-process transport. The
simulator starts its HTTPS server (TLS verified) only for a test that asks
for ``sim.port``, ``sim.url`` or ``sim.ca_file``."""

import copy

import pytest
from netapp_ontap import config

from netapp_eic import ontap
from netapp_eic.simulator import DEFAULT_TOPOLOGY, Simulator

def _topology():
    topo = copy.deepcopy(DEFAULT_TOPOLOGY)
    vs0 = topo['svms'][0]
    vs0['volumes'] += [
        {'name': 'vol_nested', 'junction': '/vol_glance/nested'},
        {'name': 'vol_a', 'junction': '/vol_a'},
        {'name': 'vol_ab', 'junction': '/vol_ab'},
    ]
    return topo


@pytest.fixture
def sim(tmp_path):
    data_root = tmp_path / 'data'
    data_root.mkdir()
    with Simulator(topology=_topology(), data_root=str(data_root),
                   seed=7, serve=False) as s:
        yield s


@pytest.fixture
def client(sim):
    assert config.CONNECTION is None
    client = ontap.OntapClient(sim.connection(), poll_initial_interval=0.01,
                               poll_max_interval=0.1)
    yield client
    assert config.CONNECTION is None
