# Licensed under the Apache License, Version 2.0 (see LICENSE).
"""Fixtures for the simulator tests: a running Simulator and its clients.

``conn`` answers in-process; ``api`` (a plain ``requests`` session on
``sim.url``) goes through the HTTPS server, which starts when a test first
asks for an endpoint."""

import pytest
import requests

from netapp_eic.simulator import Simulator


@pytest.fixture
def sim(tmp_path):
    data_root = tmp_path / 'data'
    data_root.mkdir()
    with Simulator(data_root=str(data_root), seed=42, job_ttl=300,
                   serve=False) as s:
        yield s


@pytest.fixture
def conn(sim):
    connection = sim.connection(poll_interval=0.05, poll_timeout=20)
    with connection:
        yield connection


@pytest.fixture
def api(sim):
    """A requests session authenticated and verifying the simulator CA."""
    session = requests.Session()
    session.auth = (sim.username, sim.password)
    session.verify = sim.ca_file
    session.trust_env = False
    yield session
    session.close()
