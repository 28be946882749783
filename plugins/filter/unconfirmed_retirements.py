# -*- coding: utf-8 -*-
# Copyright: contributors to vmstorage.gluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The one rule of retiring a VM, for every role: a VM entry with ``state: absent`` destroys its data on every
node, so its name must also be in vmstorage_destroy (a second, explicit confirmation), and every name there must
be such a VM (a typo there must not pass as a confirmation of nothing)."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError


def unconfirmed_retirements(vms, destroy):
    """One message per broken pair of VMS (vmstorage_vms) and DESTROY (vmstorage_destroy); empty when they agree."""
    if not isinstance(vms, (list, tuple)) or not isinstance(destroy, (list, tuple)):
        raise AnsibleFilterError("unconfirmed_retirements takes the VM list and a list of names, found %r and %r" % (vms, destroy))
    retired = [str(vm.get("name")) for vm in vms if isinstance(vm, dict) and vm.get("state", "present") == "absent"]
    confirmed = [str(name) for name in destroy]
    messages = ["VM %s has state absent, which destroys its volume, brick filesystems and thin LVs on every node, but is not "
                "in vmstorage_destroy: add it there to confirm, or remove state absent to keep it" % name
                for name in retired if name not in confirmed]
    messages += ["vmstorage_destroy names %s, which is no VM of vmstorage_vms with state absent: remove it there, or mark "
                 "that VM state absent" % name for name in confirmed if name not in retired]
    return messages


class FilterModule:
    def filters(self):
        return {"unconfirmed_retirements": unconfirmed_retirements}
