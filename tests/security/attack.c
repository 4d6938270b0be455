/* Escape attempts run inside pysandbox sandboxes by tests/security (compiled with gcc -static).
 *
 * usage: attack NAME [ARG...]   one attempt
 *        attack all SECRET HOSTPID   every attempt that needs no special set-up, each in its own child
 * Each attempt prints one line:  NAME SUCCEEDED|BLOCKED DETAIL
 * SUCCEEDED means the attempt achieved what an attacker wanted (or, for kernel calls with harmless
 * arguments, got past the kernel's permission checks); BLOCKED carries the errno that stopped it.
 * Every probe is harmless even if it succeeds: invalid arguments past the permission check, opens
 * for writing that write nothing, a ring or map that is closed at once.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/perf_event.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <dirent.h>
#include <unistd.h>

#define SECRET_MAX 256

static void result(const char *name, int ok, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void result(const char *name, int ok, const char *fmt, ...) {
    char detail[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    printf("%s %s %s\n", name, ok ? "SUCCEEDED" : "BLOCKED", detail);
    fflush(stdout);
}

static const char *err(void) { return strerrorname_np(errno) ? strerrorname_np(errno) : "E?"; }

/* A call with harmless arguments: EPERM/EACCES (or ENOSYS) is the permission wall; any other
 * outcome means the caller got past it. */
static void past_permission(const char *name, long rc) {
    if (rc >= 0) result(name, 1, "rc=%ld", rc);
    else if (errno == EPERM || errno == EACCES || errno == ENOSYS) result(name, 0, "%s", err());
    else result(name, 1, "past the permission check: %s", err());
}

static void a_mount(const char *target) {
    mkdir(target, 0755);
    if (mount("none", target, "tmpfs", 0, "size=1m") == 0) result("mount", 1, "tmpfs on %s", target);
    else result("mount", 0, "%s", err());
}

static void a_unshare_user(void) {
    if (unshare(CLONE_NEWUSER) == 0) result("unshare-user", 1, "new user namespace");
    else result("unshare-user", 0, "%s", err());
}

static void a_clone_newns(void) {
    long pid = syscall(SYS_clone, CLONE_NEWNS | SIGCHLD, 0, 0, 0, 0);
    if (pid == 0) _exit(0);
    if (pid > 0) { waitpid(pid, NULL, 0); result("clone-newns", 1, "child in a new mount namespace"); }
    else result("clone-newns", 0, "%s", err());
}

/* Entering another namespace: those of PID 1, else (not visible to an unprivileged user) our own. */
static void a_setns(void) {
    const char *kinds[] = {"mnt", "net", "pid", "user", "uts", "ipc", "cgroup"};
    const char *owners[] = {"/proc/1/ns", "/proc/self/ns"};
    int tried = 0, first_errno = 0;
    for (int o = 0; o < 2 && !tried; o++) {
        for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++) {
            char path[64];
            snprintf(path, sizeof path, "%s/%s", owners[o], kinds[i]);
            int fd = open(path, O_RDONLY);
            if (fd < 0) continue;
            tried++;
            if (setns(fd, 0) == 0) { result("setns", 1, "entered %s", path); return; }
            if (!first_errno) first_errno = errno;
            close(fd);
        }
    }
    errno = first_errno;
    result("setns", 0, "%s (%d namespaces tried)", tried ? err() : "none visible", tried);
}

static void a_ptrace(pid_t host_pid) {
    if (ptrace(PTRACE_ATTACH, host_pid, 0, 0) == 0) result("ptrace", 1, "attached to pid %d", host_pid);
    else result("ptrace", 0, "pid %d: %s", host_pid, err());
}

static void a_ptrace_child(void) {
    pid_t child = fork();
    if (child == 0) { pause(); _exit(0); }
    long rc = ptrace(PTRACE_ATTACH, child, 0, 0);
    int saved = errno;
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    errno = saved;
    if (rc == 0) result("ptrace-child", 1, "attached to own child");
    else result("ptrace-child", 0, "%s", err());
}

static void a_keyctl(void) {
    long id = syscall(SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -4 /* KEY_SPEC_USER_KEYRING */, 0);
    if (id >= 0) result("keyctl", 1, "user keyring %ld", id);
    else result("keyctl", 0, "%s", err());
}

static void a_bpf(void) {
    union bpf_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.map_type = BPF_MAP_TYPE_ARRAY;
    attr.key_size = 4;
    attr.value_size = 4;
    attr.max_entries = 1;
    long fd = syscall(SYS_bpf, BPF_MAP_CREATE, &attr, sizeof attr);
    if (fd >= 0) { close(fd); result("bpf", 1, "map created"); }
    else result("bpf", 0, "%s", err());
}

static void a_perf(void) {
    struct perf_event_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.type = PERF_TYPE_SOFTWARE;
    attr.size = sizeof attr;
    attr.config = PERF_COUNT_SW_CPU_CLOCK;
    attr.exclude_kernel = 1;
    attr.exclude_hv = 1;
    long fd = syscall(SYS_perf_event_open, &attr, 0, -1, -1, 0);
    if (fd >= 0) { close(fd); result("perf_event_open", 1, "event opened"); }
    else result("perf_event_open", 0, "%s", err());
}

static void a_userfaultfd(void) {
    long fd = syscall(SYS_userfaultfd, O_CLOEXEC | 1 /* UFFD_USER_MODE_ONLY */);
    if (fd >= 0) { close(fd); result("userfaultfd", 1, "fd created"); }
    else result("userfaultfd", 0, "%s", err());
}

static void a_io_uring(void) {
    char params[120];
    memset(params, 0, sizeof params);
    long fd = syscall(425 /* io_uring_setup */, 4, params);
    if (fd >= 0) { close(fd); result("io_uring_setup", 1, "ring created"); }
    else result("io_uring_setup", 0, "%s", err());
}

/* Shocker (2014): open the host filesystem's root directory by a guessed file handle (ext4 root inode 2). */
static void a_shocker(const char *mount_point) {
    struct { unsigned int bytes; int type; uint32_t ino, gen; } h = {8, 1 /* FILEID_INO32_GEN */, 2, 0};
    int mfd = open(mount_point, O_RDONLY | O_DIRECTORY);
    if (mfd < 0) { result("open_by_handle_at", 0, "no mount fd: %s", err()); return; }
    long fd = syscall(SYS_open_by_handle_at, mfd, &h, O_RDONLY | O_DIRECTORY);
    if (fd < 0) { result("open_by_handle_at", 0, "%s", err()); return; }
    DIR *d = fdopendir((int)fd);
    struct dirent *e;
    int n = 0;
    while (d && (e = readdir(d)) != NULL) n++;
    result("open_by_handle_at", 1, "opened the host root by handle (%d entries)", n);
}

static void a_kexec(void) { past_permission("kexec_load", syscall(SYS_kexec_load, 0, 0, 0, 0x00FF0000)); }
static void a_init_module(void) { past_permission("init_module", syscall(SYS_init_module, NULL, 0, "")); }
static void a_reboot(void) { past_permission("reboot", syscall(SYS_reboot, 0xfee1dead, 672274793, 0x0, 0)); }
static void a_swapon(void) { past_permission("swapon", syscall(SYS_swapon, "/tmp/psb-no-such-swap", 0)); }

static void a_mknod_block(void) {
    const char *path = "/tmp/psb-blockdev";
    struct stat st;
    dev_t dev = makedev(254, 0);
    if (stat("/", &st) == 0) dev = st.st_dev;  /* the disk the root filesystem lives on */
    if (mknod(path, S_IFBLK | 0600, dev) != 0) { result("mknod-block", 0, "mknod: %s", err()); return; }
    int fd = open(path, O_RDONLY);
    if (fd < 0) { result("mknod-block", 0, "node made, open: %s", err()); unlink(path); return; }
    char buf[512];
    ssize_t n = read(fd, buf, sizeof buf);
    close(fd);
    unlink(path);
    if (n > 0) result("mknod-block", 1, "read %zd bytes of the block device", n);
    else result("mknod-block", 0, "node opened, read: %s", n < 0 ? err() : "0 bytes");
}

static void a_tiocsti(void) {
    const char *cmd = "echo PSB-INJECTED\n";
    int injected = 0;
    for (const char *c = cmd; *c; c++)
        if (ioctl(0, TIOCSTI, c) == 0) injected++;
    if (injected) result("tiocsti", 1, "%d characters pushed into the terminal", injected);
    else result("tiocsti", 0, "%s", err());
}

static void open_for_write(const char *name, const char *path) {
    int fd = open(path, O_WRONLY);
    if (fd >= 0) { close(fd); result(name, 1, "%s open for writing", path); }
    else result(name, 0, "%s: %s", path, err());
}

static void a_proc_sys(void) { open_for_write("proc-sys", "/proc/sys/vm/drop_caches"); }
static void a_core_pattern(void) { open_for_write("core_pattern", "/proc/sys/kernel/core_pattern"); }
static void a_sysrq(void) { open_for_write("sysrq-trigger", "/proc/sysrq-trigger"); }

/* CVE-2022-0492: a cgroup v1 hierarchy mounted (after unshare -UrmC) with a writable release_agent. */
static void a_release_agent(void) {
    const char *existing[] = {"/sys/fs/cgroup/memory/release_agent", "/sys/fs/cgroup/rdma/release_agent",
                              "/sys/fs/cgroup/pids/release_agent"};
    for (size_t i = 0; i < sizeof existing / sizeof *existing; i++) {
        int fd = open(existing[i], O_WRONLY);
        if (fd >= 0) { close(fd); result("release_agent", 1, "%s open for writing", existing[i]); return; }
    }
    if (unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWCGROUP) != 0 && errno != EPERM) { /* keep going */ }
    mkdir("/tmp/psb-cg", 0755);
    const char *controllers[] = {"memory", "rdma", "pids", "cpu"};
    for (size_t i = 0; i < sizeof controllers / sizeof *controllers; i++) {
        if (mount("cgroup", "/tmp/psb-cg", "cgroup", 0, controllers[i]) == 0) {
            int fd = open("/tmp/psb-cg/release_agent", O_WRONLY);
            if (fd >= 0) { close(fd); result("release_agent", 1, "mounted %s, release_agent writable", controllers[i]); return; }
            result("release_agent", 1, "mounted a cgroup v1 %s hierarchy", controllers[i]);
            return;
        }
    }
    result("release_agent", 0, "mount cgroup: %s", err());
}

static void a_read_masked(const char *name, const char *path) {
    int fd = open(path, O_RDONLY);
    if (fd < 0) { result(name, 0, "%s: %s", path, err()); return; }
    char buf[4096];
    ssize_t n = read(fd, buf, sizeof buf);
    close(fd);
    if (n > 0) result(name, 1, "read %zd bytes of %s", n, path);
    else result(name, 0, "%s reads %s", path, n < 0 ? err() : "empty");
}

static int read_secret(const char *path, const char *want) {
    char buf[SECRET_MAX] = {0};
    int fd = open(path, O_RDONLY);
    if (fd < 0) return 0;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    return n > 0 && strstr(buf, want) != NULL;
}

static void secret_token(const char *secret_path, char *token, size_t size) {
    /* the test writes the token into the file name too, so the sandbox never needs to read it */
    const char *slash = strrchr(secret_path, '/');
    snprintf(token, size, "%s", slash ? slash + 1 : secret_path);
    char *dot = strrchr(token, '.');
    if (dot) *dot = 0;
}

/* Host files through /proc/PID/root and /proc/PID/cwd of every visible process. */
static void a_proc_root(const char *secret) {
    char token[SECRET_MAX], path[1024];
    secret_token(secret, token, sizeof token);
    DIR *d = opendir("/proc");
    struct dirent *e;
    int tried = 0;
    while (d && (e = readdir(d)) != NULL) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
        const char *links[] = {"root", "cwd"};
        for (int i = 0; i < 2; i++) {
            snprintf(path, sizeof path, "/proc/%s/%s%s", e->d_name, links[i], secret);
            tried++;
            if (read_secret(path, token)) { result("proc-root", 1, "read %s", path); return; }
        }
    }
    result("proc-root", 0, "host file unreachable through %d /proc links", tried);
}

/* CVE-2024-21626 class: a host directory fd leaked into the workload, or a cwd outside the root. */
static void a_fd_leak(const char *secret) {
    char token[SECRET_MAX], path[2048], rel[1024];
    secret_token(secret, token, sizeof token);
    snprintf(rel, sizeof rel, "../../../../../../../../..%s", secret);
    int leaked = 0;
    for (int fd = 3; fd < 1024; fd++) {
        struct stat st;
        if (fstat(fd, &st) != 0) continue;
        leaked++;
        int f = openat(fd, rel, O_RDONLY);
        if (f >= 0) { close(f); result("fd-leak", 1, "fd %d reaches %s", fd, secret); return; }
        snprintf(path, sizeof path, "/proc/self/fd/%d/%s", fd, rel);
        if (read_secret(path, token)) { result("fd-leak", 1, "read %s", path); return; }
    }
    char cwd[1024] = "?";
    if (!getcwd(cwd, sizeof cwd)) snprintf(cwd, sizeof cwd, "unreachable: %s", err());
    if (read_secret(rel, token)) { result("fd-leak", 1, "cwd %s reaches %s", cwd, secret); return; }
    result("fd-leak", 0, "%d fds above 2, cwd %s", leaked, cwd);
}

static void a_euid(void) { printf("%d %d\n", getuid(), geteuid()); }

/* A setuid-root binary in the image (made by the test): under no_new_privs it must not raise euid. */
static void a_setuid(const char *suid) {
    int p[2];
    if (pipe(p) != 0) { result("setuid", 0, "pipe: %s", err()); return; }
    pid_t pid = fork();
    if (pid == 0) {
        dup2(p[1], 1);
        execl(suid, suid, "euid", (char *)NULL);
        _exit(127);
    }
    close(p[1]);
    char buf[64] = {0};
    ssize_t n = read(p[0], buf, sizeof buf - 1);
    int status = 0;
    waitpid(pid, &status, 0);
    int uid = -1, euid = -1;
    if (n <= 0 || sscanf(buf, "%d %d", &uid, &euid) != 2) { result("setuid", 0, "%s did not run (status %d)", suid, status); return; }
    if (euid != uid) result("setuid", 1, "uid %d ran %s with euid %d", uid, suid, euid);
    else result("setuid", 0, "uid %d stays euid %d", uid, euid);
}

static void a_fill_tmp(void) {
    static char chunk[1 << 20];
    memset(chunk, 'x', sizeof chunk);
    int fd = open("/tmp/psb-fill", O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0) { result("fill-tmp", 0, "open: %s", err()); return; }
    long long total = 0;
    for (;;) {
        ssize_t n = write(fd, chunk, sizeof chunk);
        if (n <= 0) break;
        total += n;
        if (total > (8LL << 30)) break;  /* 8 GiB: clearly not held */
    }
    int saved = errno;
    close(fd);
    unlink("/tmp/psb-fill");
    errno = saved;
    result("fill-tmp", 0, "%s bytes=%lld", err(), total);
}


static int run_one(const char *name, char **argv, int argc) {
    const char *a1 = argc > 0 ? argv[0] : "";
    if (!strcmp(name, "mount")) a_mount(argc > 0 ? a1 : "/tmp/psb-mnt");
    else if (!strcmp(name, "unshare-user")) a_unshare_user();
    else if (!strcmp(name, "clone-newns")) a_clone_newns();
    else if (!strcmp(name, "setns")) a_setns();
    else if (!strcmp(name, "ptrace")) a_ptrace(atoi(a1));
    else if (!strcmp(name, "ptrace-child")) a_ptrace_child();
    else if (!strcmp(name, "keyctl")) a_keyctl();
    else if (!strcmp(name, "bpf")) a_bpf();
    else if (!strcmp(name, "perf_event_open")) a_perf();
    else if (!strcmp(name, "userfaultfd")) a_userfaultfd();
    else if (!strcmp(name, "io_uring_setup")) a_io_uring();
    else if (!strcmp(name, "open_by_handle_at")) a_shocker(argc > 0 ? a1 : "/");
    else if (!strcmp(name, "kexec_load")) a_kexec();
    else if (!strcmp(name, "init_module")) a_init_module();
    else if (!strcmp(name, "reboot")) a_reboot();
    else if (!strcmp(name, "swapon")) a_swapon();
    else if (!strcmp(name, "mknod-block")) a_mknod_block();
    else if (!strcmp(name, "tiocsti")) a_tiocsti();
    else if (!strcmp(name, "proc-sys")) a_proc_sys();
    else if (!strcmp(name, "core_pattern")) a_core_pattern();
    else if (!strcmp(name, "sysrq-trigger")) a_sysrq();
    else if (!strcmp(name, "release_agent")) a_release_agent();
    else if (!strcmp(name, "kcore")) a_read_masked("kcore", "/proc/kcore");
    else if (!strcmp(name, "proc-keys")) a_read_masked("proc-keys", "/proc/keys");
    else if (!strcmp(name, "proc-root")) a_proc_root(a1);
    else if (!strcmp(name, "fd-leak")) a_fd_leak(a1);
    else if (!strcmp(name, "setuid")) a_setuid(argc > 0 ? a1 : "/suid-attack");
    else if (!strcmp(name, "fill-tmp")) a_fill_tmp();
    else if (!strcmp(name, "euid")) a_euid();
    else { fprintf(stderr, "attack: unknown attempt %s\n", name); return 2; }
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: attack NAME [ARG...] | attack all SECRET HOSTPID VOLUME\n"); return 2; }
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (strcmp(argv[1], "all") != 0) return run_one(argv[1], argv + 2, argc - 2);
    if (argc < 5) { fprintf(stderr, "usage: attack all SECRET HOSTPID VOLUME\n"); return 2; }
    char *secret = argv[2], *hostpid = argv[3], *volume = argv[4];
    struct { const char *name; char *arg; } plan[] = {
        {"mount", volume}, {"unshare-user", NULL}, {"clone-newns", NULL}, {"setns", NULL},
        {"ptrace", hostpid}, {"ptrace-child", NULL}, {"keyctl", NULL}, {"bpf", NULL},
        {"perf_event_open", NULL}, {"userfaultfd", NULL}, {"io_uring_setup", NULL},
        {"open_by_handle_at", volume}, {"kexec_load", NULL}, {"init_module", NULL}, {"reboot", NULL},
        {"swapon", NULL}, {"mknod-block", NULL}, {"proc-sys", NULL}, {"core_pattern", NULL},
        {"sysrq-trigger", NULL}, {"release_agent", NULL}, {"kcore", NULL}, {"proc-keys", NULL},
        {"proc-root", secret}, {"fd-leak", secret}, {"setuid", NULL}, {"fill-tmp", NULL},
    };
    for (size_t i = 0; i < sizeof plan / sizeof *plan; i++) {
        pid_t pid = fork();
        if (pid == 0) {
            alarm(60);
            char *args[1] = {plan[i].arg};
            _exit(run_one(plan[i].name, args, plan[i].arg ? 1 : 0));
        }
        int status = 0;
        waitpid(pid, &status, 0);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
            printf("%s CRASHED status=%d\n", plan[i].name, status);
    }
    return 0;
}
