# Copyright: contributors to vmstorage.gluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Draw bench/results.png and write docs/benchmark.md from bench/results.json alone.

Run by bench/run.py at the end of `make bench`; run it again by hand after editing the text here
(needs matplotlib: .build/bench/venv/bin/python bench/report.py).
"""

import json
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen first)

REPO = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))
RESULTS = os.path.join(REPO, "bench", "results.json")
PLOT = os.path.join(REPO, "bench", "results.png")
DOC = os.path.join(REPO, "docs", "benchmark.md")

PHASE_TITLES = {"check": "check mode (--check --diff) on fresh nodes", "converge": "first converge",
                "completion": "second converge after a failed first one", "rerun": "idempotent re-run"}
SIDE_COLOURS = {"A": "tab:blue", "B": "tab:orange"}
PHASE_STYLES = {"converge": ("-", "o"), "rerun": ("--", "s"), "check": (":", "^")}
# Issue 6's targets for side A.
REFERENCE_N = 4
SLOPE_FROM, SLOPE_TO = 4, 10
TARGET_CONVERGE_RATIO = 0.5
TARGET_RERUN_RATIO = 0.25
TARGET_CONVERGE_SLOPE = 5.0
TARGET_RERUN_SLOPE = 0.5
TARGET_EXISTENCE_CHECK = 1.0
TARGET_BENCH_MINUTES = 30
# A 1-minute load average below this when the bench starts: nothing else was running on the host.
QUIET_LOAD = 1.0
# Compared runs whose start loads differ by more than this (1-minute load average) get a caution.
LOAD_SPREAD_CAUTION = 2.0


def load():
    with open(RESULTS, encoding="utf-8") as handle:
        return json.load(handle)


def phase_of(results, side, size, phase):
    for run in results["runs"]:
        if run["side"] == side and run["vms"] == size:
            return run["phases"].get(phase)
    return None


def run_of(results, side, size):
    return next((run for run in results["runs"] if run["side"] == side and run["vms"] == size), None)


def number(value, digits=1):
    if value is None:
        return "—"
    return ("%%.%df" % digits) % value if isinstance(value, float) else str(value)


def ratio(a_value, b_value):
    if not isinstance(a_value, (int, float)) or not isinstance(b_value, (int, float)) or not b_value:
        return "—"
    return "%.2f" % (a_value / b_value)


def outcome(figures):
    if figures is None:
        return "not run"
    failed = figures["failed_hosts"]
    text = "rc %s, failed hosts %s" % (figures["rc"], len(failed) if failed is not None else "?")
    if figures.get("load_average_1min"):
        text += ", host load %.1f→%.1f" % tuple(figures["load_average_1min"])
    return ("**FAILED** " + text) if figures["failed"] else text


def rerun_outcome(figures):
    text = outcome(figures)
    if figures is not None and figures["changed"]:
        text += ", **not idempotent** (changed %s)" % figures["changed"]
    return text


# --- the plot -----------------------------------------------------------------------------------

def plot(results):
    figure, axes = plt.subplots(figsize=(8, 5), dpi=110)
    sizes = results["sizes"]
    failed_marked = False
    for side in results["sides"]:
        for phase in ("converge", "rerun", "check"):
            points = [(size, phase_of(results, side, size, phase)) for size in sizes]
            points = [(size, figures) for size, figures in points if figures is not None]
            if not points:
                continue
            line, marker = PHASE_STYLES[phase]
            axes.plot([point[0] for point in points], [point[1]["wall_seconds"] for point in points],
                      linestyle=line, marker=marker, color=SIDE_COLOURS[side],
                      label="%s %s" % (side, PHASE_TITLES[phase].split(" (", maxsplit=1)[0]))
            failures = [point for point in points if point[1]["failed"]]
            if failures:
                axes.scatter([point[0] for point in failures], [point[1]["wall_seconds"] for point in failures],
                             marker="x", s=120, color="red", zorder=5,
                             label=None if failed_marked else "run failed (rc ≠ 0)")
                failed_marked = True
    axes.set_xlabel("VMs (N)")
    axes.set_ylabel("wall time (s)")
    axes.set_xticks(sizes)
    axes.set_ylim(bottom=0)
    axes.set_title("A = vmstorage.gluster site, B = generic modules (3-node UML lab)")
    axes.grid(True, alpha=0.3)
    axes.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(PLOT)
    plt.close(figure)


# --- the document -------------------------------------------------------------------------------

def figures_table(results, phase):
    rows = ["| N | figure | A | B | A/B |", "|---|---|---:|---:|---:|"]
    for size in results["sizes"]:
        a_figures, b_figures = phase_of(results, "A", size, phase), phase_of(results, "B", size, phase)
        for label, key, digits in (("wall time (s)", "wall_seconds", 1), ("changed (sum over hosts)", "changed", 0),
                                   ("remote module calls", "remote_calls", 0)):
            a_value = a_figures.get(key) if a_figures else None
            b_value = b_figures.get(key) if b_figures else None
            rows.append("| %d | %s | %s | %s | %s |" % (
                size, label, number(a_value, digits), number(b_value, digits), ratio(a_value, b_value)))
        describe = rerun_outcome if phase == "rerun" else outcome
        rows.append("| %d | outcome | %s | %s | — |" % (size, describe(a_figures), describe(b_figures)))
        if phase == "converge":
            completions = [phase_of(results, side, size, "completion") for side in ("A", "B")]
            if any(completions):
                rows.append("| %d | second converge after the failed one (s), outcome | %s | %s | — |" % (
                    size, *("%s, %s" % (number(figures["wall_seconds"]), outcome(figures)) if figures else "—"
                            for figures in completions)))
    return "\n".join(rows)


def slope(results, phase):
    low, high = phase_of(results, "A", SLOPE_FROM, phase), phase_of(results, "A", SLOPE_TO, phase)
    if low is None or high is None:
        return None
    return (high["wall_seconds"] - low["wall_seconds"]) / (SLOPE_TO - SLOPE_FROM)


def converged(results, side, size):
    """Seconds until the site was converged (the first converge, plus the second when the first
    failed), the problems that keep it from comparing, and a note on how it was counted."""
    first = phase_of(results, side, size, "converge")
    if first is None:
        return None, ["%s N=%d not run" % (side, size)], ""
    if not first["failed"]:
        return first["wall_seconds"], [], ""
    second = phase_of(results, side, size, "completion")
    if second is None or second["failed"]:
        then = "no second run was made" if second is None else "so did the second run"
        return None, ["%s's first converge at N=%d failed, %s" % (side, size, then)], ""
    return (first["wall_seconds"] + second["wall_seconds"], [],
            "%s's first converge at N=%d failed: its time is that run plus the second run that completed it" % (side, size))


def first_converge_problems(results, side, sizes):
    problems = []
    for size in sizes:
        figures = phase_of(results, side, size, "converge")
        if figures is None or figures["failed"]:
            problems.append("%s's first converge at N=%d %s" % (side, size, "not run" if figures is None else "failed"))
    return problems


def rerun_problems(results, side, size):
    figures = phase_of(results, side, size, "rerun")
    if figures is None:
        return ["%s's re-run at N=%d not run" % (side, size)]
    if figures["failed"]:
        return ["%s's re-run at N=%d failed" % (side, size)]
    if figures["changed"]:
        return ["%s's re-run at N=%d changed %s" % (side, size, figures["changed"])]
    return converged(results, side, size)[1]


def verdict(value, limit, problems):
    if problems:
        return "undecided: " + "; ".join(problems)
    if value is None:
        return "not measured"
    return "**met**" if value <= limit else "**not met**"


def load_caution(results, runs):
    """A note when the compared runs started at very different host loads (a shared host)."""
    loads = [figures["load_average_1min"][0] for figures in (phase_of(results, *run) for run in runs)
             if figures and figures.get("load_average_1min")]
    if loads and max(loads) - min(loads) > LOAD_SPREAD_CAUTION:
        return "caution: the host's load at the start of the compared runs ranged from %.1f to %.1f" % (min(loads), max(loads))
    return ""


def targets(results):
    def rerun_wall(side, size):
        figures = phase_of(results, side, size, "rerun")
        return figures["wall_seconds"] if figures else None

    def quotient(a_value, b_value):
        return a_value / b_value if a_value is not None and b_value else None

    def with_notes(verdict_text, notes):
        return "; ".join([verdict_text] + [note for note in notes if note])

    a_converged, a_problems, a_note = converged(results, "A", REFERENCE_N)
    b_converged, b_problems, b_note = converged(results, "B", REFERENCE_N)
    converge_ratio = quotient(a_converged, b_converged)
    rerun_ratio = quotient(rerun_wall("A", REFERENCE_N), rerun_wall("B", REFERENCE_N))
    rerun_reference_problems = rerun_problems(results, "A", REFERENCE_N) + rerun_problems(results, "B", REFERENCE_N)
    slope_problems = first_converge_problems(results, "A", (SLOPE_FROM, SLOPE_TO))
    a_run = run_of(results, "A", 1)
    existence = a_run["existence_check_seconds"] if a_run else None
    converge_slope, rerun_slope = slope(results, "converge"), slope(results, "rerun")
    both_sides = ("A", "B")
    rows = [
        ("first converge at %d VMs ≤ %.2f × B" % (REFERENCE_N, TARGET_CONVERGE_RATIO), "%s × B" % number(converge_ratio, 2),
         with_notes(verdict(converge_ratio, TARGET_CONVERGE_RATIO, a_problems + b_problems),
                    [a_note, b_note, load_caution(results, [(side, REFERENCE_N, "converge") for side in both_sides])])),
        ("re-run at %d VMs ≤ %.2f × B" % (REFERENCE_N, TARGET_RERUN_RATIO), "%s × B" % number(rerun_ratio, 2),
         with_notes(verdict(rerun_ratio, TARGET_RERUN_RATIO, rerun_reference_problems),
                    [load_caution(results, [(side, REFERENCE_N, "rerun") for side in both_sides])])),
        ("each extra VM ≤ +%.0f s on the first converge (A, N=%d→%d)" % (TARGET_CONVERGE_SLOPE, SLOPE_FROM, SLOPE_TO),
         "%s s per VM" % number(converge_slope, 2),
         with_notes(verdict(converge_slope, TARGET_CONVERGE_SLOPE, slope_problems),
                    [load_caution(results, [("A", size, "converge") for size in (SLOPE_FROM, SLOPE_TO)])])),
        ("each extra VM ≤ +%.1f s on the re-run (A, N=%d→%d)" % (TARGET_RERUN_SLOPE, SLOPE_FROM, SLOPE_TO),
         "%s s per VM" % number(rerun_slope, 2),
         with_notes(verdict(rerun_slope, TARGET_RERUN_SLOPE, [problem for size in (SLOPE_FROM, SLOPE_TO)
                                                              for problem in rerun_problems(results, "A", size)]),
                    [load_caution(results, [("A", size, "rerun") for size in (SLOPE_FROM, SLOPE_TO)])])),
        ("image existence check ≤ %.0f s (A, 1 VM)" % TARGET_EXISTENCE_CHECK, "%s s" % number(existence, 2),
         verdict(existence, TARGET_EXISTENCE_CHECK, rerun_problems(results, "A", 1))),
        # the harness's own time: `make bench` adds the venvs and the lab image when they are not built yet
        ("whole `make bench` ≤ %d min" % TARGET_BENCH_MINUTES, "%s s of bench/run.py" % number(results.get("bench_seconds"), 0),
         with_notes(verdict(results.get("bench_seconds"), TARGET_BENCH_MINUTES * 60, []),
                    ["" if host_was_quiet(results) else "the host ran other work"])),
    ]
    lines = ["| target (issue 6) | measured | verdict |", "|---|---|---|"]
    lines += ["| %s | %s | %s |" % row for row in rows]
    return "\n".join(lines)


def existence_table(results):
    lines = ["| N | A: disk task (s) | A per VM (s) | B: `qemu-img info` task (s) | B per VM (s) |",
             "|---|---:|---:|---:|---:|"]
    for size in results["sizes"]:
        cells = []
        for side in ("A", "B"):
            run = run_of(results, side, size)
            seconds = run["existence_check_seconds"] if run else None
            cells += [number(seconds, 2), number(seconds / size if seconds is not None else None, 2)]
        lines.append("| %d | %s |" % (size, " | ".join(cells)))
    return "\n".join(lines)


def top_tasks(results, side, size, phase, count=6):
    figures = phase_of(results, side, size, phase)
    if not figures or not figures.get("tasks"):
        return "(not measured)"
    tasks = sorted(figures["tasks"], key=lambda task: task["seconds"], reverse=True)[:count]
    lines = ["| task | module | remote calls | seconds | share |", "|---|---|---:|---:|---:|"]
    total = figures["playbook_seconds"]
    for task in tasks:
        lines.append("| %s | `%s` | %d | %.1f | %.0f %% |" % (
            task["name"].replace("|", "\\|"), task["action"], task.get("remote_calls", 0), task["seconds"],
            100 * task["seconds"] / total))
    return "\n".join(lines)


def failures(results):
    lines = []
    for run in results["runs"]:
        for phase, figures in run["phases"].items():
            if figures["failed"]:
                lines.append("- %s, N=%d, %s (rc %s):" % (run["side"], run["vms"], PHASE_TITLES[phase], figures["rc"]))
                lines += ["  `%s`" % line.replace("`", "'") for line in figures.get("failure", [])[:3]]
    return "\n".join(lines) if lines else "None."


# How the two sides differ beyond their modules (the rows of "what is the same, what differs").
DIFFERENCES = (
    ("disk creation",
     "through a FUSE mount of the volume (vm_disk's default `access: fuse`); existence checked on that mount",
     "`qemu-img create` over gfapi (gluster:// URI); existence by `qemu-img info` over gfapi"),
    ("controller-side extras", "role argument validation, one access file per VM written on the controller", "none"),
    ("virt option group", "converged by the module with the other options",
     "a handler (`command`) on newly created volumes: gluster_volume would set a group again on every run"),
)


def differences(results):
    versions = results["versions"]
    a_versions, b_versions = versions["A"], versions["B"]
    rows = [
        ("controller", "ansible-core %s (repo `.venv`)" % a_versions["ansible_core"],
         "ansible-core %s (ansible %s in `.build/bench/venv`)" % (b_versions["ansible_core"], b_versions["ansible_package"])),
        ("collections", "%s; commit %s" % (listing(a_versions["collections"]), a_versions["commit"]),
         listing(b_versions["collections"])),
        ("playbook", "`%s`" % results["sides"]["A"]["playbook"], "`bench/generic.yml`"),
    ] + list(DIFFERENCES)
    return "\n".join(["| | A | B |", "|---|---|---|"] + ["| %s | %s | %s |" % row for row in rows])


def listing(versions):
    return ", ".join("%s %s" % item for item in versions.items())


def host_was_quiet(results):
    return results["machine"]["load_average_at_start"][0] < QUIET_LOAD


def load_paragraph(results):
    if host_was_quiet(results):
        return ("Nothing else ran on the host during this run (1-minute load average %.2f at the start): the load in\n"
                "each outcome row (before → after the run) is the lab's own." % results["machine"]["load_average_at_start"][0])
    return ("The host is shared with other work (2 cores): each outcome row gives the host's 1-minute load\n"
            "average before → after the run. Runs at a load far above 2 are slowed by the other work: on the\n"
            "project's shared development host two runs of this bench differed by up to 70 % in single\n"
            "figures. Compare runs at similar load, and re-run `make bench` on a quiet machine for firmer numbers.")


def machine_table(results):
    machine, guest = results["machine"], results["versions"]["guest"]
    loads = "load average at start %s, at end %s" % (
        ", ".join("%.2f" % value for value in machine["load_average_at_start"]),
        ", ".join("%.2f" % value for value in machine.get("load_average_at_end", [])))
    rows = [
        ("host CPU", "%s, %s cores (%s; %s)" % (machine["cpu"], machine["cpus"],
                                                "nothing else running" if host_was_quiet(results) else "shared with other work", loads)),
        ("host memory, OS, kernel", "%s GiB, %s, %s, Python %s" % (
            machine["memory_gib"], machine["os"], machine["kernel"], machine["python"])),
        ("lab", "3 User-mode Linux guests (1 GiB each, 2 × 8 GiB sparse data disks), one network namespace"),
        ("guest OS, kernel", "%s, UML %s" % (guest.get("os", "?"), guest.get("kernel", "?"))),
        ("guest tools", "; ".join(guest.get(key, "?") for key in ("glusterfs", "qemu_img", "btrfs_progs", "python"))
         + "; LVM " + guest.get("lvm", "?")),
    ]
    return "\n".join(["| | |", "|---|---|"] + ["| %s | %s |" % row for row in rows])


def document(results):
    biggest = max(results["sizes"])
    same = results["same_for_both"]
    vm_shape = results["vm_shape"]
    text = f"""# Benchmark: vmstorage.gluster against the generic modules

> **Generated by `make bench`** (bench/run.py measures, bench/report.py writes this file and
> bench/results.png from bench/results.json). Do not edit by hand: every number below is
> regenerated by `make bench`. This run: {results["started"]}, whole bench {number(results.get("bench_seconds"), 0)} s
> (lab up {number(results.get("lab_up_seconds"), 0)} s).

Side **A** is this collection's site (`vmstorage.gluster.site`, roles brick, volume and vm_disk,
driven by the `vmstorage_*` inventory variables). Side **B** is the same seed flow written with the
generic modules a user would otherwise stitch together ([bench/generic.yml](../bench/generic.yml)):
`ansible.builtin.package` and `service`, `community.general.lvg` and `lvol` (pool and thin LVs),
`community.general.filesystem`, `ansible.posix.mount`, `ansible.builtin.file`,
`gluster.gluster.gluster_volume`, and `ansible.builtin.command` for `gluster volume set … group virt`
and for `qemu-img info` (over gfapi, every node as volfile server) followed by `qemu-img create`
(gluster:// URI) where info failed.

For N = {", ".join(str(size) for size in results["sizes"])} VMs, each side gets freshly reset lab nodes
(`tests/lab/lab reset`: new roots, blank data disks), then three runs: check mode
(`--check --diff`) on the fresh nodes, the first converge, the idempotent re-run. Every VM is
shaped like the seed's example (demo/vars.yml): thin LV {vm_shape["brick_size"]} (virtually larger than
the lab's 8 GiB data disks), btrfs brick labelled after the VM, replica-3 volume, {vm_shape["disk_size"]}
{vm_shape["disk_format"]} disk image. Both sides read the very same variables file.

![wall time against N](../bench/results.png)

## What is the same, what differs

{differences(results)}

The same for both: the lab nodes (fresh after `lab reset`), the inventory and the variables file;
`ANSIBLE_PIPELINING={same["ANSIBLE_PIPELINING"]}`, `ANSIBLE_SSH_ARGS="{same["ANSIBLE_SSH_ARGS"]}"` (ssh
connection reuse; `lab reset` closes the masters, so every side starts cold), `ANSIBLE_FORKS={same["ANSIBLE_FORKS"]}`;
no fact gathering on either side; the same counting callback.

{load_paragraph(results)}

How the figures are taken: *wall time* is the whole `ansible-playbook` process as the harness sees
it (start-up included); *changed* is the play recap's changed count summed over the three nodes;
*remote module calls* come from [bench/callback_plugins/remote_calls.py](../bench/callback_plugins/remote_calls.py):
one per task result on a remote host, each loop item counting once; controller-only actions
(set_fact, debug, assert, meta, include/import, argument validation) and tasks delegated to
localhost do not count, a module that ran and answered "skipped" in check mode does.

## Machine and versions

{machine_table(results)}

## Results

### First converge

{figures_table(results, "converge")}

### Idempotent re-run

{figures_table(results, "rerun")}

### Check mode (`--check --diff`) on fresh nodes

{figures_table(results, "check")}

Failed runs and their first messages:

{failures(results)}

## Targets of issue 6

{targets(results)}

The existence check is timed inside the idempotent re-run by the callback: from the start of the
task that asks whether each VM's disk image exists to the start of the next task, i.e. what a run
pays for it (ssh round trip, module transfer, the check itself). For A that is the
`vmstorage.gluster.qemu_gluster_image` task (it reads each image's header on the node's own brick when
that brick is online and holds the file settled, no AFR mark, and otherwise mounts the volume over FUSE
and runs `qemu-img info` there), for B the `qemu-img info` command task (gfapi). Per VM = task time / N.

{existence_table(results)}

## Where the time goes ({biggest} VMs)

A, first converge:

{top_tasks(results, "A", biggest, "converge")}

A, re-run:

{top_tasks(results, "A", biggest, "rerun")}

B, first converge:

{top_tasks(results, "B", biggest, "converge")}

B, re-run:

{top_tasks(results, "B", biggest, "rerun")}

Task seconds run from a task's start to the next task's start (all hosts of the task); share is of
the playbook's own wall time. Every run's task list is in bench/results.json; the playbook logs of
the last bench are in `.build/bench/logs/`.
"""
    with open(DOC, "w", encoding="utf-8") as handle:
        handle.write(text)


def main():
    results = load()
    plot(results)
    document(results)


if __name__ == "__main__":
    main()
