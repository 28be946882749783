# -*- coding: utf-8 -*-
# Copyright: contributors to vmstorage.gluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment:
    """How the one-request and the list form of every node module behave (plugins/module_utils/_argspec.py)."""

    DOCUMENTATION = r"""
options: {}
notes:
  - "One request or many: the options of one request (one VM) are given at the top level, or as items of the list
    option (C(lvs), C(bricks), C(volumes), C(images) by module), where each item sets its own values and takes
    the top-level value of every option it leaves unset; a dict option (volume options) is merged key by key."
  - Every request of a run is checked and planned before anything changes, so one refused item leaves every item
    and the node unchanged, and the failure names the item. Then the items are applied in order.
  - With the list form the result holds RV(results), one per item in order, each what a one-request run returns,
    and RV(actions) lists the steps of all items once.
"""
