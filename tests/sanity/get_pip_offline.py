# -*- coding: utf-8 -*-
# Copyright: contributors to vmstorage.gluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Offline stand-in for the get-pip.py bootstrap script that ansible-test downloads.

ansible-test creates its sanity virtual environments without pip and fetches a bootstrap script
from a host that is not reachable from our build machines (only the package index is). This
script does the same job from what Python ships: pip from the stdlib's bundled wheel, then a pip
install of exactly what ansible-test asked for (e.g. ``pip==24.2``) from the package index.
The Makefile copies it to ~/.ansible/test/cache/get_pip_<version>.py, where ansible-test looks.
"""

from __future__ import annotations

import ensurepip
import os
import ssl
import subprocess
import sys

# get-pip.py options with no `pip install` equivalent: setuptools and wheel are not installed
# by ensurepip anyway.
GET_PIP_ONLY_OPTIONS = {"--no-setuptools", "--no-wheel"}

ensurepip.bootstrap(upgrade=True)
pip_args = [arg for arg in sys.argv[1:] if arg not in GET_PIP_ONLY_OPTIONS]
# ansible-test hides pip's config files (PIP_CONFIG_FILE=/dev/null), and the bundled pip trusts
# only its own CA list: point it at the system's OpenSSL bundle, as pip >= 24.2 does by itself.
system_ca_bundle = ssl.get_default_verify_paths().openssl_cafile
if os.path.isfile(system_ca_bundle):
    pip_args = ["--cert", system_ca_bundle] + pip_args
sys.exit(subprocess.call([sys.executable, "-m", "pip", "install"] + pip_args))
