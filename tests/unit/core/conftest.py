# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""Fixtures for the core's tests: the simulator, the real ONTAP client on
its in-process transport, a :class:`~tests.unit.core.fakes.FakeHost` over
the simulator's FlexVol directories and a Glance stand-in; no Cinder.

The simulator starts its HTTPS server (and CA) only for a test that needs
a real endpoint: the copy offload stand-in, a connection of its own to
``sim.port``."""

import pytest

from netapp_eic import ontap as client_mod
from netapp_eic.core import engine as engine_mod
from netapp_eic.core.types import Settings
from netapp_eic.simulator import Simulator
from tests.unit.core import fakes
from tests.unit.core.helpers import POOL_A, POOL_B, glance_on


@pytest.fixture
def sim(tmp_path):
    data_root = tmp_path / 'data'
    data_root.mkdir()
    with Simulator(data_root=str(data_root), seed=3, serve=False) as s:
        yield s


@pytest.fixture
def client(sim):
    return client_mod.OntapClient(sim.connection(),
                                  poll_initial_interval=0.01,
                                  poll_max_interval=0.1)


@pytest.fixture
def host(sim):
    return fakes.FakeHost(sim.shares, mounted=[POOL_A, POOL_B])


@pytest.fixture
def settings():
    # Glance's FlexVol is not mounted by itself here: these tests hold the
    # path where the copy lands before its bytes are checked (a Glance
    # FlexVol on another SVM, or mounting turned off); the mounting is
    # tested in test_glancemounts.py.
    return Settings(visibility_timeout=2.0, mount_glance_flexvols=False)


@pytest.fixture
def engine(client, host, settings):
    return engine_mod.Engine(client, host, settings)


@pytest.fixture
def glance_remote(sim):
    """Glance's store on ``vol_glance``: another FlexVol than the pools."""
    return glance_on(sim, 'vol_glance', 'images')


@pytest.fixture
def glance_local(sim):
    """Glance's store in a subdirectory of pool A's FlexVol."""
    return glance_on(sim, 'vol_cinder_a', 'glance-images')
