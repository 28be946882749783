# Copyright: contributors to vmstorage.gluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""make bench: this collection's site (side A) against the generic-module stack (side B) on the lab.

For every N of --sizes and each side, on freshly reset nodes: the site in check mode (--check
--diff), the first converge (run a second time, "completion", when it failed), the idempotent re-run. Every run's wall time, changed count (sum over
hosts), rc, failed hosts, remote module calls and per-task times (bench/callback_plugins) go into
bench/results.json with the machine and the versions; bench/report.py then draws bench/results.png
and writes docs/benchmark.md from that file alone.

    python3 bench/run.py [--sizes 1,4,10] [--sides A,B] [--commit REF] [--keep-lab]

Side A is the working tree (through .build/collections) unless --commit names a commit: then the
collection as committed there (git archive), so work in progress in the tree does not leak in.

Runs as root on the host; the lab (tests/lab/lab) and both sides' venvs must be installable
(`make bench` installs them). Python 3 standard library only.
"""

import argparse
import datetime
import glob
import json
import os
import platform
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))
LAB = os.path.join(REPO, "tests", "lab", "lab")
WORK = os.path.join(REPO, ".build", "bench")
LOGS = os.path.join(WORK, "logs")
RESULTS = os.path.join(REPO, "bench", "results.json")
REPORT = os.path.join(REPO, "bench", "report.py")
BENCH_VENV = os.path.join(WORK, "venv")
CALLBACKS = os.path.join(REPO, "bench", "callback_plugins")
PHASE_TIMEOUT = 1800  # one ansible-playbook run; far above the slowest seen (B, 10 VMs)

# One VM as demo/vars.yml has it (the seed's mapserver): thin LVs may be virtually larger than the
# lab's 8 GiB data disks, qed images are sparse.
VM_SHAPE = {"brick_size": "100G", "disk_size": "50G", "disk_format": "qed"}
COMMON_VARS = {
    "vmstorage_vg": "ThinGroup",
    "vmstorage_thinpool": "ThinData",
    "vmstorage_pvs": ["/dev/vdb"],
    "vmstorage_pool_size": "90%VG",
    "vmstorage_brick_root": "/srv",
    "vmstorage_brick_dir": "data",
    "vmstorage_qemu_uid": 64055,
    "vmstorage_qemu_gid": 64055,
    "vmstorage_access_files_dir": os.path.join(WORK, "access"),
}
# The same for both sides: pipelining (one ssh round trip per module), ssh connection reuse
# (ansible's default ssh_args, written out), 5 forks; both playbooks gather no facts.
SAME_FOR_BOTH = {
    "ANSIBLE_PIPELINING": "True",
    "ANSIBLE_SSH_ARGS": "-C -o ControlMaster=auto -o ControlPersist=60s",
    "ANSIBLE_FORKS": "5",
}
# What the harness itself needs: plain output for the logs, the counting callback.
HARNESS_ENV = {
    "ANSIBLE_NOCOLOR": "1",
    "ANSIBLE_FORCE_COLOR": "0",
    "ANSIBLE_CALLBACK_PLUGINS": CALLBACKS,
    "ANSIBLE_CALLBACKS_ENABLED": "remote_calls",
}
PHASES = (
    ("check", ["--check", "--diff"]),
    ("converge", []),
    ("rerun", []),
)


def committed_collection(commit):
    """A collections path holding vmstorage.gluster exactly as in `commit` (extracted once)."""
    root = os.path.join(WORK, "collection-" + commit)
    tree = os.path.join(root, "ansible_collections", "vmstorage", "gluster")
    if not os.path.isdir(tree):
        os.makedirs(tree + ".partial", exist_ok=True)
        archive = subprocess.run(["git", "-C", REPO, "archive", commit], capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", tree + ".partial"], input=archive, check=True)
        os.rename(tree + ".partial", tree)
    return root


def side_settings(commit):
    """How each side runs: its ansible-playbook, playbook and collection path."""
    bench_site_packages = glob.glob(os.path.join(BENCH_VENV, "lib", "python3*", "site-packages"))
    return {
        "A": {
            "title": "vmstorage.gluster (this collection)",
            "ansible_playbook": os.path.join(REPO, ".venv", "bin", "ansible-playbook"),
            "playbook": "vmstorage.gluster.site",
            "collections_path": committed_collection(commit) if commit else os.path.join(REPO, ".build", "collections"),
            # the module call that answers "does the disk image exist" (tasks timed by the callback)
            "existence_check": {"action": "vmstorage.gluster.qemu_gluster_image"},
        },
        "B": {
            "title": "generic modules (ansible 9: community.general, ansible.posix, gluster.gluster)",
            "ansible_playbook": os.path.join(BENCH_VENV, "bin", "ansible-playbook"),
            "playbook": os.path.join(REPO, "bench", "generic.yml"),
            # exactly the collections of the ansible package in the bench venv
            "collections_path": bench_site_packages[0] if bench_site_packages else "",
            "existence_check": {"name": "Look for the disk image of each VM"},
        },
    }


def log(message):
    print("[bench %s] %s" % (datetime.datetime.now().strftime("%H:%M:%S"), message), flush=True)


def lab(*args, capture=False):
    if capture:
        return subprocess.run([LAB] + list(args), capture_output=True, text=True, check=True).stdout
    subprocess.run([LAB] + list(args), check=True)
    return None


def output_of(argv):
    return subprocess.run(argv, capture_output=True, text=True, check=True).stdout.strip()


def first_line(text):
    return text.strip().splitlines()[0] if text.strip() else ""


def vars_file(size):
    """The inventory variables of N VMs (JSON is YAML), the same file for both sides."""
    variables = dict(COMMON_VARS, vmstorage_vms=[dict(VM_SHAPE, name="vm%02d" % number) for number in range(1, size + 1)])
    path = os.path.join(WORK, "vars-%d.json" % size)
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(variables, handle, indent=1)
    return path


def run_phase(side, settings, size, phase, extra_args, variables):
    """One ansible-playbook run inside the lab's namespace; returns its figures."""
    stem = "%s-%02d-%s" % (side, size, phase)
    calls_file = os.path.join(LOGS, stem + ".json")
    log_file = os.path.join(LOGS, stem + ".log")
    if os.path.exists(calls_file):
        os.unlink(calls_file)
    env = dict(os.environ, **SAME_FOR_BOTH, **HARNESS_ENV)
    env["ANSIBLE_COLLECTIONS_PATH"] = settings["collections_path"]
    env["BENCH_REMOTE_CALLS_FILE"] = calls_file
    argv = [LAB, "run", settings["ansible_playbook"], settings["playbook"], "-e", "@" + variables] + extra_args
    log("%s N=%d %s: %s" % (side, size, phase, " ".join(argv[2:])))
    # the host is shared: the load around each run says how far its time can be trusted
    load_before = os.getloadavg()[0]
    started = time.monotonic()
    with open(log_file, "w", encoding="utf-8") as output:
        try:
            rc = subprocess.run(argv, env=env, stdout=output, stderr=subprocess.STDOUT, check=False,
                                timeout=PHASE_TIMEOUT, cwd=REPO).returncode
        except subprocess.TimeoutExpired:
            rc = "timeout after %d s" % PHASE_TIMEOUT
    wall = round(time.monotonic() - started, 2)
    figures = {"wall_seconds": wall, "rc": rc, "load_average_1min": [round(load_before, 2), round(os.getloadavg()[0], 2)],
               "log": os.path.relpath(log_file, REPO)}
    if os.path.exists(calls_file):
        with open(calls_file, encoding="utf-8") as handle:
            calls = json.load(handle)
        figures.update({
            "changed": sum(host["changed"] for host in calls["recap"].values()),
            "failed_hosts": sorted(name for name, host in calls["recap"].items() if host["failures"] or host["unreachable"]),
            "remote_calls": calls["remote_calls"],
            "remote_calls_per_host": calls["remote_calls_per_host"],
            "playbook_seconds": calls["wall_seconds"],
            "tasks": calls["tasks"],
        })
    else:
        figures.update({"changed": None, "failed_hosts": None, "remote_calls": None, "tasks": []})
    figures["failed"] = rc != 0 or bool(figures["failed_hosts"])
    if figures["failed"]:
        figures["failure"] = failure_lines(log_file)
    log("%s N=%d %s: %.1f s rc=%s changed=%s remote calls=%s%s" % (
        side, size, phase, wall, rc, figures["changed"], figures["remote_calls"],
        " FAILED: " + figures["failure"][0] if figures["failed"] and figures["failure"] else ""))
    return figures


def failure_lines(log_file):
    """The play's own failure messages (fatal: … lines), shortened, for the record."""
    with open(log_file, encoding="utf-8", errors="replace") as handle:
        lines = [line.strip() for line in handle if line.startswith(("fatal:", "failed:", "ERROR!", "[ERROR]"))]
    return [line[:400] for line in lines[:6]]


def existence_check(settings, rerun):
    """Seconds of the task that checks whether the disk images exist, in an idempotent re-run."""
    wanted = settings["existence_check"]
    for task in rerun.get("tasks", []):
        if all(task.get(key) == value for key, value in wanted.items()):
            return task["seconds"]
    return None


def ansible_core_version(ansible_playbook):
    # first line: "ansible-playbook [core 2.19.14]"
    return first_line(output_of([ansible_playbook, "--version"])).split("core", 1)[-1].strip(" ]")


def collection_versions(collections_path, names):
    versions = {}
    for name in names:
        manifest = os.path.join(collections_path, "ansible_collections", *name.split("."), "MANIFEST.json")
        galaxy = os.path.join(collections_path, "ansible_collections", *name.split("."), "galaxy.yml")
        if os.path.exists(manifest):
            with open(manifest, encoding="utf-8") as handle:
                versions[name] = json.load(handle)["collection_info"]["version"]
        elif os.path.exists(galaxy):  # the working tree (A): galaxy.yml, no MANIFEST
            with open(galaxy, encoding="utf-8") as handle:
                versions[name] = next(line.split(":", 1)[1].strip() for line in handle if line.startswith("version:"))
    return versions


def versions(settings, commit):
    if commit:
        site = commit[:12] + " as committed"
    else:
        head = output_of(["git", "-C", REPO, "rev-parse", "--short=12", "HEAD"])
        dirty = output_of(["git", "-C", REPO, "status", "--porcelain", "--", "plugins", "roles", "playbooks"])
        site = head + (" + uncommitted changes in plugins/roles/playbooks" if dirty else "")
    bench_python = os.path.join(BENCH_VENV, "bin", "python")
    ansible_package = output_of([bench_python, "-c", "import importlib.metadata as m; print(m.version('ansible'))"])
    guest = lab("ssh", "node1", "--", GUEST_VERSIONS, capture=True)
    return {
        "A": {
            "ansible_core": ansible_core_version(settings["A"]["ansible_playbook"]),
            "collections": collection_versions(settings["A"]["collections_path"], ["vmstorage.gluster"]),
            "commit": site,
        },
        "B": {
            "ansible_core": ansible_core_version(settings["B"]["ansible_playbook"]),
            "ansible_package": ansible_package,
            "collections": collection_versions(settings["B"]["collections_path"],
                                               ["community.general", "ansible.posix", "gluster.gluster"]),
        },
        "guest": dict(line.split("=", 1) for line in guest.splitlines() if "=" in line),
    }


GUEST_VERSIONS = (
    'echo "kernel=$(uname -r)"; '
    'echo "glusterfs=$(glusterfs --version | head -n1)"; '
    'echo "qemu_img=$(qemu-img --version | head -n1)"; '
    'echo "lvm=$(lvm version | head -n1 | sed "s/^ *LVM version: *//")"; '
    'echo "btrfs_progs=$(btrfs --version | head -n1)"; '
    'echo "python=$(python3 --version)"; '
    'echo "os=Debian $(cat /etc/debian_version)"'
)


def machine():
    with open("/proc/cpuinfo", encoding="utf-8") as handle:
        models = [line.split(":", 1)[1].strip() for line in handle if line.startswith("model name")]
    with open("/proc/meminfo", encoding="utf-8") as handle:
        memory_kib = next(int(line.split()[1]) for line in handle if line.startswith("MemTotal:"))
    os_release = {}
    with open("/etc/os-release", encoding="utf-8") as handle:
        for line in handle:
            if "=" in line:
                key, value = line.rstrip("\n").split("=", 1)
                os_release[key] = value.strip('"')
    return {
        "cpu": models[0] if models else platform.processor(),
        "cpus": os.cpu_count(),
        "memory_gib": round(memory_kib / 1024 ** 2, 1),
        "os": os_release.get("PRETTY_NAME", ""),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "load_average_at_start": os.getloadavg(),
    }


def bench(sizes, sides, commit):
    os.makedirs(LOGS, exist_ok=True)
    started = time.monotonic()
    settings = side_settings(commit)
    results = {
        "generated_by": "make bench (bench/run.py)",
        "started": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": machine(),
        "sizes": sizes,
        "sides": {side: {key: settings[side][key] for key in ("title", "playbook")} for side in sides},
        "vm_shape": VM_SHAPE,
        "variables": {key: value for key, value in COMMON_VARS.items() if key != "vmstorage_access_files_dir"},
        "same_for_both": SAME_FOR_BOTH,
        "runs": [],
    }
    log("lab up")
    lab_started = time.monotonic()
    lab("up")
    results["lab_up_seconds"] = round(time.monotonic() - lab_started, 1)
    results["versions"] = versions(settings, commit)
    for size in sizes:
        variables = vars_file(size)
        for side in sides:
            log("%s N=%d: lab reset" % (side, size))
            reset_started = time.monotonic()
            lab("reset")
            run = {"side": side, "vms": size, "reset_seconds": round(time.monotonic() - reset_started, 1), "phases": {}}
            for phase, extra_args in PHASES:
                run["phases"][phase] = run_phase(side, settings[side], size, phase, extra_args, variables)
                if phase == "converge" and run["phases"][phase]["failed"]:
                    # what a user does next: run it again; the re-run after that then starts from
                    # a converged site (or shows that it is not)
                    run["phases"]["completion"] = run_phase(side, settings[side], size, "completion", [], variables)
            run["existence_check_seconds"] = existence_check(settings[side], run["phases"]["rerun"])
            results["runs"].append(run)
            write(results)  # a partial file survives an interrupted bench
    results["machine"]["load_average_at_end"] = os.getloadavg()
    results["bench_seconds"] = round(time.monotonic() - started, 1)
    write(results)
    return results


def write(results):
    with open(RESULTS, "w", encoding="utf-8") as handle:
        json.dump(results, handle, indent=1)
        handle.write("\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--sizes", default="1,4,10", help="numbers of VMs, comma-separated (default 1,4,10)")
    parser.add_argument("--sides", default="A,B", help="A (this collection), B (generic modules) or both")
    parser.add_argument("--commit", help="side A as committed in this commit (default: the working tree)")
    parser.add_argument("--keep-lab", action="store_true", help="leave the lab running at the end")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    sides = args.sides.split(",")
    commit = output_of(["git", "-C", REPO, "rev-parse", "--verify", args.commit + "^{commit}"]) if args.commit else None
    status = 0
    try:
        results = bench(sizes, sides, commit)
        subprocess.run([os.path.join(BENCH_VENV, "bin", "python"), REPORT], check=True)
        log("done in %.0f s: bench/results.json, bench/results.png, docs/benchmark.md" % results["bench_seconds"])
        # side A is this project: a failed run or a re-run that changes something is a defect
        broken = ["%s N=%d %s" % (run["side"], run["vms"], phase) for run in results["runs"] if run["side"] == "A"
                  for phase, figures in run["phases"].items()
                  if figures["failed"] or (phase == "rerun" and figures["changed"] != 0)]
        if broken:
            log("side A failed or was not idempotent: " + ", ".join(broken))
            status = 1
    finally:
        if not args.keep_lab:
            log("lab down")
            lab("down")
    return status


if __name__ == "__main__":
    sys.exit(main())
