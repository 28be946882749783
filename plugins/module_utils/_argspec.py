# -*- coding: utf-8 -*-
# Copyright: contributors to vmstorage.gluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""PRIVATE to this collection: no API promise. Argument specs of modules with a list form.

Every module of this collection takes one request at the top level (``name: vm1``) or many in a
list option (``lvs: [{name: vm1}, {name: vm2}]``), whose items override the top-level values the
items share. :func:`list_form` builds both forms from one declaration of each per-item option.
"""

from __future__ import annotations

import copy


def list_form(items_option, item_key, per_item, shared=None, not_shared=(), single_only=(), item_rules=None):
    """The AnsibleModule keyword arguments (argument_spec, required_one_of, mutually_exclusive) of a
    module whose requests come one at the top level or many in ``items_option``.

    ``per_item``: option name -> spec, declared once; each is a top-level option (with its default,
    which items without it inherit) and an item suboption (without default: unset means "the
    top-level value"). ``item_key`` names one request (the VM's LV, mount point, volume): required
    in every item, and at the top level only without the list. ``not_shared``: per-item options
    that never make sense for every item at once (a device), so at the top level they exclude the
    list. ``shared``: top-level options only, shared by every item. ``single_only``: top-level
    options that exclude the list form (a danger flag names one request). ``item_rules``:
    AnsibleModule rules (mutually_exclusive, ...) checked on each item's own keys.
    """
    spec = {}
    item_options = {}
    for name, option in per_item.items():
        top = copy.deepcopy(option)
        top.pop("required", None)
        spec[name] = top
        item = copy.deepcopy(option)
        item.pop("default", None)
        if name == item_key:
            item["required"] = True
        item_options[name] = item
    spec.update(copy.deepcopy(shared or {}))
    items = dict(type="list", elements="dict", options=item_options)
    items.update(item_rules or {})
    spec[items_option] = items
    excluded = [item_key] + list(not_shared) + list(single_only)
    return dict(
        argument_spec=spec,
        required_one_of=[(item_key, items_option)],
        mutually_exclusive=[(name, items_option) for name in excluded],
    )
