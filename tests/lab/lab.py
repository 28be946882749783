# Copyright: contributors to vmstorage.gluster
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""vmstorage.gluster test lab: three User-mode Linux guests (node1..node3) in a private network
namespace. See docs/lab.md.

    lab up            build the guest image once (cached), boot node1..node3, wait until ready
    lab down          stop everything the lab made, then prove nothing is left (check-clean)
    lab reset         fresh roots and blank data disks on every node, guests booted and ready
    lab run CMD...    run a controller command (ansible-playbook, molecule, pytest) in the lab netns
    lab ssh NODE [CMD...]
    lab stop NODE     pull the plug on one node (SIGKILL its guest processes; its disks stay)
    lab start NODE    boot a stopped node again on its own disks, wait for sshd and glusterd
    lab replace-disk NODE DISK
                      a stopped node's data disk (vdb, vdc) swapped for a new blank one
    lab inventory     print the Ansible inventory path
    lab status        each node, PID, address, up/down
    lab check-clean   prove no process, link, namespace, mount or loop device of the lab is left

Environment: VMSTORAGE_LAB (lab name, default "lab"), VMSTORAGE_LAB_DIR (state base,
default /var/tmp/vmstorage-lab), VMSTORAGE_LAB_CACHE (image cache, default
/var/cache/vmstorage-lab), VMSTORAGE_LAB_SUBNET (e.g. 10.77.3.0/24; default derived from the name),
VMSTORAGE_LAB_MIRROR (Debian mirror; default taken from the host's apt sources),
VMSTORAGE_LAB_BOOT_TIMEOUT (seconds, default 300), VMSTORAGE_LAB_IMAGE (prebuilt | stock, default
prebuilt), VMSTORAGE_LAB_SUITE (bookworm | trixie, default bookworm).
Python 3 standard library only.
"""
import contextlib
import errno
import fcntl
import glob
import hashlib
import inspect
import json
import os
import pwd
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
import uuid

HERE = os.path.dirname(os.path.realpath(__file__))
GUEST_DIR = os.path.join(HERE, "guest")
REPO_ROOT = os.path.dirname(os.path.dirname(HERE))
# The image recipes (VMSTORAGE_LAB_IMAGE): "prebuilt" has every storage tool and glusterd running at
# boot (what the scenarios that do not test installation run on); "stock" is what a minimal Debian
# server install has, plus a local apt repository with what the site installs.
VARIANTS = ("prebuilt", "stock")
SUITES = ("bookworm", "trixie")  # VMSTORAGE_LAB_SUITE: Debian 12, Debian 13
HOST_SUITE = "bookworm"  # the host's apt sources list this suite only; its mirror serves the others too
# The stock image's local apt repository: what the brick role installs (its vars file), these too.
BRICK_VARS = (os.path.join(REPO_ROOT, "roles", "brick", "vars", "Debian.yml"),
              os.path.join(REPO_ROOT, "roles", "brick", "vars", "main.yml"))
REPO_EXTRA_PACKAGES = ("openssl", "xfsprogs")  # TLS; xfs bricks
REPO_MOUNT = "/var/lib/vmsg-repo"  # where a stock guest mounts the repository (its only apt source)
ADMIN = "admin"  # the sudo user the inventory logs in as (root login keeps working for the tests)
NODES = ("node1", "node2", "node3")
DISKS = ("vdb", "vdc")  # ubd1, ubd2 in the guest -> ubdb, ubdc -> /dev/vdb, /dev/vdc (udev rule)
DISK_SIZE = 8 * 1024 ** 3
IMAGE_SIZE = "4G"
GUEST_MEM = "1024M"
UML_MODULES = "/usr/lib/uml/modules"
# Guest paths inside the lab's hostfs root (kernel parameter hostfs=<state>/hostfs): every hostfs
# mount of a guest is relative to it; vmsg-early and vmsg-identity mount these read-only.
HOSTFS_MODULES = "/modules"
HOSTFS_SEED = "/seed"
HOSTFS_REPO = "/repo"
BRIDGE = "vmsg-br"
HOST_PACKAGES = ("user-mode-linux", "uml-utilities", "debootstrap", "debian-archive-keyring",
                 "e2fsprogs", "iproute2", "openssh-client", "util-linux", "ca-certificates", "gcc", "libc6-dev",
                 # apt-ftparchive indexes the stock image's local repository
                 "apt-utils",
                 # a gluster client outside the storage nodes, on the controller side of the namespace
                 "glusterfs-client")
GLOBAL_LOCK = "/run/vmstorage-lab.lock"  # serialises `ip netns add/del` and the /run/netns mount
NETNS_MOUNT_MARKER = "/run/vmstorage-lab.netns-mount"  # a lab made the /run/netns bind mount
# `ip netns exec NS` bind-mounts /etc/netns/NS/hosts over /etc/hosts: inside the namespace the
# controller resolves node1..3 as the guests do (gluster clients need the brick host names).
NETNS_ETC = "/etc/netns"
SAFE_PATH = re.compile(r"/[A-Za-z0-9_./+-]*")
T0 = time.monotonic()


class LabError(Exception):
    pass


# --------------------------------------------------------------------------------------------
# configuration, logging, small helpers


class Lab:
    def __init__(self):
        self.name = os.environ.get("VMSTORAGE_LAB") or "lab"
        self.variant, self.suite = recipe()
        if not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,19}", self.name):
            raise LabError("VMSTORAGE_LAB=%r: use 1-20 of [a-z0-9-]" % self.name)
        self.netns = "vmsg-" + self.name
        self.base = os.path.abspath(os.environ.get("VMSTORAGE_LAB_DIR") or "/var/tmp/vmstorage-lab")
        self.state = os.path.join(self.base, self.name)
        self.cache = os.path.abspath(os.environ.get("VMSTORAGE_LAB_CACHE") or "/var/cache/vmstorage-lab")
        for p in (self.state, self.cache):
            if not SAFE_PATH.fullmatch(p):
                raise LabError("path %r: only [A-Za-z0-9_./+-] allowed (it goes on kernel command lines)" % p)
        if len(self.state) > 80:
            raise LabError("state dir %s is too long for unix socket paths" % self.state)
        self.prefix = subnet_prefix(self.name)
        self.gateway = self.prefix + ".1"
        self.log_path = os.path.join(self.state, "lab.log")
        self.state_file = os.path.join(self.state, "state.json")
        self.inventory = os.path.join(self.state, "inventory.yml")
        self.ssh_config = os.path.join(self.state, "ssh_config")
        self.known_hosts = os.path.join(self.state, "known_hosts")
        self.connect = os.path.join(self.state, "connect.py")
        self.cp_dir = os.path.join(self.state, "cp")
        self.netns_etc = os.path.join(NETNS_ETC, self.netns)
        self.uml_dir = os.path.join(self.state, "uml")
        self.hostfs = os.path.join(self.state, "hostfs")
        self.jail = os.path.join(self.state, "jail")  # mount point of each guest's private jail tmpfs
        self.key = os.path.join(self.cache, "ssh", "id_ed25519")
        self._log = None
        self.trusted = False  # set by secure(): nothing is written before the dirs are checked

    def ip(self, node):
        return "%s.%d" % (self.prefix, 10 + NODES.index(node) + 1)

    def mac(self, node):
        a, b = self.prefix.split(".")[1:3]
        return "02:76:6d:%02x:%02x:%02x" % (int(a), int(b), NODES.index(node) + 1)

    def node_dir(self, node):
        return os.path.join(self.state, node)

    def node_uml_dir(self, node):
        """uml_dir= of one guest (its pid file and mconsole socket are in <this>/<node>/)."""
        return os.path.join(self.uml_dir, node)

    def mconsole(self, node):
        return os.path.join(self.node_uml_dir(node), node, "mconsole")

    def seed_dir(self, node):
        return os.path.join(self.hostfs, HOSTFS_SEED.lstrip("/"), node)

    # logging -----------------------------------------------------------------------------
    def log(self, msg):
        if self._log is None:
            if not self.trusted or not os.path.isdir(self.state):
                return
            self._log = open_nofollow(self.log_path, os.O_APPEND, "a", buffering=1)
        self._log.write("%s [%d] %s\n" % (time.strftime("%Y-%m-%d %H:%M:%S"), os.getpid(), msg))

    def logfile(self):
        self.log("")
        return self._log

    def progress(self, msg):
        line = "[%s %5.1fs] %s" % (self.name, time.monotonic() - T0, msg)
        print(line, flush=True)
        self.log(line)

    def run(self, cmd, check=True, timeout=120, stream=False, quiet=False):
        """Run argv; output goes to the log (stream=True: straight into the log file)."""
        self.log("$ " + " ".join(cmd))
        try:
            if stream:
                p = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=self.logfile(),
                                   stderr=subprocess.STDOUT, timeout=timeout, check=False)
                out = ""
            else:
                p = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, timeout=timeout, text=True, check=False)
                out = p.stdout
                if out and not quiet:
                    self.log(out.rstrip("\n"))
        except subprocess.TimeoutExpired:
            raise LabError("timed out after %ss: %s" % (timeout, " ".join(cmd)))
        except FileNotFoundError:
            raise LabError("command not found: %s" % cmd[0])
        if p.returncode != 0:
            self.log("-> rc %d" % p.returncode)
            if check:
                tail = ("\n" + out.strip()[-800:]) if out.strip() else ""
                raise LabError("failed (rc %d): %s%s\n(log: %s)" % (p.returncode, " ".join(cmd), tail, self.log_path))
        return p.returncode, out

    # network namespace -----------------------------------------------------------------------
    def netns_path(self):
        return "/run/netns/" + self.netns

    def netns_id(self):
        try:
            st = os.stat(self.netns_path())
        except OSError:
            return None
        return [st.st_dev, st.st_ino]

    def inside(self):
        nid = self.netns_id()
        return nid is not None and nid == ns_id_of("self")

    def in_ns(self, cmd):
        return list(cmd) if self.inside() else ["ip", "netns", "exec", self.netns] + list(cmd)

    def ssh_cmd(self, node, *remote, timeout=None):
        cmd = ["ssh", "-F", self.ssh_config]
        if timeout:
            cmd += ["-o", "ConnectTimeout=%d" % timeout]
        return self.in_ns(cmd + [node] + list(remote))

    def env(self):
        env = dict(os.environ)
        st = self.load()  # what the running lab was built from, not what the caller's env asks for
        env.update({
            "VMSTORAGE_LAB_IMAGE": st.get("variant") or "prebuilt",
            "VMSTORAGE_LAB_SUITE": st.get("suite") or "bookworm",
            "VMSTORAGE_LAB": self.name,
            "VMSTORAGE_LAB_DIR": self.base,
            "VMSTORAGE_LAB_STATE_DIR": self.state,
            "VMSTORAGE_LAB_CACHE": self.cache,
            "VMSTORAGE_LAB_NETNS": self.netns,
            "VMSTORAGE_LAB_INVENTORY": self.inventory,
            "VMSTORAGE_LAB_SSH_CONFIG": self.ssh_config,
            "VMSTORAGE_LAB_SSH_KEY": self.key,
            "ANSIBLE_INVENTORY": self.inventory,
            "ANSIBLE_HOST_KEY_CHECKING": "True",
            "ANSIBLE_SSH_CONTROL_PATH_DIR": self.cp_dir,
        })
        return env

    # state -----------------------------------------------------------------------------------
    def load(self):
        try:
            with open(self.state_file) as f:
                return json.load(f)
        except (OSError, ValueError):
            return {}

    def save(self, st):
        write_file(self.state_file, json.dumps(st, indent=1, sort_keys=True))

    def secure(self):
        """Create (or accept) the state base, this lab's state dir and the cache only when they
        are safe: root runs and reads files there (connect.py as ssh ProxyCommand, the image)."""
        for path, what in ((self.base, "VMSTORAGE_LAB_DIR (state base)"), (self.state, "the lab's state dir"),
                           (self.cache, "VMSTORAGE_LAB_CACHE (image cache)")):
            safe_dir(path, what)
        self.trusted = True


def recipe():
    """(image variant, Debian suite) asked for by the environment."""
    variant = os.environ.get("VMSTORAGE_LAB_IMAGE") or "prebuilt"
    suite = os.environ.get("VMSTORAGE_LAB_SUITE") or "bookworm"
    if variant not in VARIANTS:
        raise LabError("VMSTORAGE_LAB_IMAGE=%r: want one of %s" % (variant, ", ".join(VARIANTS)))
    if suite not in SUITES:
        raise LabError("VMSTORAGE_LAB_SUITE=%r: want one of %s" % (suite, ", ".join(SUITES)))
    return variant, suite


def subnet_prefix(name):
    s = os.environ.get("VMSTORAGE_LAB_SUBNET")
    if s:
        m = re.fullmatch(r"(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.0/24", s)
        if not m or any(int(x) > 255 for x in m.groups()):
            raise LabError("VMSTORAGE_LAB_SUBNET=%r: want A.B.C.0/24" % s)
        return ".".join(m.groups())
    h = hashlib.sha256(name.encode()).digest()
    return "10.%d.%d" % (64 + h[0] % 64, h[1])


def ns_id_of(pid):
    try:
        st = os.stat("/proc/%s/ns/net" % pid)
    except OSError:
        return None
    return [st.st_dev, st.st_ino]


def proc_stat(pid):
    """(state, ppid, starttime, session id) of a process, or None when it is gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            data = f.read()
    except OSError:
        return None
    fields = data[data.rindex(")") + 2:].split()
    return fields[0], int(fields[1]), int(fields[19]), int(fields[3])


def alive(pid, start=None):
    s = proc_stat(pid)
    if s is None or s[0] in ("Z", "X"):
        return False
    return start is None or s[2] == start


def all_pids():
    return [int(d) for d in os.listdir("/proc") if d.isdigit()]


def guest_processes(nodes):
    """{pid: starttime} of every host process of the guests: each UML main process (recorded PID,
    a session leader: started with setsid) and all processes of its session, which includes UML's
    helpers and per-guest-process children even when the main process already died (orphans keep
    the tap and memory), plus their descendants."""
    sessions = {v["pid"]: v["start"] for v in nodes.values()}
    children, info = {}, {}
    for p in all_pids():
        s = proc_stat(p)
        if s and s[0] not in ("Z", "X"):
            info[p] = s
            children.setdefault(s[1], []).append(p)
    todo = [p for p, s in info.items() if s[3] in sessions and s[2] >= sessions[s[3]]]
    out = {}
    while todo:
        p = todo.pop()
        if p in out or p not in info:
            continue
        out[p] = info[p][2]
        todo.extend(children.get(p, []))
    return out


def end_processes(lab, procs, grace=4.0, what="process"):
    """procs {pid: starttime}: SIGTERM, wait (grace None: no SIGTERM), SIGKILL, wait on /proc/PID.
    Returns survivors."""
    steps = ((signal.SIGTERM, grace),) if grace is not None else ()
    for sig, wait in steps + ((signal.SIGKILL, 5.0),):
        live = {p: s for p, s in procs.items() if alive(p, s)}
        if not live:
            return {}
        lab.log("%s %s: %s" % (signal.Signals(sig).name, what, sorted(live)))
        for p in live:
            with contextlib.suppress(ProcessLookupError):
                os.kill(p, sig)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline and any(alive(p, s) for p, s in live.items()):
            time.sleep(0.05)
    return {p: s for p, s in procs.items() if alive(p, s)}


def mountinfo(pid="self"):
    out = []
    try:
        with open("/proc/%s/mountinfo" % pid) as f:
            for line in f:
                parts = line.split()
                out.append(parts[4].encode().decode("unicode_escape"))
    except OSError:
        pass
    return out


def is_mountpoint(path):
    return path in mountinfo()


@contextlib.contextmanager
def flock(lab, path, what):
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lab.progress("waiting for the %s lock (%s)" % (what, path))
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def lab_lock(lab):
    safe_dir(lab.state, "the lab's state dir")
    return flock(lab, os.path.join(lab.state, ".lock"), "lab")


def dir_problem(path, st, uid, sticky_ok=False):
    """Why a directory root trusts is unsafe, or None: a symlink, not a directory, owned by another
    user, or writable by group/others (sticky_ok: unless it is sticky, as /tmp and /var/tmp are)."""
    if stat.S_ISLNK(st.st_mode):
        return "is a symlink (to %s)" % os.readlink(path)
    if not stat.S_ISDIR(st.st_mode):
        return "is not a directory (mode %o)" % st.st_mode
    if st.st_uid not in (0, uid):
        return "is owned by uid %d (%s), mode %04o" % (st.st_uid, user_name(st.st_uid), stat.S_IMODE(st.st_mode))
    if st.st_mode & 0o022 and not (sticky_ok and st.st_mode & stat.S_ISVTX):
        return "is writable by %s (owner uid %d, mode %04o)" % (
            "group and others" if st.st_mode & 0o022 == 0o022 else "group" if st.st_mode & 0o020 else "others",
            st.st_uid, stat.S_IMODE(st.st_mode))
    return None


def user_name(uid):
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return "no such user"


def safe_dir(path, what, mode=0o755):
    """Make path a directory only we can change, or refuse: every existing ancestor must be
    owned by root/us and not writable by others (sticky root dirs such as /var/tmp are fine, as
    others cannot rename our entries there); path itself is created with mode (never through a
    symlink: mkdir does not follow one, lstat sees it) and must be ours and not group/other
    writable. Someone who made the directory first could otherwise plant files root runs."""
    uid = os.geteuid()
    path = os.path.abspath(path)
    parent = os.path.realpath(os.path.dirname(path))
    prefix = "/"
    for part in [""] + [x for x in parent.split("/") if x]:
        prefix = os.path.join(prefix, part)
        if not os.path.lexists(prefix):
            os.mkdir(prefix, 0o755)
        why = dir_problem(prefix, os.lstat(prefix), uid, sticky_ok=True)
        if why:
            raise LabError("%s: parent directory %s %s, so other users could swap %s; use a path whose "
                           "parents only root can write" % (what, prefix, why, path))
    path = os.path.join(parent, os.path.basename(path))
    try:
        os.mkdir(path, mode)
        os.chmod(path, mode)  # the umask may have cut it; the parent is safe, so this is our dir
    except FileExistsError:
        pass
    why = dir_problem(path, os.lstat(path), uid)
    if why:
        raise LabError("%s %s %s: the lab writes and runs files there as root, so it must be a "
                       "directory owned by root and not writable by group or others; if you made it, "
                       "chown root:root %s && chmod go-w %s; if not, move it away (mv %s %s.suspect) "
                       "and run again, or set another path" % (what, path, why, path, path, path, path))
    return path


def open_nofollow(path, flags, mode, **kw):
    """open() of a regular file that refuses a symlink as the last component (O_NOFOLLOW) and
    anything but a regular file (a guest can write its node dir: a FIFO there must not hang us)."""
    if "r" not in mode:
        flags |= os.O_WRONLY | os.O_CREAT
    try:
        fd = os.open(path, os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK | flags, 0o644)
    except OSError as e:
        if e.errno != errno.ELOOP:
            raise
        raise LabError("%s is a symbolic link (to %s); the lab does not follow links in its dirs: look at who made it, "
                       "remove it and run this again" % (path, os.readlink(path))) from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise LabError("%s is not a regular file" % path)
    os.set_blocking(fd, True)
    return os.fdopen(fd, mode, **kw)


def write_file(path, text, mode=0o644):
    """Write through an unpredictable temp name in the same dir (O_EXCL, mkstemp), then rename
    over path: never follows a link planted at path or at a guessable temp name."""
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix="." + os.path.basename(path) + ".")
    try:
        with os.fdopen(fd, "wb" if isinstance(text, bytes) else "w") as f:
            f.write(text)
            os.fchmod(f.fileno(), mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def rm(*paths):
    for p in paths:
        if os.path.isdir(p) and not os.path.islink(p):
            shutil.rmtree(p)
        else:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(p)


# --------------------------------------------------------------------------------------------
# host packages, mirror, image


def ensure_host_packages(lab):
    p = subprocess.run(["dpkg-query", "-W", "-f=${Package} ${Status}\n"] + list(HOST_PACKAGES),
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, check=False)
    have = {l.split()[0] for l in p.stdout.splitlines() if l.endswith(" installed")}
    missing = [x for x in HOST_PACKAGES if x not in have]
    if not missing:
        return
    lab.progress("installing host packages: %s" % " ".join(missing))
    os.environ["DEBIAN_FRONTEND"] = "noninteractive"
    lab.run(["apt-get", "update"], timeout=600, stream=True)
    lab.run(["apt-get", "install", "-y", "--no-install-recommends"] + missing, timeout=900, stream=True)


def find_mirror(suite, apt_dir="/etc/apt"):
    """The Debian mirror of the host's apt sources for suite, else for the host's own suite (a
    Debian mirror serves every suite; never written into the repo)."""
    if os.environ.get("VMSTORAGE_LAB_MIRROR"):
        return os.environ["VMSTORAGE_LAB_MIRROR"]
    sources = host_sources(apt_dir)
    for want in (suite, HOST_SUITE):
        for uri, suites in sources:
            if want in suites:
                return uri
    raise LabError("no 'deb' source for %s or %s in the host's apt sources (%s); set VMSTORAGE_LAB_MIRROR"
                   % (suite, HOST_SUITE, apt_dir))


def host_sources(apt_dir):
    """[(URI, [suite, ...])] of every enabled `deb` source in apt_dir (deb822 first, then one-line)."""
    out = []
    for path in sorted(glob.glob(os.path.join(apt_dir, "sources.list.d", "*.sources"))):
        with open(path) as f:
            text = f.read()
        for stanza in re.split(r"\n\s*\n", text):
            fields, key = {}, None
            for line in stanza.splitlines():
                if line.startswith("#"):
                    continue
                if line[:1].isspace() and key:
                    fields[key] += " " + line.strip()
                elif ":" in line:
                    key, val = line.split(":", 1)
                    key = key.strip().lower()
                    fields[key] = val.strip()
            if (fields.get("enabled", "yes").lower() != "no" and "deb" in fields.get("types", "").split()
                    and fields.get("uris")):
                out.append((fields["uris"].split()[0], fields.get("suites", "").split()))
    for path in [os.path.join(apt_dir, "sources.list")] + sorted(glob.glob(os.path.join(apt_dir, "sources.list.d", "*.list"))):
        with contextlib.suppress(OSError), open(path) as f:
            for line in f:
                m = re.match(r"\s*deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)", line)
                if m:
                    out.append((m.group(1), [m.group(2)]))
    return out


def package_list(path):
    """A package list file of tests/lab/guest: one a line, '#' starts a comment."""
    with open(path) as f:
        return [l.split("#")[0].strip() for l in f if l.split("#")[0].strip()]


def guest_packages(variant):
    """The image's packages: stock = a minimal server's; prebuilt = those plus the storage tools."""
    packages = package_list(os.path.join(GUEST_DIR, "packages-stock"))
    if variant == "prebuilt":
        packages += [p for p in package_list(os.path.join(GUEST_DIR, "packages")) if p not in packages]
    return packages


def repo_packages(paths=None):
    """What the stock image's local repository serves (with their dependencies): the brick role's
    __brick_packages (vars/Debian.yml, else vars/main.yml; a plain YAML list, read without a YAML
    library: the lab uses the standard library only) and REPO_EXTRA_PACKAGES."""
    paths = paths or BRICK_VARS
    for path in paths:
        if not os.path.exists(path):
            continue
        packages, inside = [], False
        with open(path) as f:
            for line in f:
                if re.match(r"__brick_packages:\s*$", line):
                    inside = True
                elif inside:
                    m = re.match(r"\s+-\s+([a-z0-9][a-z0-9+.-]*)\s*(#.*)?$", line)
                    if m:
                        packages.append(m.group(1))
                    elif line.strip() and not line.lstrip().startswith("#"):
                        break
        if not packages:
            raise LabError("%s has no __brick_packages list the lab can read" % path)
        return packages + [p for p in REPO_EXTRA_PACKAGES if p not in packages]
    raise LabError("none of %s exists" % ", ".join(paths))


def recipe_digest(variant, suite):
    """Hash of everything that goes into the image (and, stock, its repository): a changed recipe
    builds a new image."""
    h = hashlib.sha256()
    h.update(("suite=%s variant=minbase image=%s size=%s\n" % (suite, variant, IMAGE_SIZE)).encode())
    if variant == "stock":
        h.update(("repo=%s\n" % " ".join(repo_packages())).encode())
        h.update(inspect.getsource(build_repo).encode())
    h.update(inspect.getsource(build_image).encode())
    for root, dirs, files in os.walk(GUEST_DIR):
        dirs.sort()
        for name in sorted(files):
            path = os.path.join(root, name)
            h.update(("\0%s %o\0" % (os.path.relpath(path, GUEST_DIR), os.stat(path).st_mode & 0o111)).encode())
            with open(path, "rb") as f:
                h.update(f.read())
    return h.hexdigest()[:16]


def umount_under(lab, root):
    root = os.path.realpath(root)
    for mp in sorted((m for m in mountinfo() if m == root or m.startswith(root + "/")), reverse=True):
        lab.run(["umount", "-l", mp], check=False)


def copy_overlay(src, dst):
    """Copy src's tree over dst: new dirs 0755, files 0755/0644 by their exec bit, owner root."""
    for root, dirs, files in os.walk(src):
        target = os.path.join(dst, os.path.relpath(root, src))
        if not os.path.isdir(target):
            os.makedirs(target)
            os.chmod(target, 0o755)
        for name in files:
            s, d = os.path.join(root, name), os.path.join(target, name)
            shutil.copyfile(s, d)
            os.chmod(d, 0o755 if os.stat(s).st_mode & 0o100 else 0o644)
            os.chown(d, 0, 0)


def build_image(lab, digest, imgdir, variant, suite):
    mirror = find_mirror(suite)
    packages = guest_packages(variant)
    t = time.monotonic()
    lab.progress("building guest image %s: %s, debootstrap %s minbase, %d packages (log: %s)"
                 % (digest, variant, suite, len(packages), lab.log_path))
    builds = safe_dir(os.path.join(lab.cache, "build"), "the image build dir")
    work = os.path.join(builds, digest)
    if os.path.lexists(work):  # we hold this image's lock: the leftovers of a crashed build of it
        umount_under(lab, work)
        if any(m.startswith(os.path.realpath(work) + "/") for m in mountinfo()):
            raise LabError("mounts left under %s" % work)
        rm(work)
    root = os.path.join(work, "root")
    repo = os.path.join(work, "repo")
    os.makedirs(root)
    try:
        lab.run(["debootstrap", "--variant=minbase", "--components=main", "--include=" + ",".join(packages),
                 suite, root, mirror], timeout=1800, stream=True)
        umount_under(lab, root)
        lab.progress("debootstrap done in %.0fs; configuring" % (time.monotonic() - t))
        if variant == "stock":
            build_repo(lab, root, repo)
        copy_overlay(os.path.join(GUEST_DIR, "rootfs"), root)
        shutil.copyfile(os.path.join(GUEST_DIR, "configure.sh"), os.path.join(root, "tmp", "vmsg-configure.sh"))
        if variant == "stock":  # configure.sh points apt at it (its lists stay empty: the brick role reads them)
            mnt = os.path.join(root, REPO_MOUNT.lstrip("/"))
            os.makedirs(mnt, exist_ok=True)
            lab.run(["mount", "--bind", repo, mnt])
            lab.run(["mount", "-o", "remount,bind,ro", mnt])
        lab.run(["chroot", root, "/usr/bin/env", "VMSG_VARIANT=" + variant, "VMSG_REPO=" + REPO_MOUNT,
                 "VMSG_ADMIN=" + ADMIN, "/bin/sh", "-eu", "/tmp/vmsg-configure.sh"], timeout=300)
        umount_under(lab, root)
        os.unlink(os.path.join(root, "tmp", "vmsg-configure.sh"))
        if os.path.getsize(os.path.join(root, "etc", "machine-id")) != 0:
            raise LabError("image has a machine-id")
        if os.path.exists(os.path.join(root, "var", "lib", "glusterd", "glusterd.info")):
            raise LabError("image has a glusterd.info")
        installed = installed_packages(root)
        absent = repo_packages() if variant == "stock" else []
        if set(absent) & installed:  # the stock image must not have what the site installs
            raise LabError("stock image has %s" % ", ".join(sorted(set(absent) & installed)))
        raw = os.path.join(work, "base.raw")
        lab.run(["mkfs.ext4", "-q", "-F", "-L", "vmsg-root", "-d", root, raw, IMAGE_SIZE], timeout=600)
        os.chmod(raw, 0o444)
        shutil.rmtree(root)
        write_file(os.path.join(work, "recipe.json"), json.dumps(
            {"digest": digest, "variant": variant, "suite": suite, "packages": packages, "absent": absent,
             "size": IMAGE_SIZE, "built": time.strftime("%Y-%m-%dT%H:%M:%S%z")}, indent=1) + "\n")
        rm(imgdir)
        os.rename(work, imgdir)
    finally:
        if os.path.exists(work):
            umount_under(lab, root)
            if not any(m.startswith(os.path.realpath(work) + "/") for m in mountinfo()):
                rm(work)
    lab.progress("guest image %s built in %.0fs" % (digest, time.monotonic() - t))


def build_repo(lab, root, repo):
    """The stock image's local apt repository, from the host's mirror: in the freshly debootstrapped
    root (still on the host, its apt still pointing at the mirror) apt downloads what the brick role
    installs with every dependency the image lacks, recommends included as apt installs them; the
    .debs are moved to repo and indexed (flat repository: Packages + Release, trusted, unsigned)."""
    t = time.monotonic()
    packages = repo_packages()
    env = ["/usr/bin/env", "DEBIAN_FRONTEND=noninteractive", "LC_ALL=C"]
    # debootstrap leaves the base system's .debs in apt's archive: the repository gets none of them
    lab.run(["chroot", root] + env + ["apt-get", "clean"])
    lab.run(["chroot", root] + env + ["apt-get", "update"], timeout=600, stream=True)
    lab.run(["chroot", root] + env + ["apt-get", "install", "-y", "--download-only"] + packages,
            timeout=1800, stream=True)
    debs = glob.glob(os.path.join(root, "var", "cache", "apt", "archives", "*.deb"))
    if not debs:
        raise LabError("apt downloaded nothing for the repository (%s)" % " ".join(packages))
    os.makedirs(repo)
    for deb in debs:
        shutil.move(deb, repo)
    lab.run(["sh", "-c", "cd \"$1\" && apt-ftparchive packages . >Packages && apt-ftparchive release . >Release",
             "vmsg-repo", repo], timeout=300)
    lab.progress("local apt repository: %d packages for %s in %.0fs"
                 % (len(debs), " ".join(packages), time.monotonic() - t))


def installed_packages(root):
    """Names of the packages dpkg lists as installed in root."""
    names, name = set(), None
    with open(os.path.join(root, "var", "lib", "dpkg", "status")) as f:
        for line in f:
            if line.startswith("Package: "):
                name = line.split()[1]
            elif line.startswith("Status: ") and line.split()[-1] == "installed" and name:
                names.add(name)
    return names


def ensure_image(lab):
    digest = recipe_digest(lab.variant, lab.suite)
    imgdir = os.path.join(lab.cache, "images", digest)
    safe_dir(os.path.join(lab.cache, "images"), "the image cache")
    with flock(lab, os.path.join(lab.cache, ".lock"), "image cache"):
        safe_dir(os.path.dirname(lab.key), "the lab's ssh key dir", 0o700)
        if not (os.path.exists(lab.key) and os.path.exists(lab.key + ".pub")):
            rm(lab.key, lab.key + ".pub")
            lab.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "vmstorage-lab", "-f", lab.key])
        shim = ensure_shim(lab)
    # one lock per image: labs of different images (make test's stock suites) build theirs at once, two
    # labs of one image build it once
    with flock(lab, os.path.join(lab.cache, "images", ".%s.lock" % digest), "image %s" % digest):
        if not os.path.exists(os.path.join(imgdir, "recipe.json")):
            build_image(lab, digest, imgdir, lab.variant, lab.suite)
    repo = os.path.join(imgdir, "repo") if lab.variant == "stock" else None
    return digest, os.path.join(imgdir, "base.raw"), shim, repo


def ensure_shim(lab):
    """Build the UML ptrace/XSAVE shim (uml-xstate.c) once per source version (cache lock held)."""
    src = os.path.join(HERE, "uml-xstate.c")
    with open(src, "rb") as f:
        h = hashlib.sha256(f.read()).hexdigest()[:12]
    so = os.path.join(lab.cache, "shim", "uml-xstate-%s.so" % h)
    if not os.path.exists(so):
        fd, tmp = tempfile.mkstemp(dir=safe_dir(os.path.dirname(so), "the shim dir"), prefix=".uml-xstate.")
        os.close(fd)
        try:
            lab.run(["cc", "-O2", "-Wall", "-shared", "-fPIC", "-o", tmp, src, "-ldl"])
            os.chmod(tmp, 0o644)
            os.replace(tmp, so)
        finally:
            rm(tmp)
    return so


# --------------------------------------------------------------------------------------------
# network


def create_network(lab):
    with flock(lab, GLOBAL_LOCK, "netns"):
        premounted = is_mountpoint("/run/netns")
        lab.run(["ip", "netns", "add", lab.netns])
        if not premounted and is_mountpoint("/run/netns"):
            write_file(NETNS_MOUNT_MARKER, "ip netns add %s (vmstorage lab) bind-mounted /run/netns\n" % lab.netns)
    write_netns_hosts(lab)
    ipn = ["ip", "-n", lab.netns]
    lab.run(ipn + ["link", "set", "lo", "up"])
    lab.run(ipn + ["link", "add", BRIDGE, "type", "bridge"])
    lab.run(ipn + ["addr", "add", lab.gateway + "/24", "dev", BRIDGE])
    lab.run(ipn + ["link", "set", BRIDGE, "up"])
    for i, node in enumerate(NODES, 1):
        tap = "vmsg-tap%d" % i
        lab.run(ipn + ["tuntap", "add", "dev", tap, "mode", "tap"])
        lab.run(ipn + ["link", "set", tap, "master", BRIDGE, "up"])


def write_netns_hosts(lab):
    """The host's /etc/hosts plus the nodes, as /etc/hosts of every process `ip netns exec` starts."""
    with open("/etc/hosts") as f:
        host_entries = f.read()
    nodes = "".join("%s %s\n" % (lab.ip(n), n) for n in NODES)
    safe_dir(lab.netns_etc, "the namespace's /etc dir")
    write_file(os.path.join(lab.netns_etc, "hosts"),
               "%s\n# lab %s (tests/lab/lab; removed by `lab down`)\n%s" % (host_entries.rstrip("\n"), lab.name, nodes))


def delete_network(lab):
    if lab.netns_id() is not None:
        ipn = ["ip", "-n", lab.netns]
        for i in range(1, len(NODES) + 1):
            lab.run(ipn + ["link", "del", "vmsg-tap%d" % i], check=False)
        lab.run(ipn + ["link", "del", BRIDGE], check=False)
    with flock(lab, GLOBAL_LOCK, "netns"):
        if lab.netns_id() is not None:
            lab.run(["ip", "netns", "del", lab.netns])
        if os.path.exists(NETNS_MOUNT_MARKER) and is_mountpoint("/run/netns") and not os.listdir("/run/netns"):
            for _attempt in range(3):
                if not is_mountpoint("/run/netns"):
                    break
                lab.run(["umount", "/run/netns"], check=False)
            rm(NETNS_MOUNT_MARKER)
    rm(lab.netns_etc)


# --------------------------------------------------------------------------------------------
# guests


def write_access_files(lab):
    """ssh config (with the netns guard), known_hosts, the guard itself, the control path dir."""
    safe_dir(lab.cp_dir, "Ansible's ssh control path dir", 0o700)
    with open(os.path.join(HERE, "connect.py")) as f:
        write_file(lab.connect, f.read())
    hosts = "\n".join("Host %s\n  HostName %s" % (n, lab.ip(n)) for n in NODES)
    write_file(lab.ssh_config, """\
# Generated by tests/lab/lab for lab "{name}". Only works inside network namespace {netns}:
#   tests/lab/lab ssh node1 ...   or   tests/lab/lab run ssh -F {cfg} node1 ...
{hosts}
Host {names} {prefix}.*
  User root
  IdentityFile {key}
  IdentitiesOnly yes
  UserKnownHostsFile {kh}
  GlobalKnownHostsFile /dev/null
  StrictHostKeyChecking yes
  ProxyCommand /usr/bin/python3 -S {connect} {netns} %h %p
  ProxyUseFdpass yes
  BatchMode yes
  ConnectTimeout 10
  ServerAliveInterval 5
  ServerAliveCountMax 6
  LogLevel ERROR
""".format(name=lab.name, netns=lab.netns, cfg=lab.ssh_config, hosts=hosts, names=" ".join(NODES),
           prefix=lab.prefix, key=lab.key, kh=lab.known_hosts, connect=lab.connect))
    lines = []
    for n in NODES:
        with open(os.path.join(lab.seed_dir(n), "ssh_host_ed25519_key.pub")) as f:
            kt, kb = f.read().split()[:2]
        lines.append("%s,%s %s %s" % (n, lab.ip(n), kt, kb))
    write_file(lab.known_hosts, "\n".join(lines) + "\n")


def write_inventory(lab):
    hosts = "".join("        %s:\n          ansible_host: %s\n" % (n, lab.ip(n)) for n in NODES)
    write_file(lab.inventory, """\
# Generated by tests/lab/lab for lab "{name}" (netns {netns}, {prefix}.0/24).
# The addresses exist only inside that namespace: use it through `tests/lab/lab run ...`.
# Logs in as the sudo user {admin}, as on a cloud image, without ansible_become: the plays
# become root themselves.
all:
  children:
    gluster_nodes:
      hosts:
{hosts}      vars:
        ansible_user: {admin}
        ansible_ssh_private_key_file: {key}
        ansible_python_interpreter: /usr/bin/python3
        ansible_ssh_common_args: "-F {cfg}"
""".format(name=lab.name, netns=lab.netns, prefix=lab.prefix, hosts=hosts, key=lab.key, cfg=lab.ssh_config,
           admin=ADMIN))


def make_seeds(lab):
    """Per node: a fresh ssh host key and the authorized_keys of root and ADMIN, read by the guest
    via hostfs."""
    with open(lab.key + ".pub") as f:
        pub = f.read()
    safe_dir(os.path.dirname(lab.seed_dir(NODES[0])), "the hostfs seed dir")
    for n in NODES:
        seed = lab.seed_dir(n)
        rm(seed)
        safe_dir(seed, "the seed dir of " + n, 0o700)
        lab.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "root@" + n,
                 "-f", os.path.join(seed, "ssh_host_ed25519_key")])
        write_file(os.path.join(seed, "authorized_keys"), pub, 0o600)


def blank_disk(path):
    """A new blank sparse data disk at path (the old file, if any, is gone: a new disk in the slot)."""
    rm(path)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    try:
        os.ftruncate(fd, DISK_SIZE)
    finally:
        os.close(fd)


def start_nodes(lab, st):
    """Boot every node on a fresh COW root and blank data disks."""
    st["nodes"] = {}
    for node in NODES:
        d = safe_dir(lab.node_dir(node), "the node dir of " + node)
        rm(os.path.join(d, "root.cow"))
        for disk in DISKS:
            blank_disk(os.path.join(d, disk + ".img"))
        boot_node(lab, st, node, uuid.uuid4().hex)
    lab.progress("started %s (pids %s)" % (" ".join(NODES), " ".join(str(v["pid"]) for v in st["nodes"].values())))


def uml_kernel_version():
    have = sorted(os.listdir(UML_MODULES)) if os.path.isdir(UML_MODULES) else []
    if len(have) == 1:
        return have[0]
    out = subprocess.run(["linux", "--version"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                         check=False).stdout.strip()
    if out not in have:
        raise LabError("no UML module tree for kernel %r in %s (have: %s)" % (out, UML_MODULES, have or "none"))
    return out


def make_hostfs(lab, st):
    """The guests' hostfs root (kernel parameter hostfs=), on the host: the per-node seeds
    (make_seeds) and empty mount points for the module tree and (stock) the local apt repository,
    which each guest's jail binds read-only (guest_jail)."""
    safe_dir(lab.hostfs, "the guests' hostfs root")
    mods = safe_dir(os.path.join(lab.hostfs, HOSTFS_MODULES.lstrip("/")), "the hostfs module dir")
    safe_dir(os.path.join(mods, uml_kernel_version()), "the hostfs module mount point")
    if st.get("repo"):
        safe_dir(os.path.join(lab.hostfs, HOSTFS_REPO.lstrip("/")), "the hostfs repository mount point")


# Runs as `sh -c JAIL_SH vmsg-jail JAIL ro:PATH... rw:PATH... -- /usr/bin/linux ARGS...` in a
# private mount namespace (unshare --mount): a tmpfs at JAIL gets each PATH bound at the same
# path, then UML runs chrooted in it. Same PID all the way (every step execs).
JAIL_SH = r"""
set -eu
jail=$1
shift
mount -t tmpfs -o mode=0755,nosuid,nodev vmsg-jail "$jail"
ln -s usr/bin "$jail/bin"
ln -s usr/lib "$jail/lib"
ln -s usr/lib64 "$jail/lib64"
mkdir -m 1777 "$jail/tmp"
mkdir -p -m 0755 "$jail/dev/shm"
while [ "$1" != -- ]; do
    how=${1%%:*} spec=${1#*:}
    src=${spec%%=*} dst=${spec#*=}
    shift
    if [ -d "$src" ]; then
        mkdir -p "$jail$dst"
    else
        mkdir -p "$jail${dst%/*}"
        : >"$jail$dst"
    fi
    mount --bind "$src" "$jail$dst"
    if [ "$how" = ro ]; then
        mount -o remount,bind,ro "$jail$dst"
    fi
done
shift
exec chroot "$jail" "$@"
"""


def uml_binary():
    """The UML kernel: /usr/bin/linux is a link through /etc/alternatives, which the jail lacks."""
    return os.path.realpath(shutil.which("linux") or "/usr/bin/linux")


def runtime_files(programs):
    """The files the dynamic loader opens for programs (ldd: the libraries and the interpreter), as
    (host file, path in the jail): the path as the loader asks for it, its directory resolved (Debian's
    /lib and /lib64 are links into /usr, and so are the jail's)."""
    files = {}
    for program in programs:
        listing = subprocess.run(["ldd", program], capture_output=True, text=True, check=False,
                                 env=dict(os.environ, LANG="C", LD_PRELOAD="")).stdout
        for path in re.findall(r"(?:=> |^\s*)(/\S+) \(0x", listing, re.MULTILINE):
            files[os.path.join(os.path.realpath(os.path.dirname(path)), os.path.basename(path))] = os.path.realpath(path)
    if not files:
        raise LabError("ldd listed no library of %s: the jail could not run it" % ", ".join(programs))
    return sorted((host, jail) for jail, host in files.items())


def guest_jail(lab, st, node):
    """What UML sees of the host: hostfs mounts are relative to hostfs= but `..` in a mount
    path is resolved by the host (mount -t hostfs none /m -o /../../etc escapes), so each guest
    runs chrooted in a tmpfs in a mount namespace of its own that holds only what it needs, at
    the same paths: the UML kernel and the libraries it loads (not the host's /usr), the image, the
    shim, its hostfs root (module tree and its own seed,
    read-only binds: the guest cannot write them even after remounting rw, and links it could
    make anywhere else resolve inside the jail), its node dir and its UML dir (read-write), a
    few devices. No /proc (/proc/1/root would lead out), only /proc/cpuinfo, which UML reads."""
    kver = uml_kernel_version()
    programs = [uml_binary()] + ([st["shim"]] if st.get("shim") else [])
    binds = ["ro:" + uml_binary()] + ["ro:%s=%s" % pair for pair in runtime_files(programs)]
    binds += ["ro:/etc/ld.so.cache", "ro:/proc/cpuinfo", "rw:/dev/null", "rw:/dev/zero",
              "rw:/dev/urandom", "rw:/dev/random", "rw:/dev/net/tun", "ro:" + st["image"],
              "ro:" + os.path.join(UML_MODULES, kver) + "=" + os.path.join(lab.hostfs, HOSTFS_MODULES.lstrip("/"), kver),
              "ro:" + lab.seed_dir(node), "rw:" + lab.node_dir(node), "rw:" + lab.node_uml_dir(node)]
    if st.get("shim"):
        binds.append("ro:" + st["shim"])
    if st.get("repo"):
        binds.append("ro:%s=%s" % (st["repo"], os.path.join(lab.hostfs, HOSTFS_REPO.lstrip("/"))))
    return binds


def boot_node(lab, st, node, machine_id):
    """Start one guest on the COW root and data disks in its node dir, as they are; record its PID."""
    image = st["image"]
    if not os.path.exists(image):
        raise LabError("guest image %s is gone: run lab down && lab up" % image)
    hosts = ",".join("%s=%s" % (n, lab.ip(n)) for n in NODES)
    d = lab.node_dir(node)
    rm(lab.node_uml_dir(node))
    cmd = [uml_binary(), "mem=" + GUEST_MEM, "ubd0=%s,%s" % (os.path.join(d, "root.cow"), image)]
    cmd += ["ubd%d=%s" % (j, os.path.join(d, disk + ".img")) for j, disk in enumerate(DISKS, 1)]
    cmd += ["root=/dev/ubda", "rw",
            "vec0:transport=tap,ifname=vmsg-tap%d,gro=1,mac=%s" % (NODES.index(node) + 1, lab.mac(node)),
            "con0=null,fd:1", "con=null", "ssl=null",
            "uml_dir=" + lab.node_uml_dir(node), "umid=" + node,
            "quiet", "fsck.mode=skip", "systemd.machine_id=" + machine_id,
            "vmsg.hostname=" + node, "vmsg.ip=%s/24" % lab.ip(node), "vmsg.gw=" + lab.gateway,
            "vmsg.hosts=" + hosts, "hostfs=" + lab.hostfs,
            "vmsg.seed=%s/%s" % (HOSTFS_SEED, node), "vmsg.modules=" + HOSTFS_MODULES]
    if st.get("repo"):
        if not os.path.isdir(st["repo"]):
            raise LabError("local apt repository %s is gone: run lab down && lab up" % st["repo"])
        cmd += ["vmsg.repo=%s:%s" % (HOSTFS_REPO, REPO_MOUNT)]
    safe_dir(lab.uml_dir, "UML's dir")
    safe_dir(lab.node_uml_dir(node), "UML's dir of " + node)
    safe_dir(lab.jail, "the jail mount point")
    cmd = ["unshare", "--mount", "--propagation", "private", "/bin/sh", "-c", JAIL_SH, "vmsg-jail", lab.jail]\
        + guest_jail(lab, st, node) + ["--"] + cmd
    console = open_nofollow(os.path.join(d, "console.log"), os.O_APPEND, "ab")
    console.write(("\n===== %s boot %s =====\n" % (node, time.strftime("%Y-%m-%d %H:%M:%S"))).encode())
    console.flush()
    lab.log("start %s: %s" % (node, " ".join(cmd)))
    env = dict(os.environ)
    # UML puts its memory file in $TMPDIR (then $TMP, $TEMP): the jail's own tmpfs
    env.pop("TMP", None)
    env.pop("TEMP", None)
    env["TMPDIR"] = "/dev/shm"
    if st.get("shim"):
        env["LD_PRELOAD"] = st["shim"]
    p = subprocess.Popen(lab.in_ns(cmd), stdin=subprocess.DEVNULL, stdout=console, stderr=subprocess.STDOUT,
                         cwd=d, start_new_session=True, close_fds=True, env=env)
    console.close()
    s = proc_stat(p.pid)
    st.setdefault("nodes", {})[node] = {"pid": p.pid, "start": s[2] if s else 0, "ip": lab.ip(node),
                                        "machine_id": machine_id}
    lab.save(st)


def console_tail(lab, node, n=15):
    try:
        with open_nofollow(os.path.join(lab.node_dir(node), "console.log"), os.O_RDONLY, "rb") as f:
            f.seek(0, 2)
            f.seek(max(0, f.tell() - 4000))
            lines = f.read().decode(errors="replace").splitlines()[-n:]
    except (OSError, LabError):
        return ""
    return "\n".join("    " + l for l in lines)


READINESS = {
    # variant: (command on the node, what its success proves)
    "prebuilt": ("gluster --xml peer status", "sshd + glusterd"),
    "stock": ("true", "sshd"),  # no glusterd yet: the site installs it
}


def probe(lab, nodes, deadline, on_ssh=None):
    """Poll each node until it is ready (READINESS of the lab's image: `gluster --xml peer status`
    on prebuilt, an ssh login on stock) or deadline. Returns the ready set."""
    pending, ready, running, seen_ssh, last = set(nodes), set(), {}, set(), {}
    st = lab.load()
    command, what = READINESS[st.get("variant") or "prebuilt"]
    try:
        while pending:
            for node in sorted(pending):
                info = st.get("nodes", {}).get(node)
                if not info or not alive(info["pid"], info["start"]):
                    raise LabError("%s (pid %s) is not running; console %s:\n%s" % (
                        node, info and info["pid"], os.path.join(lab.node_dir(node), "console.log"), console_tail(lab, node)))
                p = running.get(node)
                if p is None:
                    running[node] = (subprocess.Popen(
                        lab.ssh_cmd(node, command, timeout=5), stdin=subprocess.DEVNULL,
                        stdout=subprocess.PIPE, stderr=subprocess.PIPE), time.monotonic())
                    continue
                p, t = p
                if p.poll() is None:
                    if time.monotonic() - t > 20:
                        p.kill()
                        p.wait()
                        running.pop(node)
                    continue
                out, err = p.communicate()
                running.pop(node)
                if p.returncode != 255 and node not in seen_ssh:
                    seen_ssh.add(node)
                    if on_ssh:
                        on_ssh(node)
                if p.returncode == 0 and (command == "true" or b"<opRet>0</opRet>" in out):
                    pending.discard(node)
                    ready.add(node)
                    if on_ssh:
                        lab.progress("%s ready (%s)" % (node, what))
                else:
                    msg = "rc %d %s" % (p.returncode, (err or out).decode(errors="replace").strip().splitlines()[:1])
                    if last.get(node) != msg:  # log each new kind of failure once, not every poll
                        last[node] = msg
                        lab.log("probe %s: %s" % (node, msg))
            if not pending or time.monotonic() > deadline:
                break
            time.sleep(0.5)
    finally:
        for p, _started in running.values():
            p.kill()
            p.wait()
    return ready


def wait_ready(lab, timeout=None):
    timeout = timeout or float(os.environ.get("VMSTORAGE_LAB_BOOT_TIMEOUT") or 300)
    ready = probe(lab, NODES, time.monotonic() + timeout, on_ssh=lambda n: lab.progress("%s sshd answers" % n))
    missing = [n for n in NODES if n not in ready]
    if missing:
        raise LabError("not ready after %.0fs: %s\n%s" % (timeout, " ".join(missing), "\n".join(
            "  %s console (%s):\n%s" % (n, os.path.join(lab.node_dir(n), "console.log"), console_tail(lab, n))
            for n in missing)))


def close_control_masters(lab, node=None):
    """Ask ssh ControlPersist masters (Ansible's, in the state dir) to exit before guests go away;
    with node, only the masters connected to that node (found by the master's command line)."""
    for sock in glob.glob(os.path.join(lab.cp_dir, "*")):
        if node is not None:
            _rc, out = lab.run(["ssh", "-o", "ControlPath=" + sock, "-O", "check", "lab-node"], check=False, timeout=10)
            master = re.search(r"pid=(\d+)", out)
            if master and not {node, lab.ip(node)} & set(re.split(r"[\s@]", cmdline_of(int(master.group(1)), 4096))):
                continue
        lab.run(["ssh", "-o", "ControlPath=" + sock, "-O", "exit", "lab-node"], check=False, timeout=10)
        rm(sock)


def stop_nodes(lab, st):
    """Halt every guest through its mconsole, then end its host processes by PID."""
    nodes = st.get("nodes") or {}
    procs = guest_processes(nodes)
    if procs:
        halts, halted = [], {}
        for node, v in nodes.items():
            sock = lab.mconsole(node)
            # lstat: the guest can write its UML dir (through hostfs); never follow a link there
            with contextlib.suppress(OSError):
                if not stat.S_ISSOCK(os.lstat(sock).st_mode):
                    sock = None
            if sock and alive(v["pid"], v["start"]) and os.path.exists(sock):
                lab.log("$ uml_mconsole %s halt" % sock)
                halts.append(subprocess.Popen(["uml_mconsole", sock, "halt"], stdin=subprocess.DEVNULL,
                                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
                halted.update(guest_processes({node: v}))
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and any(alive(p, s) for p, s in halted.items()):
            time.sleep(0.05)
        for h in halts:  # uml_mconsole waits for a reply a halted guest never sends
            if h.poll() is None:
                h.kill()
            h.wait()
        left = end_processes(lab, procs, what="guest processes")
        if left:
            raise LabError("guest processes survive SIGKILL: %s" % sorted(left))
    for node in nodes:
        rm(lab.node_uml_dir(node))
    st["nodes"] = {}
    lab.save(st)


def end_netns_processes(lab):
    nid = lab.netns_id()
    if nid is None:
        return
    me = os.getpid()
    for _round in range(3):
        procs = {}
        for p in all_pids():
            if p != me and ns_id_of(p) == nid:
                s = proc_stat(p)
                if s and s[0] not in ("Z", "X"):
                    procs[p] = s[2]
        if not procs:
            return
        end_processes(lab, procs, grace=3.0, what="processes in netns %s" % lab.netns)
    raise LabError("processes stay in netns %s" % lab.netns)


def teardown(lab, st):
    close_control_masters(lab)
    stop_nodes(lab, st)
    end_netns_processes(lab)
    delete_network(lab)
    for n in NODES:
        d = lab.node_dir(n)
        rm(os.path.join(d, "root.cow"), os.path.join(d, "seed"), *[os.path.join(d, x + ".img") for x in DISKS])
    rm(lab.uml_dir, lab.inventory, lab.ssh_config, lab.known_hosts, lab.cp_dir, lab.hostfs, lab.jail)
    st["nodes"] = {}
    lab.save(st)


# --------------------------------------------------------------------------------------------
# check-clean


def check_clean(lab):
    problems = []
    st = lab.load()
    if lab.netns_id() is not None or os.path.lexists(lab.netns_path()):
        problems.append("network namespace %s exists" % lab.netns)
    nids = [x for x in (st.get("netns_id"), lab.netns_id()) if x]
    me = os.getpid()
    ancestors = set()
    p = me
    while p > 1:
        ancestors.add(p)
        s = proc_stat(p)
        p = s[1] if s else 0
    for pid in all_pids():
        if pid in ancestors:
            continue
        why = None
        if ns_id_of(pid) in nids:
            why = "holds the lab's network namespace"
        else:
            try:
                with open("/proc/%d/cmdline" % pid, "rb") as f:
                    cmdline = f.read().replace(b"\0", b" ").decode(errors="replace")
                with open("/proc/%d/environ" % pid, "rb") as f:
                    environ = f.read().split(b"\0")
            except OSError:
                continue
            if ("uml_dir=" + lab.uml_dir) in cmdline or lab.connect in cmdline:
                why = "a guest/helper of the lab"
            elif ("VMSTORAGE_LAB_NETNS=" + lab.netns).encode() in environ:
                why = "started by `lab run`"
        if why:
            s = proc_stat(pid)
            if s and s[0] not in ("Z", "X"):
                problems.append("process %d (%s): %s" % (pid, cmdline_of(pid), why))
    links = lab.run(["ip", "-o", "link", "show"], check=False, quiet=True)[1]
    for line in links.splitlines():
        name = line.split(":")[1].strip().split("@")[0]
        if name.startswith("vmsg-"):
            problems.append("link %s in the root namespace" % name)
    addrs = lab.run(["ip", "-o", "addr", "show"], check=False, quiet=True)[1]
    routes = lab.run(["ip", "route", "show"], check=False, quiet=True)[1]
    for line in (addrs + routes).splitlines():
        if re.search(r"(^|\s)%s\.\d+" % re.escape(lab.prefix), line):
            problems.append("root namespace: %s" % line.strip())
    for pid in ("self", "1"):
        for mp in mountinfo(pid):
            if (mp.startswith(lab.state + "/") or mp.startswith(lab.cache + "/") or mp == lab.netns_path()):
                problems.append("mount %s (mount namespace of %s)" % (mp, pid))
    if os.path.exists(NETNS_MOUNT_MARKER) and is_mountpoint("/run/netns") and not os.listdir("/run/netns"):
        problems.append("/run/netns bind mount made by a lab is still there")
    if os.path.lexists(lab.netns_etc):
        problems.append("%s left (the namespace's /etc/hosts)" % lab.netns_etc)
    for bf in glob.glob("/sys/block/loop*/loop/backing_file"):
        with contextlib.suppress(OSError), open(bf) as f:
            back = f.read().strip()
            if back.startswith(lab.state + "/") or back.startswith(lab.cache + "/"):
                problems.append("loop device %s -> %s" % (bf.split("/")[3], back))
    if os.path.lexists(lab.hostfs):
        problems.append("hostfs root left: %s" % lab.hostfs)
    for n in NODES:
        for x in ("root.cow",) + tuple(d + ".img" for d in DISKS):
            if os.path.exists(os.path.join(lab.node_dir(n), x)):
                problems.append("disk file left: %s" % os.path.join(lab.node_dir(n), x))
    return sorted(set(problems))


def cmdline_of(pid, limit=120):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace").strip()[:limit]
    except OSError:
        return "?"


def report_clean(lab):
    problems = check_clean(lab)
    if problems:
        print("lab %s is NOT clean:" % lab.name)
        for p in problems:
            print("  - " + p)
            lab.log("not clean: " + p)
        return 1
    lab.progress("clean: no process, namespace, link, address, mount, loop device or disk of lab %s left"
                 % lab.name)
    return 0


# --------------------------------------------------------------------------------------------
# commands


def healthy(lab, st):
    """The running lab answers: netns, every guest process, the access files, glusterd on every node."""
    nodes = st.get("nodes") or {}
    if lab.netns_id() is None or st.get("netns_id") != lab.netns_id():
        return False
    if sorted(nodes) != sorted(NODES) or not all(alive(v["pid"], v["start"]) for v in nodes.values()):
        return False
    if not all(os.path.exists(p) for p in (lab.inventory, lab.ssh_config, lab.known_hosts)):
        return False
    try:
        return probe(lab, NODES, time.monotonic() + 15) == set(NODES)
    except LabError:
        return False


def lab_present(lab, st):
    nodes = st.get("nodes") or {}
    return lab.netns_id() is not None or any(alive(v["pid"], v["start"]) for v in nodes.values())


def cmd_up(lab, args):
    lab.log("lab up")
    ensure_host_packages(lab)
    with lab_lock(lab):
        st = lab.load()
        present = lab_present(lab, st)
        if present and healthy(lab, st):
            lab.progress("already up and healthy (%s); inventory: %s" % (
                ", ".join("%s %s" % (n, lab.ip(n)) for n in NODES), lab.inventory))
            if st.get("digest") != recipe_digest(lab.variant, lab.suite):
                lab.progress("note: this lab runs image %s (%s %s); the recipe asked for (%s %s) differs: "
                             "`lab down && lab up` builds and uses it" % (
                                 st.get("digest"), st.get("variant", "prebuilt"), st.get("suite", "bookworm"),
                                 lab.variant, lab.suite))
            return 0
        digest, image, shim, repo = ensure_image(lab)
        recipe_state = {"digest": digest, "image": image, "shim": shim, "repo": repo, "variant": lab.variant,
                        "suite": lab.suite}
        if present:
            if lab.inside():
                # Called from inside the namespace (e.g. molecule under `lab run`): keep the
                # namespace (our caller lives in it) and restart the guests only.
                lab.progress("lab unhealthy; restarting the guests (called from inside %s)" % lab.netns)
                st.update(recipe_state)
                restart_guests(lab, st)
                write_inventory(lab)
                lab.progress("lab up; inventory: %s" % lab.inventory)
                return 0
            lab.progress("lab is half up or stale: cleaning it first")
            teardown(lab, st)
            problems = check_clean(lab)
            if problems:
                raise LabError("could not clean the old lab: %s" % "; ".join(problems))
        t = time.monotonic()
        st = dict(recipe_state, name=lab.name, netns=lab.netns, prefix=lab.prefix, nodes={})
        try:
            rm(lab.inventory)
            create_network(lab)
            st["netns_id"] = lab.netns_id()
            lab.save(st)
            make_hostfs(lab, st)
            make_seeds(lab)
            write_access_files(lab)
            start_nodes(lab, st)
            wait_ready(lab)
            write_inventory(lab)
        except BaseException as exc:
            lab.progress("lab up failed (%s): tearing the half-started lab down" % (
                str(exc).splitlines()[0] if str(exc) else type(exc).__name__))
            with contextlib.suppress(Exception):
                teardown(lab, lab.load() or st)
            raise
        lab.progress("lab up: %s ready in %.1fs; inventory: %s" % (
            ", ".join("%s %s" % (n, lab.ip(n)) for n in NODES), time.monotonic() - t, lab.inventory))
    return 0


def restart_guests(lab, st):
    close_control_masters(lab)
    stop_nodes(lab, st)
    make_hostfs(lab, st)
    make_seeds(lab)
    write_access_files(lab)
    start_nodes(lab, st)
    wait_ready(lab)


def cmd_reset(lab, args):
    with lab_lock(lab):
        st = lab.load()
        if lab.netns_id() is None or not st.get("nodes") or st.get("netns_id") != lab.netns_id():
            raise LabError("lab %s is not up: run tests/lab/lab up" % lab.name)
        t = time.monotonic()
        restart_guests(lab, st)
        write_inventory(lab)
        lab.progress("lab reset: fresh roots and blank disks, ready in %.1fs" % (time.monotonic() - t))
    return 0


def cmd_down(lab, args):
    if lab.inside():
        raise LabError("lab down cannot run inside the lab namespace (it would end its own caller)")
    t = time.monotonic()
    with lab_lock(lab):
        st = lab.load()
        teardown(lab, st)
    lab.progress("lab down in %.1fs" % (time.monotonic() - t))
    return report_clean(lab)


def cmd_check_clean(lab, args):
    return report_clean(lab)


def require_up(lab):
    if lab.netns_id() is None:
        raise LabError("lab %s is not up (no netns %s): run tests/lab/lab up" % (lab.name, lab.netns))


def recorded_node(lab, args, want_alive):
    """The node named in args, recorded by the lab, in the wanted state (running or stopped)."""
    if len(args) != 1 or args[0] not in NODES:
        raise LabError("usage: lab %s {%s}" % ("stop" if want_alive else "start", ",".join(NODES)))
    require_up(lab)
    st = lab.load()
    info = (st.get("nodes") or {}).get(args[0])
    if not info:
        raise LabError("%s is not part of the running lab: run tests/lab/lab up" % args[0])
    if alive(info["pid"], info["start"]) != want_alive:
        raise LabError("%s (pid %s) is %s" % (args[0], info["pid"], "not running" if want_alive else "already running"))
    return st, args[0], info


def cmd_stop(lab, args):
    """Pull the plug: SIGKILL every host process of the guest, no shutdown; disks stay as they are."""
    with lab_lock(lab):
        st, node, info = recorded_node(lab, args, want_alive=True)
        left = end_processes(lab, guest_processes({node: info}), grace=None, what="%s's processes" % node)
        if left:
            raise LabError("%s's processes survive SIGKILL: %s" % (node, sorted(left)))
    lab.progress("%s stopped (pid %s killed, its disks kept)" % (node, info["pid"]))
    return 0


def cmd_start(lab, args):
    """Boot a stopped node again on its own COW root and data disks; wait for sshd and glusterd."""
    with lab_lock(lab):
        st, node, info = recorded_node(lab, args, want_alive=False)
        t = time.monotonic()
        close_control_masters(lab, node)  # their connections died with the old guest
        boot_node(lab, st, node, info.get("machine_id") or uuid.uuid4().hex)
        timeout = float(os.environ.get("VMSTORAGE_LAB_BOOT_TIMEOUT") or 300)
        if probe(lab, [node], time.monotonic() + timeout) != {node}:
            raise LabError("%s not ready after %.0fs; console %s:\n%s" % (
                node, timeout, os.path.join(lab.node_dir(node), "console.log"), console_tail(lab, node)))
    lab.progress("%s started on its own disks, ready (%s) in %.1fs" % (
        node, READINESS[st.get("variant") or "prebuilt"][1], time.monotonic() - t))
    return 0


def cmd_replace_disk(lab, args):
    """A dead data disk swapped for a new, blank one while its node is stopped (`lab stop` first)."""
    if len(args) != 2 or args[1] not in DISKS:
        raise LabError("usage: lab replace-disk {%s} {%s} (the node stopped first: lab stop NODE)" % (",".join(NODES), ",".join(DISKS)))
    with lab_lock(lab):
        _st, node, _info = recorded_node(lab, args[:1], want_alive=False)
        blank_disk(os.path.join(safe_dir(lab.node_dir(node), "the node dir of " + node), args[1] + ".img"))
    lab.progress("%s's %s replaced by a blank %d GiB disk; `lab start %s` boots it" % (node, args[1], DISK_SIZE // 1024 ** 3, node))
    return 0


def cmd_run(lab, args):
    if not args:
        raise LabError("usage: lab run CMD [ARGS...]")
    require_up(lab)
    cmd = lab.in_ns(args)
    sys.stdout.flush()
    try:
        os.execvpe(cmd[0], cmd, lab.env())
    except FileNotFoundError:
        raise LabError("command not found: %s" % cmd[0])


def cmd_ssh(lab, args):
    if not args or args[0] not in NODES:
        raise LabError("usage: lab ssh {%s} [CMD...]" % ",".join(NODES))
    require_up(lab)
    cmd = lab.in_ns(["ssh", "-F", lab.ssh_config] + ([] if len(args) > 1 else ["-t"]) + args)
    sys.stdout.flush()
    os.execvpe(cmd[0], cmd, lab.env())


def cmd_inventory(lab, args):
    print(lab.inventory)
    if not os.path.exists(lab.inventory):
        print("lab %s is not up (no inventory yet): run tests/lab/lab up" % lab.name, file=sys.stderr)
        return 1
    return 0


def cmd_status(lab, args):
    st = lab.load()
    nid = lab.netns_id()
    print("lab %s: netns %s (%s), subnet %s.0/24, state %s, image %s %s %s" % (
        lab.name, lab.netns, "present" if nid else "absent", lab.prefix, lab.state,
        st.get("variant") or "prebuilt", st.get("suite") or "bookworm", st.get("digest") or "-"))
    nodes = st.get("nodes") or {}
    running = [n for n in NODES if n in nodes and alive(nodes[n]["pid"], nodes[n]["start"])]
    ready = probe(lab, running, time.monotonic() + 8) if nid and running else set()
    for n in NODES:
        v = nodes.get(n)
        state = "up" if n in ready else ("running, not answering" if n in running else "down")
        print("%-6s pid %-8s %-15s %s" % (n, v["pid"] if v else "-", lab.ip(n), state))
    return 0 if len(ready) == len(NODES) else 1


COMMANDS = {
    "up": cmd_up, "down": cmd_down, "reset": cmd_reset, "run": cmd_run, "ssh": cmd_ssh,
    "inventory": cmd_inventory, "status": cmd_status, "check-clean": cmd_check_clean,
    "stop": cmd_stop, "start": cmd_start, "replace-disk": cmd_replace_disk,
}


def main(argv):
    if len(argv) < 2 or argv[1] not in COMMANDS:
        print(__doc__.split("\n\n")[1] if len(argv) < 2 or argv[1] not in ("-h", "--help") else __doc__,
              file=sys.stderr)
        return 0 if len(argv) > 1 and argv[1] in ("-h", "--help") else 2
    if os.geteuid() != 0:
        print("lab: needs root (network namespaces, taps)", file=sys.stderr)
        return 1

    def on_term(signum, frame):
        raise KeyboardInterrupt("signal %d" % signum)

    signal.signal(signal.SIGTERM, on_term)
    lab = None
    try:
        lab = Lab()
        lab.secure()
        if argv[1] in ("down", "reset"):
            lab.log("lab %s" % argv[1])
        return COMMANDS[argv[1]](lab, argv[2:])
    except LabError as exc:
        print("lab: error: %s" % exc, file=sys.stderr)
        if lab is not None:
            lab.log("error: %s" % exc)
        return 1
    except KeyboardInterrupt:
        print("lab: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main(sys.argv))
