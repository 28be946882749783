# SPDX-License-Identifier: GPL-3.0-or-later
"""Run the molecule scenarios of `make test` as streams, each stream on a lab of its own, all at once.

    python3 tests/streams.py --base NAME --scenarios "a b c ..." --stream x+y --stream z \
        [--stock-scenarios "default"] [--stock-suites "bookworm trixie"] [--checks "sanity lint units"]

A stream is a list of scenarios run one after the other on one prebuilt lab (`NAME-1`, `NAME-2`, …);
each stock suite is a stream of the stock scenarios on a stock lab of that suite (`NAME-bookworm`, …);
--checks are make targets that need no lab (sanity, lint, units), run one after the other in a stream
of their own beside the labs' streams.
A scenario of --scenarios that no stream names joins the shortest stream, so a new scenario cannot be
skipped by forgetting it here. The labs are UML guests that wait on each other (glusterd, ssh, disks)
far more than they compute: on the 2-core machine five streams at once end in about half the time
one after the other takes (docs/lab.md, "Running scenarios at once").

Every stream writes its phases (tests/phase: .build/phases/<phase>.log) into .build/phases/<stream>.out,
printed whole when the stream ends; the last lines are every phase's timing. Exit 1 when a phase
failed, 130 on SIGINT/SIGTERM (every stream's process group is ended and every lab brought down).
"""
import argparse
import os
import re
import signal
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LAB = os.path.join(ROOT, "tests", "lab", "lab")
PHASE = os.path.join(ROOT, "tests", "phase")
BUILD = os.path.join(ROOT, ".build")
MOLECULE = os.path.join(ROOT, ".venv", "bin", "molecule")


def plan(scenarios, streams, stock_scenarios, stock_suites, base):
    """[(stream name, lab name, extra environment, [scenario, ...])], pure."""
    named = [s for stream in streams for s in stream]
    for scenario in named + stock_scenarios:
        if scenario not in scenarios:
            raise SystemExit("streams: no molecule scenario %r (molecule/%s/molecule.yml)" % (scenario, scenario))
    prebuilt = [list(stream) for stream in streams]
    stock = stock_scenarios if stock_suites else []
    for scenario in scenarios:
        if scenario not in named and scenario not in stock:
            min(prebuilt, key=len).append(scenario)
    result = [("stream-%d" % (i + 1), "%s-%d" % (base, i + 1), {}, stream)
              for i, stream in enumerate(prebuilt) if stream]
    for suite in stock_suites:
        result.append(("stock-%s" % suite, "%s-%s" % (base, suite),
                       {"VMSTORAGE_LAB_IMAGE": "stock", "VMSTORAGE_LAB_SUITE": suite,
                        # both stock streams run the same scenario: each needs its own molecule state
                        "MOLECULE_EPHEMERAL_DIRECTORY": os.path.join(BUILD, "molecule", "stock-" + suite)},
                       list(stock)))
    return result


def stream_script(name, scenarios, suffix):
    """The shell of one stream: lab up, its scenarios (stop at the first failure), lab down."""
    phases = ["%s lab-up-%s %s up" % (PHASE, name, LAB)]
    for scenario in scenarios:
        phases.append("%s molecule-%s%s %s run %s test -s %s" % (PHASE, scenario, suffix, LAB, MOLECULE, scenario))
    body = " && ".join(phases)
    return "rc=0; { %s; } || rc=1; %s lab-down-%s %s down || rc=1; exit $rc" % (body, PHASE, name, LAB)


def checks_script(checks):
    """The shell of the checks stream: each make target a phase, all of them run (each failure is reported)."""
    return "rc=0; " + " ".join("%s %s make --no-print-directory %s || rc=1;" % (PHASE, check, check) for check in checks) \
        + " exit $rc"


def failure_reasons(text, lines=8, width=300):
    """The last lines of each failed phase's "why it failed" section (tests/phase), shortened."""
    reasons = []
    for phase, body in re.findall(r"^==> phase (\S+): why it failed[^\n]*\n(.*?)^==> phase \1: FAILED", text, re.M | re.S):
        reasons += ["%s: %s" % (phase, line[:width]) for line in body.splitlines()[-lines:] if line.strip()]
    return reasons


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="lab")
    parser.add_argument("--scenarios", required=True)
    parser.add_argument("--stream", action="append", default=[])
    parser.add_argument("--stock-scenarios", default="")
    parser.add_argument("--stock-suites", default="")
    parser.add_argument("--checks", default="")
    args = parser.parse_args()
    base = args.base[:11]
    streams = plan(args.scenarios.split(), [s.replace("+", " ").split() for s in args.stream], args.stock_scenarios.split(),
                   args.stock_suites.split(), base)
    os.makedirs(os.path.join(BUILD, "phases"), exist_ok=True)
    running = {}
    checks = args.checks.split()
    for name, lab, extra, scenarios in streams + ([("checks", None, {}, checks)] if checks else []):
        env = dict(os.environ, **extra)
        if lab:
            env["VMSTORAGE_LAB"] = lab
            suffix = "" if name.startswith("stream-") else "-" + name
            script = stream_script(name, scenarios, suffix)
        else:
            script = checks_script(scenarios)
        os.makedirs(extra.get("MOLECULE_EPHEMERAL_DIRECTORY", BUILD), exist_ok=True)
        out_path = os.path.join(BUILD, "phases", name + ".out")
        out = open(out_path, "w", encoding="utf-8")  # pylint: disable=consider-using-with
        print("==> %s%s: %s" % (name, " on lab " + lab if lab else "", " ".join(scenarios)), flush=True)
        # stdin: a /dev/null of its own. A process of one stream (ssh killed by a fault test) can leave the file
        # description it got as stdin non-blocking, and ansible refuses to start on such a stdin
        proc = subprocess.Popen(["bash", "-c", script], cwd=ROOT, env=env,
                                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        running[proc.pid] = (name, lab, proc, out, out_path, time.monotonic())
        # the labs' first `up` may build an image: one start at a time lets the first build it for all
        if lab:
            time.sleep(5)

    def stop(signum, _frame):
        for _name, _lab, proc, _out, _path, _start in running.values():
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for _name, lab, _proc, _out, _path, _start in streams_by_lab.values():
            if lab:
                subprocess.run([LAB, "down"], env=dict(os.environ, VMSTORAGE_LAB=lab), check=False)
        sys.exit(128 + signum)

    streams_by_lab = dict(running)
    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    failed, reasons = [], []
    timings = []
    while running:
        pid, status = os.wait()
        if pid not in running:
            continue
        name, lab, proc, out, out_path, start = running.pop(pid)
        out.close()
        rc = os.waitstatus_to_exitcode(status)
        proc.returncode = rc
        with open(out_path, encoding="utf-8", errors="replace") as handle:
            text = handle.read()
        print("\n######## %s%s: %s after %d s ########" % (
            name, " (lab %s)" % lab if lab else "", "passed" if rc == 0 else "FAILED", time.monotonic() - start), flush=True)
        sys.stdout.write(text)
        sys.stdout.flush()
        timings += ["%-9s %s" % (name, line) for line in re.findall(r"^==> phase \S+: (?:passed|FAILED).*$", text, re.M)]
        if rc != 0:
            failed.append(name)
            reasons += [(name, why) for why in failure_reasons(text)]
    print("\n==> streams, phase by phase:")
    print("\n".join(timings))
    if failed:
        # a CI log is often read from its last lines only: why each failed phase failed comes last, briefly
        for name, why in reasons:
            print("==> %s: %s" % (name, why))
        print("==> streams FAILED: %s" % " ".join(failed))
        return 1
    print("==> streams: all passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
