#if defined(__linux__)
#define _GNU_SOURCE
#endif
#include "CProcess.h"

#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <unistd.h>

int cp_spawn_file_actions_chdir(posix_spawn_file_actions_t *actions, const char *path) {
    return posix_spawn_file_actions_addchdir_np(actions, path);
}

void cp_unbuffer_standard_output(void) { setvbuf(stdout, NULL, _IONBF, 0); }

#if defined(__linux__)
#include <dlfcn.h>
#include <errno.h>
#include <execinfo.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

int cp_become_subreaper(void) { return prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); }

int cp_is_dumpable(void) { return prctl(PR_GET_DUMPABLE, 0, 0, 0, 0); }

#if defined(__x86_64__)
#define AUDIT_ARCH_HERE AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define AUDIT_ARCH_HERE AUDIT_ARCH_AARCH64
#endif

#define LOAD(field) BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, field))
#define RETURN(value) BPF_STMT(BPF_RET | BPF_K, (value))
#define DENY(error) RETURN(SECCOMP_RET_ERRNO | (error))
#define ALLOW RETURN(SECCOMP_RET_ALLOW)
/// If the syscall number is `nr`, return `action`; else go on.
#define ON(nr, action) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), 0, 1), action
/// The low 32 bits of argument `i` (an int on both architectures).
#define ARG_LOW(i) offsetof(struct seccomp_data, args[i])

/// A system call made with the instruction itself, not through the C
/// library: an exercise file linked into the same program could define a
/// function named `prctl` or `getpid` that the program's own calls would
/// reach instead of the C library's. Returns the result, or -errno.
static long direct_system_call(long number, long a, long b, long c) {
    // prctl wants its unused arguments zero: the fourth and the fifth are passed as such.
#if defined(__x86_64__)
    long result;
    register long r10 __asm__("r10") = 0;
    register long r8 __asm__("r8") = 0;
    __asm__ volatile("syscall"
                     : "=a"(result)
                     : "a"(number), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8)
                     : "rcx", "r11", "memory");
    return result;
#elif defined(__aarch64__)
    register long x8 __asm__("x8") = number;
    register long x0 __asm__("x0") = a;
    register long x1 __asm__("x1") = b;
    register long x2 __asm__("x2") = c;
    register long x3 __asm__("x3") = 0;
    register long x4 __asm__("x4") = 0;
    __asm__ volatile("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4) : "memory");
    return x0;
#else
    (void)number, (void)a, (void)b, (void)c;
    return -ENOSYS;
#endif
}

// fcntl and ioctl commands that name a process to be signalled when a
// descriptor is ready (F_SETOWN, F_SETSIG, F_SETOWN_EX; FIOSETOWN,
// SIOCSPGRP): with them a process could signal another one without kill.
#define F_SETOWN_COMMAND 8
#define F_SETSIG_COMMAND 10
#define F_SETOWN_EX_COMMAND 15
// fcntl commands that take a lock or a lease: a lock on a file both can
// read is a channel between two runners.
#define F_SETLK_COMMAND 6
#define F_SETLKW_COMMAND 7
#define F_OFD_SETLK_COMMAND 37
#define F_OFD_SETLKW_COMMAND 38
#define F_SETLEASE_COMMAND 1024
// dnotify: a signal when a folder another runner reads from is read.
#define F_NOTIFY_COMMAND 1026
#define FIOSETOWN_REQUEST 0x8901
#define SIOCSPGRP_REQUEST 0x8902

// System calls newer than some C libraries' headers (the same numbers on
// x86-64 and arm64, from Linux 6.6 and 6.13).
#define FCHMODAT2_NUMBER 452
#define SETXATTRAT_NUMBER 463
#define REMOVEXATTRAT_NUMBER 466

/// The flags of open and openat that write: an access mode other than
/// O_RDONLY (O_TMPFILE needs one too), creating, truncating, appending.
#define OPEN_WRITING_FLAGS (O_ACCMODE | O_CREAT | O_TRUNC | O_APPEND)
/// If the syscall number is `nr`: allow it unless its flags (argument
/// `flags_argument`) would write, which is refused with EACCES.
#define OPEN_FOR_READING_ONLY(nr, flags_argument)                              \
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), 0, 4),                           \
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG_LOW(flags_argument)),           \
        BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, OPEN_WRITING_FLAGS, 0, 1), DENY(EACCES), ALLOW

/// Reads up to `capacity - 1` bytes of the file at `path` into `buffer`,
/// NUL-terminated, with direct system calls. Returns the length, or -1.
static long read_whole_file(const char *path, char *buffer, long capacity) {
    long fd = direct_system_call(__NR_openat, AT_FDCWD, (long)path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    long length = 0;
    while (length < capacity - 1) {
        long got = direct_system_call(__NR_read, fd, (long)(buffer + length), capacity - 1 - length);
        if (got == -EINTR) continue;
        if (got <= 0) break;
        length += got;
    }
    direct_system_call(__NR_close, fd, 0, 0);
    buffer[length] = 0;
    return length;
}

long cp_thread_count(void) {
    char stat[1024];
    if (read_whole_file("/proc/self/stat", stat, sizeof stat) <= 0) return -1;
    char *field = strrchr(stat, ')');
    if (field == NULL) return -1;
    // Fields 3 to 19 come before num_threads: 18 blanks to pass.
    for (int blanks = 0; blanks < 18 && *field != 0; field++) {
        if (*field == ' ') blanks++;
    }
    return *field >= '0' && *field <= '9' ? strtol(field, NULL, 10) : -1;
}

#if __has_include(<linux/landlock.h>)
#include <linux/landlock.h>
#define CAN_RESTRICT_READING 1
#define LANDLOCK_CREATE_RULESET_NUMBER 444
#define LANDLOCK_ADD_RULE_NUMBER 445
#define LANDLOCK_RESTRICT_SELF_NUMBER 446

/// Lets the ruleset allow reading beneath `path` (a folder: its files and
/// folders; a file: itself). A path that does not exist is left out.
static void allow_reading(long ruleset, const char *path) {
    long fd = direct_system_call(__NR_openat, AT_FDCWD, (long)path, O_PATH | O_CLOEXEC);
    if (fd < 0) return;
    struct landlock_path_beneath_attr rule = {
        .allowed_access = LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR, .parent_fd = (int32_t)fd};
    if (direct_system_call(LANDLOCK_ADD_RULE_NUMBER, ruleset, LANDLOCK_RULE_PATH_BENEATH, (long)&rule) != 0) {
        rule.allowed_access = LANDLOCK_ACCESS_FS_READ_FILE;  // not a folder
        direct_system_call(LANDLOCK_ADD_RULE_NUMBER, ruleset, LANDLOCK_RULE_PATH_BENEATH, (long)&rule);
    }
    direct_system_call(__NR_close, fd, 0, 0);
}

/// The mapped files of this process, read once: their folders are what it may read.
static char memory_map[1 << 18];
#endif

int cp_close_descriptors_from(int first) {
#if defined(__NR_close_range)
    if (direct_system_call(__NR_close_range, first, ~0U, 0) == 0) return 0;
#endif
    long limit = sysconf(_SC_OPEN_MAX);
    for (long fd = first; fd < (limit > 0 ? limit : 1024); fd++) direct_system_call(__NR_close, fd, 0, 0);
    return 0;
}

int cp_reading_restriction_version(void) {
#if defined(CAN_RESTRICT_READING)
    long version = direct_system_call(LANDLOCK_CREATE_RULESET_NUMBER, 0, 0, LANDLOCK_CREATE_RULESET_VERSION);
    return version > 0 ? (int)version : 0;
#else
    return 0;
#endif
}

/// Restricts what the process may read (Landlock), where the kernel can:
/// the folders of the files it has mapped (its program and libraries, which
/// a crash report or a library loaded later needs), /proc, and the
/// processor's facts the runtime reads. Not the kit, the
/// reference solutions, other submissions or the instructor's files.
/// Returns 0 when restricted or when the kernel has no Landlock, else -1.
static int restrict_reading(void) {
#if defined(CAN_RESTRICT_READING)
    int version = cp_reading_restriction_version();
    if (version < 1) return 0;
    // Every right to read, write, make or remove is handled, and only reading
    // is granted (beneath the paths below): a file opened by a handle, a
    // socket bound to a path, anything the system calls' filter might miss.
    uint64_t handled = LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR | LANDLOCK_ACCESS_FS_WRITE_FILE |
                       LANDLOCK_ACCESS_FS_REMOVE_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE | LANDLOCK_ACCESS_FS_MAKE_CHAR |
                       LANDLOCK_ACCESS_FS_MAKE_DIR | LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_MAKE_SOCK |
                       LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_MAKE_BLOCK | LANDLOCK_ACCESS_FS_MAKE_SYM;
    if (version >= 2) handled |= 1ULL << 13;  // LANDLOCK_ACCESS_FS_REFER
    if (version >= 3) handled |= 1ULL << 14;  // LANDLOCK_ACCESS_FS_TRUNCATE
    struct landlock_ruleset_attr attributes = {.handled_access_fs = handled};
    long ruleset = direct_system_call(LANDLOCK_CREATE_RULESET_NUMBER, (long)&attributes, sizeof attributes, 0);
    if (ruleset < 0) return -1;
    if (read_whole_file("/proc/self/maps", memory_map, sizeof memory_map) <= 0) return -1;
    char previous[4096] = "";
    for (char *line = memory_map; *line != 0;) {
        char *end = strchr(line, '\n');
        if (end != NULL) *end = 0;
        char *path = strchr(line, '/');
        char *slash = path == NULL ? NULL : strrchr(path, '/');
        if (slash != NULL && slash > path && (size_t)(slash - path) < sizeof previous) {
            *slash = 0;  // the folder
            if (strcmp(path, previous) != 0) {
                allow_reading(ruleset, path);
                strcpy(previous, path);
            }
        }
        if (end == NULL) break;
        line = end + 1;
    }
    // All of /proc, not /proc/self alone: libdispatch's thread pool reads
    // /proc/<thread>/stat of its workers, an entry beside /proc/<process>,
    // and crashes when it cannot (what another process's entry shows, its
    // user's permissions and its dumpability still guard).
    static const char *const facts[] = {
        "/proc", "/sys/devices/system/cpu", "/sys/fs/cgroup", "/dev/null", "/dev/zero", "/dev/urandom",
    };
    for (size_t index = 0; index < sizeof facts / sizeof facts[0]; index++) allow_reading(ruleset, facts[index]);
    long result = direct_system_call(LANDLOCK_RESTRICT_SELF_NUMBER, ruleset, 0, 0);
    direct_system_call(__NR_close, ruleset, 0, 0);
    return result == 0 ? 0 : -1;
#else
    return 0;
#endif
}

int cp_lock_down(void) {
#if defined(AUDIT_ARCH_HERE)
    uint32_t self = (uint32_t)direct_system_call(__NR_getpid, 0, 0, 0);
    struct sock_filter filter[] = {
        LOAD(arch),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_HERE, 1, 0),
        RETURN(SECCOMP_RET_KILL_PROCESS),
        LOAD(nr),
#if defined(__x86_64__)
        // The x32 system call numbers would slip past the names below.
        BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000, 0, 1), RETURN(SECCOMP_RET_KILL_PROCESS),
        ON(__NR_fork, DENY(EPERM)),
        ON(__NR_vfork, DENY(EPERM)),
#endif
        ON(__NR_execve, DENY(EPERM)),
        ON(__NR_execveat, DENY(EPERM)),
        ON(__NR_clone3, DENY(ENOSYS)),  // glibc falls back to clone, checked below
        ON(__NR_ptrace, DENY(EPERM)),
        ON(__NR_process_vm_readv, DENY(EPERM)),
        ON(__NR_process_vm_writev, DENY(EPERM)),
        ON(__NR_tkill, DENY(EPERM)),
        ON(__NR_rt_sigqueueinfo, DENY(EPERM)),
        ON(__NR_rt_tgsigqueueinfo, DENY(EPERM)),
        ON(__NR_pidfd_open, DENY(EPERM)),
        ON(__NR_pidfd_send_signal, DENY(EPERM)),
        ON(__NR_process_madvise, DENY(EPERM)),
        ON(__NR_io_uring_setup, DENY(ENOSYS)),  // its operations would pass by this filter
        ON(__NR_perf_event_open, DENY(EPERM)),
        // Files are read only: nothing a check needs is written, and a file
        // would outlive the runner (in /tmp, a channel to the next
        // submission's code; in /dev/shm, memory that only a reboot frees).
        OPEN_FOR_READING_ONLY(__NR_openat, 2),
#if defined(__NR_open)
        OPEN_FOR_READING_ONLY(__NR_open, 1),
        ON(__NR_creat, DENY(EACCES)),
        ON(__NR_mkdir, DENY(EACCES)),
        ON(__NR_mknod, DENY(EACCES)),
        ON(__NR_link, DENY(EACCES)),
        ON(__NR_symlink, DENY(EACCES)),
        ON(__NR_rename, DENY(EACCES)),
        ON(__NR_unlink, DENY(EACCES)),
        ON(__NR_rmdir, DENY(EACCES)),
        ON(__NR_chmod, DENY(EACCES)),
        ON(__NR_chown, DENY(EACCES)),
        ON(__NR_lchown, DENY(EACCES)),
#endif
#if defined(__NR_renameat)
        ON(__NR_renameat, DENY(EACCES)),
#endif
#if defined(__NR_openat2)
        ON(__NR_openat2, DENY(ENOSYS)),  // its flags are in memory, out of this filter's sight
#endif
        ON(__NR_mkdirat, DENY(EACCES)),
        ON(__NR_mknodat, DENY(EACCES)),
        ON(__NR_linkat, DENY(EACCES)),
        ON(__NR_symlinkat, DENY(EACCES)),
        ON(__NR_renameat2, DENY(EACCES)),
        ON(__NR_unlinkat, DENY(EACCES)),
        ON(__NR_truncate, DENY(EACCES)),
        ON(__NR_fchmod, DENY(EACCES)),
        ON(__NR_fchmodat, DENY(EACCES)),
        ON(__NR_fchown, DENY(EACCES)),
        ON(__NR_fchownat, DENY(EACCES)),
        ON(FCHMODAT2_NUMBER, DENY(EACCES)),
        ON(__NR_utimensat, DENY(EACCES)),
#if defined(__NR_utime)
        ON(__NR_utime, DENY(EACCES)),
        ON(__NR_utimes, DENY(EACCES)),
        ON(__NR_futimesat, DENY(EACCES)),
#endif
        ON(__NR_setxattr, DENY(EACCES)),
        ON(__NR_lsetxattr, DENY(EACCES)),
        ON(__NR_fsetxattr, DENY(EACCES)),
        ON(__NR_removexattr, DENY(EACCES)),
        ON(__NR_lremovexattr, DENY(EACCES)),
        ON(__NR_fremovexattr, DENY(EACCES)),
        ON(SETXATTRAT_NUMBER, DENY(EACCES)),
        ON(REMOVEXATTRAT_NUMBER, DENY(EACCES)),
        ON(__NR_memfd_create, DENY(EPERM)),
#if defined(__NR_memfd_secret)
        ON(__NR_memfd_secret, DENY(EPERM)),
#endif
        // No channel to another process: sockets (an abstract Unix socket
        // needs no file), System V and POSIX IPC, the kernel's key rings
        // (kept per user, beyond the process), and no namespaces of its own.
        ON(__NR_socket, DENY(EACCES)),
        ON(__NR_socketpair, DENY(EACCES)),
        ON(__NR_bind, DENY(EACCES)),  // a Unix socket bound to a path is a file
        ON(__NR_connect, DENY(EACCES)),
        ON(__NR_listen, DENY(EACCES)),
        ON(__NR_open_by_handle_at, DENY(EPERM)),  // opens by a handle, past the path checks
        ON(__NR_name_to_handle_at, DENY(EPERM)),
        ON(__NR_shmget, DENY(EPERM)),
        ON(__NR_msgget, DENY(EPERM)),
        ON(__NR_semget, DENY(EPERM)),
        ON(__NR_mq_open, DENY(EPERM)),
        ON(__NR_add_key, DENY(EPERM)),
        ON(__NR_request_key, DENY(EPERM)),
        ON(__NR_keyctl, DENY(EPERM)),
        ON(__NR_unshare, DENY(EPERM)),
        ON(__NR_setns, DENY(EPERM)),
        ON(__NR_mount, DENY(EPERM)),
        ON(__NR_userfaultfd, DENY(EPERM)),
        ON(__NR_bpf, DENY(EPERM)),
        ON(__NR_kcmp, DENY(EPERM)),
        // Nor a lock or a watch on a file another runner could see.
        ON(__NR_flock, DENY(EPERM)),
#if defined(__NR_inotify_init)
        ON(__NR_inotify_init, DENY(EPERM)),
#endif
        ON(__NR_inotify_init1, DENY(EPERM)),
        ON(__NR_fanotify_init, DENY(EPERM)),
        // prctl: not dumpable again.
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_prctl, 0, 3),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG_LOW(0)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PR_SET_DUMPABLE, 0, 1),
        DENY(EPERM),
        LOAD(nr),
        // fcntl: no process to signal when a descriptor is ready, and no
        // lock, lease or folder watch another process could see or set off.
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_fcntl, 0, 11),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG_LOW(1)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, F_SETOWN_COMMAND, 8, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, F_SETSIG_COMMAND, 7, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, F_SETOWN_EX_COMMAND, 6, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, F_SETLK_COMMAND, 5, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, F_SETLKW_COMMAND, 4, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, F_OFD_SETLK_COMMAND, 3, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, F_OFD_SETLKW_COMMAND, 2, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, F_SETLEASE_COMMAND, 1, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, F_NOTIFY_COMMAND, 0, 1),
        DENY(EPERM),
        LOAD(nr),
        // No new session or group: the runner stays where the grader put it.
        ON(__NR_setsid, DENY(EPERM)),
        ON(__NR_setpgid, DENY(EPERM)),
        // clone: threads only.
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_clone, 0, 4),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG_LOW(0)),
        BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, CLONE_THREAD, 0, 1),
        ALLOW,
        DENY(EPERM),
        // ioctl: no typing into a terminal (TIOCSTI, TIOCLINUX), no process
        // to signal when a descriptor is ready.
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_ioctl, 0, 6),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG_LOW(1)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x5412, 3, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x541C, 2, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, FIOSETOWN_REQUEST, 1, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SIOCSPGRP_REQUEST, 0, 1),
        DENY(EPERM),
        // setpriority and ioprio_set: this process (or its own group) only,
        // never all the processes of its user (another runner, slowed down).
        LOAD(nr),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_setpriority, 1, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_ioprio_set, 0, 7),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG_LOW(0)),
        BPF_JUMP(BPF_JMP | BPF_JGT | BPF_K, 1, 3, 0),  // PRIO_PROCESS, PRIO_PGRP; IOPRIO_WHO_PROCESS
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG_LOW(1)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, self, 2, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 1, 0),
        DENY(EPERM),
        ALLOW,
        // kill and tgkill, and the calls that set a process's limits or
        // scheduling: this process (or 0: itself, its own group) only.
        LOAD(nr),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_kill, 6, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_tgkill, 5, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_prlimit64, 4, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_sched_setaffinity, 3, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_sched_setattr, 2, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_sched_setscheduler, 1, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_sched_setparam, 0, 5),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG_LOW(0)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, self, 2, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 1, 0),
        DENY(EPERM),
        ALLOW,
        ALLOW,
    };
    struct sock_fprog program = {.len = (unsigned short)(sizeof filter / sizeof filter[0]), .filter = filter};
    // Not dumpable: a process of the same user (another submission's runner
    // in a batch) can no longer open this one's /proc/<pid>/mem, trace it or
    // take its descriptors.
    if (direct_system_call(__NR_prctl, PR_SET_DUMPABLE, 0, 0) != 0) return -1;
    // No file larger than the limit: a runaway loop of writes ends with SIGXFSZ, not a full disk.
    struct rlimit file_size = {.rlim_cur = CP_LOCKED_DOWN_FILE_SIZE_LIMIT, .rlim_max = CP_LOCKED_DOWN_FILE_SIZE_LIMIT};
    if (direct_system_call(__NR_prlimit64, 0, RLIMIT_FSIZE, (long)&file_size) != 0) return -1;
    if (direct_system_call(__NR_prctl, PR_SET_NO_NEW_PRIVS, 1, 0) != 0) return -1;
    if (restrict_reading() != 0) return -1;
    // No capabilities, where it has any (a runner run as root): root's
    // powers to read and write past files' modes, and the rest, are gone.
    struct {
        uint32_t version;
        int pid;
    } capability_header = {0x20080522, 0};  // _LINUX_CAPABILITY_VERSION_3
    uint32_t no_capabilities[6] = {0};  // effective, permitted, inheritable, twice (64 bits)
    if (direct_system_call(__NR_capset, (long)&capability_header, (long)no_capabilities, 0) != 0) return -1;
    return direct_system_call(__NR_prctl, PR_SET_SECCOMP, SECCOMP_MODE_FILTER, (long)&program) == 0 ? 0 : -1;
#else
    return -1;
#endif
}

static int report_fd = 2;

static void write_all(const char *text, size_t length) {
    while (length > 0) {
        ssize_t written = write(report_fd, text, length);
        if (written <= 0) return;
        text += written;
        length -= (size_t)written;
    }
}

static void report_crash(int signal_number) {
    void *frames[64];
    int count = backtrace(frames, 64);
    char line[1200];
    for (int i = 0; i < count; i++) {
        Dl_info info;
        if (dladdr(frames[i], &info) && info.dli_fname) {
            // The return address, one byte back into the call.
            uintptr_t offset = (uintptr_t)frames[i] - (uintptr_t)info.dli_fbase - (i > 0 ? 1 : 0);
            int length = snprintf(line, sizeof line, "D3PM-FRAME %s %lx\n", info.dli_fname, (unsigned long)offset);
            if (length > 0) write_all(line, (size_t)length < sizeof line ? (size_t)length : sizeof line - 1);
        }
    }
    signal(signal_number, SIG_DFL);
    raise(signal_number);
}

void cp_install_crash_reporter(int fd) {
    report_fd = fd;
    void *warm[2];
    backtrace(warm, 2);  // loads the unwinder now, not inside the handler
    static char alternate[1 << 16];
    stack_t stack = {.ss_sp = alternate, .ss_size = sizeof alternate, .ss_flags = 0};
    sigaltstack(&stack, NULL);
    int signals[] = {SIGILL, SIGTRAP, SIGSEGV, SIGBUS, SIGFPE, SIGABRT};
    for (size_t i = 0; i < sizeof signals / sizeof signals[0]; i++) {
        struct sigaction action;
        memset(&action, 0, sizeof action);
        action.sa_handler = report_crash;
        action.sa_flags = SA_ONSTACK | SA_RESETHAND | SA_NODEFER;
        sigemptyset(&action.sa_mask);
        sigaction(signals[i], &action, NULL);
    }
}
#endif

const char *cp_enter_runner(int channel) {
    static int entered = 0;
    if (entered) return NULL;
    entered = 1;
    (void)fcntl(channel, F_SETFD, FD_CLOEXEC);  // processes it starts do not inherit the channel
    cp_close_descriptors_from(channel + 1);
    cp_unbuffer_standard_output();
    cp_install_crash_reporter(2);
#if defined(__linux__)
    // The lock-down binds this thread and those it starts: none may be running already.
    if (cp_thread_count() != 1) {
        return "the runner has more than one thread before its lock-down, which would leave all but one free";
    }
    // No student code runs unlocked: a system without seccomp gets every check refused, with the reason.
    if (cp_lock_down() != 0) return "the lock-down (seccomp) could not start here, so the student's code is not run";
#endif
    return NULL;
}

#if !defined(__linux__)
int cp_become_subreaper(void) { return -1; }
int cp_lock_down(void) { return -1; }
long cp_thread_count(void) { return -1; }
int cp_close_descriptors_from(int first) {
    long limit = sysconf(_SC_OPEN_MAX);
    for (long fd = first; fd < (limit > 0 ? limit : 1024); fd++) close((int)fd);
    return 0;
}
int cp_reading_restriction_version(void) { return 0; }
int cp_is_dumpable(void) { return 1; }
void cp_install_crash_reporter(int fd) { (void)fd; }
#endif
