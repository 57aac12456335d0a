"""Start the kernel inside a sandbox. Run by the grader as `python -I -S launcher.py`, with the configuration
(JSON) on its standard input: a command line would show host paths in the sandbox's /proc/1/cmdline.

This file runs with the grader's rights (root, or an ordinary user with user namespaces) and only uses the
standard library. It never runs student code itself: it builds the sandbox, then replaces the child with the
kernel. Steps, in the child that becomes process 1 of a new PID namespace:

    new namespaces    mount, PID, network (no interface but a downed loopback), IPC, UTS; plus user (userns mode)
    a new root        an empty tmpfs holding read-only binds of the system, the Python install, the virtual
                      environment and the engine package; forbidden libraries masked by empty mounts; a fresh
                      /proc, a minimal /dev, size-limited tmpfs for /tmp and the student's working copy
    chroot            into that root: solutions/, hidden tests, the gradebook, other students do not exist there
    limits            rlimits (CPU, address space, processes, open files, file size), no core dumps, and
                      where the machine has them, memory and pids control groups for the sandbox as a whole
    privileges        a separate unprivileged uid/gid, no supplementary groups, no capabilities, no_new_privs
    system calls      a seccomp filter closes the kernel's keyrings (they belong to a uid, not to a sandbox)
    exec              the kernel, with a scrubbed environment, as a child of a tiny init (process 1 of the
                      namespace) that forwards interrupts and reports how the kernel ended; both die with
                      this launcher (PDEATHSIG)

The parent stays outside the sandbox's PID namespace, forwards SIGINT (interrupt) to the kernel, and exits
with the kernel's status (128 + signal number when the kernel was killed), which the supervisor trusts.
"""

import ctypes
import json
import os
import resource
import shutil
import signal
import sys

CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC = 0x00020000, 0x04000000, 0x08000000
CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET = 0x10000000, 0x20000000, 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
PR_SET_PDEATHSIG, PR_SET_NO_NEW_PRIVS, PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 1, 38, 22, 2
# seccomp: the architecture, and the numbers of add_key, request_key and keyctl (x86-64 also in its x32 ABI)
KEYRING_CALLS = {
    "x86_64": (0xC000003E, (248, 249, 250, 0x40000000 | 248, 0x40000000 | 249, 0x40000000 | 250)),
    "aarch64": (0xC00000B7, (217, 218, 219)),
}

libc = ctypes.CDLL(None, use_errno=True)


def check(result: int, what: str) -> None:
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    enc = lambda s: None if s is None else s.encode()  # noqa: E731
    check(libc.mount(enc(source), enc(target), enc(fstype), ctypes.c_ulong(flags), enc(data)), f"mount {target}")


def inside(root: str, path: str) -> str:
    return os.path.join(root, path.lstrip("/"))


def bind(root: str, source: str, target: str, writable: bool = False) -> None:
    """Bind `source` at `target` in the new root, read-only unless writable (a file or a directory)."""
    dest = inside(root, target)
    if os.path.isdir(source):
        os.makedirs(dest, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        open(dest, "a").close()
    mount(source, dest, None, MS_BIND | MS_REC)
    flags = MS_REMOUNT | MS_BIND | MS_NOSUID | MS_NODEV | (0 if writable else MS_RDONLY)
    mount(None, dest, None, flags)


def tmpfs(root: str, target: str, size: str, mode: str = "0755", uid: int = 0) -> None:
    dest = inside(root, target)
    os.makedirs(dest, exist_ok=True)
    mount("tmpfs", dest, "tmpfs", MS_NOSUID | MS_NODEV, f"size={size},mode={mode},uid={uid},gid={uid}")


def build_root(cfg: dict) -> None:
    root = cfg["root"]
    mount(None, "/", None, MS_REC | MS_PRIVATE)   # nothing we mount leaks back to the host
    mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, "size=16m,mode=0755")
    # Scratch space first, so that binds below it (a checkout under /tmp, say) stay visible on top of it.
    tmpfs(root, "/dev/shm", "16m", "1777")
    tmpfs(root, "/tmp", cfg["tmp_size"], "1777")
    for link, target in cfg["symlinks"]:
        os.symlink(target, inside(root, link))
    for source, target in cfg["binds"]:
        bind(root, source, target)
    for hidden in cfg["masks"]:                   # forbidden libraries: an empty read-only directory
        dest = inside(root, hidden)
        if os.path.isdir(dest):
            mount("tmpfs", dest, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV, "size=4k,mode=0555")
    os.makedirs(inside(root, "proc"))
    mount("proc", inside(root, "proc"), "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    for dev in ("null", "zero", "random", "urandom"):
        bind(root, f"/dev/{dev}", f"/dev/{dev}", writable=True)
    uid = cfg["uid"] if cfg["mode"] == "root" else 0   # in a user namespace, 0 is the grader's own uid
    tmpfs(root, cfg["home"], cfg["work_size"], "0700", uid)
    work = inside(root, cfg["work"])
    if cfg.get("files"):
        shutil.copytree(cfg["files"], work, symlinks=True, dirs_exist_ok=True)  # links stay links: no reading
                                                                              # their targets with our rights
    os.makedirs(work, exist_ok=True)
    for dirpath, dirnames, filenames in os.walk(inside(root, cfg["home"])):
        for name in [dirpath] + [os.path.join(dirpath, n) for n in dirnames + filenames]:
            os.lchown(name, uid, uid)
    kernel_dir = inside(root, cfg["kernel_dir"])
    os.makedirs(kernel_dir, exist_ok=True)
    for name in cfg["kernel_files"]:
        shutil.copy(name, kernel_dir)
    mount(None, root, None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)


def deny_keyrings() -> None:
    """Make add_key, request_key and keyctl fail with EPERM. Keyrings belong to a uid, and a uid serves one
    sandbox after another: a key one student adds would be there for the next, and stay on the machine. System
    calls of another architecture (32-bit code) are refused altogether, so that none goes around the filter."""
    if os.uname().machine not in KEYRING_CALLS:
        return
    arch, numbers = KEYRING_CALLS[os.uname().machine]
    load, jump_if_equal, ret = 0x20, 0x15, 0x06               # BPF_LD|W|ABS, BPF_JMP|JEQ|K, BPF_RET|K
    allow, deny = 0x7FFF0000, 0x00050000 | 1                   # SECCOMP_RET_ALLOW, SECCOMP_RET_ERRNO | EPERM
    program = [(load, 0, 0, 4), (jump_if_equal, 1, 0, arch), (ret, 0, 0, deny), (load, 0, 0, 0)]
    program += [(jump_if_equal, len(numbers) - i, 0, nr) for i, nr in enumerate(numbers)]   # to the last
    program += [(ret, 0, 0, allow), (ret, 0, 0, deny)]

    class Instruction(ctypes.Structure):
        _fields_ = [("code", ctypes.c_ushort), ("jt", ctypes.c_ubyte), ("jf", ctypes.c_ubyte), ("k", ctypes.c_uint)]

    class Program(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(Instruction))]

    instructions = (Instruction * len(program))(*program)
    check(libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(Program(len(program), instructions)), 0, 0),
          "seccomp")


def enter(cfg: dict, kernel_main=None) -> None:
    """In the child: finish the sandbox and exec the kernel (or, forked from a zygote whose interpreter has the
    kernel's libraries loaded already, call `kernel_main(cfg)` in the kernel's process instead). Never returns."""
    build_root(cfg)
    os.chdir(cfg["root"])
    os.chroot(".")
    os.chdir(cfg["work"])
    libc.sethostname(b"sandbox", 7)
    for name, (soft, hard) in cfg["rlimits"].items():
        resource.setrlimit(getattr(resource, name), (soft, hard))
    if cfg["mode"] == "root":
        uid = cfg["uid"]
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)
    check(libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")
    deny_keyrings()
    check(libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0), "pdeathsig")
    kernel = os.fork()
    if kernel == 0:
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if kernel_main is not None:
            kernel_main(cfg)
        os.execve(cfg["argv"][0], cfg["argv"], cfg["env"])
    init(kernel)


def init(kernel: int) -> None:
    """Process 1 of the sandbox: forward interrupts to the kernel, reap orphans, and exit with the kernel's
    status once it ends (taking every other process of the namespace with it). The kernel must not be
    process 1 itself: the system ignores signals it has no handler for, such as SIGXCPU or SIGABRT."""
    signal.signal(signal.SIGINT, lambda *_: os.kill(kernel, signal.SIGINT))
    while True:
        try:
            pid, status = os.wait()
        except InterruptedError:
            continue
        if pid == kernel:
            os._exit(exit_code(status))


def exit_code(status: int) -> int:
    return 128 + os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)


def write_map(path: str, text: str) -> None:
    with open(path, "w") as f:
        f.write(text)


def join_cgroups(groups: list) -> None:
    """Create the sandbox's control groups (cgroups.py chose them), set their limits and move in: everything
    started from here on is counted in them."""
    for folder, settings in groups:
        os.makedirs(folder)
        for file, value in settings.items():
            with open(os.path.join(folder, file), "w") as f:
                f.write(value)
        with open(os.path.join(folder, "cgroup.procs"), "w") as f:
            f.write(str(os.getpid()))


def read_config() -> dict:
    """The configuration from standard input, which then becomes /dev/null (the kernel inherits it)."""
    cfg = json.loads(sys.stdin.buffer.read())
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    return cfg


def main() -> None:
    launch(read_config())


def launch(cfg: dict, kernel_main=None) -> None:
    """Build the sandbox described by `cfg` and run the kernel in it; exit with the kernel's status."""
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)   # the grader died: take the sandbox down too
    join_cgroups(cfg.get("cgroups", []))
    flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS
    if cfg["mode"] == "userns":
        uid, gid = os.getuid(), os.getgid()
        check(libc.unshare(CLONE_NEWUSER | flags), "unshare")
        write_map("/proc/self/setgroups", "deny")
        write_map("/proc/self/uid_map", f"0 {uid} 1")
        write_map("/proc/self/gid_map", f"0 {gid} 1")
    else:
        check(libc.unshare(flags), "unshare")
    pid = os.fork()
    if pid == 0:
        try:
            enter(cfg, kernel_main)
        except BaseException as err:  # report why the sandbox could not be built, then die
            os.write(2, f"sandbox setup failed: {err}\n".encode())
            os._exit(112)
    signal.signal(signal.SIGINT, lambda *_: os.kill(pid, signal.SIGINT))
    signal.signal(signal.SIGTERM, lambda *_: os.kill(pid, signal.SIGKILL))
    for fd in cfg["keep_fds"]:
        os.close(fd)
    while True:
        try:
            _, status = os.waitpid(pid, 0)
            break
        except InterruptedError:
            continue
    os._exit(exit_code(status))


if __name__ == "__main__":
    main()
