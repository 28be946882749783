# -*- coding: utf-8 -*-
# Copyright: contributors to vmstorage.gluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""gluster_replica_volume state=absent (a VM retired) over glusterfs 10.3 output captured in the lab: a volume
whose only clients are its nodes is stopped and deleted; one mounted or open elsewhere is refused, naming the
addresses. The rule of the roles' confirmation (filter unconfirmed_retirements) is tested here too."""

from __future__ import annotations

import pytest

from ansible_collections.vmstorage.gluster.plugins.filter.unconfirmed_retirements import unconfirmed_retirements
from ansible_collections.vmstorage.gluster.plugins.module_utils import _gluster as gluster
from ansible_collections.vmstorage.gluster.plugins.module_utils._kinds import Kind
from ansible_collections.vmstorage.gluster.plugins.module_utils._plan import Refusal
from ansible_collections.vmstorage.gluster.plugins.module_utils._runner import CommandRunner
from ansible_collections.vmstorage.gluster.tests.unit.helpers import ScriptedModule, gluster_fixture as fixture, gluster_params

ADDRESSES = {"node1": "10.93.122.11", "node2": "10.93.122.12", "node3": "10.93.122.13"}
POOL = ["--mode=script", "--xml", "pool", "list"]
INFO = ["--mode=script", "--xml", "volume", "info"]
STATUS = ["--mode=script", "--xml", "volume", "status", "all"]
CLIENTS = ["--mode=script", "--xml", "volume", "status", "ledger", "clients"]


def params(**overrides):
    return gluster_params(**dict(dict(name="ledger", state="absent", allow_delete=True), **overrides))


def observed(monkeypatch, clients_text):
    monkeypatch.setattr(gluster, "_host_names", lambda host: {host, ADDRESSES.get(host, host)})
    monkeypatch.setattr(gluster, "_is_this_node", lambda names: "node1" in names)
    module = ScriptedModule([(POOL, (0, fixture("faults_pool_list.xml"), "")), (INFO, (0, fixture("faults_volume_info.xml"), "")),
                             (STATUS, (0, fixture("faults_status_online.xml"), "")), (CLIENTS, (0, clients_text, ""))])
    state = gluster.observe(CommandRunner(module), params())
    assert not module.answers
    return state


def test_clients_are_read_as_addresses():
    assert gluster.parse_clients(fixture("clients_volume_status.xml")) == set(ADDRESSES.values())


def test_a_volume_used_by_its_nodes_only_is_stopped_and_deleted(monkeypatch):
    state = observed(monkeypatch, fixture("clients_volume_status.xml"))
    assert [action.kind for action in gluster.plan(state, params())] == [Kind.STOP, Kind.DELETE]


def test_a_volume_with_another_client_is_refused_naming_it(monkeypatch):
    # the same answer with node3's connections as if a hypervisor at 10.93.122.50 had them
    state = observed(monkeypatch, fixture("clients_volume_status.xml").replace("10.93.122.13:", "10.93.122.50:"))
    with pytest.raises(Refusal) as refused:
        gluster.plan(state, params())
    assert refused.value.found == "volume ledger is mounted or open from 10.93.122.50", str(refused.value)
    assert "nothing was changed" in refused.value.remedy


@pytest.mark.parametrize("vms, destroy, problems", [
    ([{"name": "a"}, {"name": "b", "state": "absent"}], ["b"], []),
    ([{"name": "a"}, {"name": "b", "state": "absent"}], [], ["VM b has state absent"]),
    ([{"name": "a"}], ["a"], ["vmstorage_destroy names a, which is no VM"]),
    ([{"name": "a", "state": "present"}], [], []),
])
def test_retiring_needs_both_the_state_and_the_name_in_vmstorage_destroy(vms, destroy, problems):
    found = unconfirmed_retirements(vms, destroy)
    assert len(found) == len(problems) and all(found[i].startswith(problems[i]) for i in range(len(problems))), found
