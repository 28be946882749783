# -*- coding: utf-8 -*-
# Copyright: contributors to vmstorage.gluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The lab's image recipes (tests/lab/lab.py): variant (prebuilt | stock) and Debian suite from the
environment, what each image holds, what the stock image's local repository serves, where the mirror
comes from, and the inventory's login. Pure functions over files in a temporary directory; the lab
itself is proven by the molecule scenarios on real guests."""

from __future__ import annotations

import importlib.util
import os

import pytest
import yaml

LAB_PY = os.path.join(os.path.dirname(__file__), "..", "lab", "lab.py")
STORAGE = {"lvm2", "thin-provisioning-tools", "btrfs-progs", "xfsprogs", "glusterfs-server", "glusterfs-client",
           "qemu-utils", "qemu-block-extra"}
MIRROR = "http://mirror.invalid/debian"


@pytest.fixture(name="lab")
def fixture_lab(monkeypatch):
    for name in ("VMSTORAGE_LAB_IMAGE", "VMSTORAGE_LAB_SUITE", "VMSTORAGE_LAB_MIRROR"):
        monkeypatch.delenv(name, raising=False)
    spec = importlib.util.spec_from_file_location("vmstorage_lab", LAB_PY)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_recipe_defaults_to_prebuilt_bookworm(lab):
    assert lab.recipe() == ("prebuilt", "bookworm")


def test_recipe_from_the_environment(lab, monkeypatch):
    monkeypatch.setenv("VMSTORAGE_LAB_IMAGE", "stock")
    monkeypatch.setenv("VMSTORAGE_LAB_SUITE", "trixie")
    assert lab.recipe() == ("stock", "trixie")


@pytest.mark.parametrize("variable, value", [("VMSTORAGE_LAB_IMAGE", "cloud"), ("VMSTORAGE_LAB_SUITE", "sid")])
def test_unknown_recipe_is_refused_naming_it(lab, monkeypatch, variable, value):
    monkeypatch.setenv(variable, value)
    with pytest.raises(lab.LabError, match="%s='%s': want one of" % (variable, value)):
        lab.recipe()


def test_every_variant_and_suite_has_its_own_image(lab):
    digests = {(variant, suite): lab.recipe_digest(variant, suite) for variant in lab.VARIANTS for suite in lab.SUITES}
    assert len(set(digests.values())) == 4, digests
    assert digests == {key: lab.recipe_digest(*key) for key in digests}  # stable


def test_the_stock_image_hash_covers_what_the_repository_serves(lab, tmp_path, monkeypatch):
    before = {variant: lab.recipe_digest(variant, "bookworm") for variant in lab.VARIANTS}
    vars_file = tmp_path / "main.yml"
    vars_file.write_text("__brick_packages:\n  - lvm2\n  - nfs-common\n")
    monkeypatch.setattr(lab, "BRICK_VARS", (str(tmp_path / "Debian.yml"), str(vars_file)))
    assert lab.recipe_digest("stock", "bookworm") != before["stock"]
    assert lab.recipe_digest("prebuilt", "bookworm") == before["prebuilt"]


def test_stock_has_no_storage_package_prebuilt_has_them_all(lab):
    stock, prebuilt = lab.guest_packages("stock"), lab.guest_packages("prebuilt")
    assert not STORAGE & set(stock), stock
    assert STORAGE <= set(prebuilt) and set(stock) <= set(prebuilt)
    assert {"openssh-server", "python3", "sudo", "systemd-sysv"} <= set(stock)
    assert len(prebuilt) == len(set(prebuilt))


def test_repository_serves_the_brick_role_s_packages_and_the_extras(lab):
    # the role's own list, as the role reads it
    for name in ("Debian.yml", "main.yml"):
        path = os.path.join(os.path.dirname(LAB_PY), "..", "..", "roles", "brick", "vars", name)
        if os.path.exists(path):
            with open(path, encoding="utf-8") as handle:
                role = yaml.safe_load(handle)["__brick_packages"]
            break
    assert lab.repo_packages() == role + [p for p in ("openssl", "xfsprogs") if p not in role]


def test_repository_list_prefers_vars_debian(lab, tmp_path):
    debian, main = tmp_path / "Debian.yml", tmp_path / "main.yml"
    main.write_text("__brick_packages:\n  - from-main\n")
    assert lab.repo_packages((str(debian), str(main))) == ["from-main", "openssl", "xfsprogs"]
    debian.write_text("---\n# the list\n__brick_packages:\n  - lvm2  # thin pools\n\n  - xfsprogs\nother: 1\n")
    assert lab.repo_packages((str(debian), str(main))) == ["lvm2", "xfsprogs", "openssl"]


def test_repository_list_missing_or_unreadable_is_refused(lab, tmp_path):
    with pytest.raises(lab.LabError, match="none of"):
        lab.repo_packages((str(tmp_path / "Debian.yml"),))
    flow = tmp_path / "main.yml"
    flow.write_text("__brick_packages: [lvm2]\n")
    with pytest.raises(lab.LabError, match="no __brick_packages list"):
        lab.repo_packages((str(flow),))


def deb822(tmp_path, text):
    (tmp_path / "sources.list.d").mkdir(exist_ok=True)
    (tmp_path / "sources.list.d" / "debian.sources").write_text(text)
    return str(tmp_path)


def test_trixie_uses_the_mirror_of_the_host_s_bookworm_source(lab, tmp_path):
    apt = deb822(tmp_path, "Types: deb\nURIs: %s\nSuites: bookworm bookworm-updates\nComponents: main\n\n"
                           "Types: deb\nURIs: http://security.invalid/debian-security\nSuites: bookworm-security\n" % MIRROR)
    assert lab.find_mirror("trixie", apt) == MIRROR
    assert lab.find_mirror("bookworm", apt) == MIRROR


def test_a_source_for_the_suite_itself_wins(lab, tmp_path):
    apt = deb822(tmp_path, "Types: deb\nURIs: %s\nSuites: bookworm\n" % MIRROR)
    (tmp_path / "sources.list").write_text("deb [arch=amd64] http://other.invalid/debian trixie main\n")
    assert lab.find_mirror("trixie", apt) == "http://other.invalid/debian"


def test_one_line_sources_and_disabled_stanzas(lab, tmp_path):
    apt = deb822(tmp_path, "Enabled: no\nTypes: deb\nURIs: http://disabled.invalid/debian\nSuites: bookworm\n\n"
                           "Types: deb-src\nURIs: http://src.invalid/debian\nSuites: bookworm\n")
    (tmp_path / "sources.list").write_text("# deb http://comment.invalid/debian bookworm main\ndeb %s bookworm main\n" % MIRROR)
    assert lab.find_mirror("trixie", apt) == MIRROR


def test_mirror_override_and_no_source(lab, tmp_path, monkeypatch):
    with pytest.raises(lab.LabError, match="no 'deb' source for trixie or bookworm"):
        lab.find_mirror("trixie", str(tmp_path))
    monkeypatch.setenv("VMSTORAGE_LAB_MIRROR", MIRROR)
    assert lab.find_mirror("trixie", str(tmp_path)) == MIRROR


def test_installed_packages_from_the_dpkg_status(lab, tmp_path):
    status = tmp_path / "var" / "lib" / "dpkg"
    status.mkdir(parents=True)
    (status / "status").write_text("Package: lvm2\nStatus: deinstall ok config-files\n\n"
                                   "Package: sudo\nStatus: install ok installed\nVersion: 1\n\n"
                                   "Package: btrfs-progs\nStatus: install ok unpacked\n")
    assert lab.installed_packages(str(tmp_path)) == {"sudo"}


def test_readiness_stock_waits_for_sshd_prebuilt_for_glusterd(lab):
    assert lab.READINESS["stock"][0] == "true"
    assert "gluster" in lab.READINESS["prebuilt"][0]


def test_inventory_logs_in_as_admin_without_become(lab, tmp_path, monkeypatch):
    monkeypatch.setenv("VMSTORAGE_LAB", "unitrecipe")
    monkeypatch.setenv("VMSTORAGE_LAB_SUBNET", "10.77.3.0/24")
    monkeypatch.setenv("VMSTORAGE_LAB_DIR", str(tmp_path))
    this = lab.Lab()
    this.inventory = str(tmp_path / "inventory.yml")
    lab.write_inventory(this)
    with open(this.inventory, encoding="utf-8") as handle:
        group = yaml.safe_load(handle)["all"]["children"]["gluster_nodes"]
    assert group["vars"]["ansible_user"] == "admin"
    assert not any(key.startswith("ansible_become") for key in group["vars"])
    assert group["hosts"]["node2"]["ansible_host"] == "10.77.3.12"
