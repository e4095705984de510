#ifndef CPROCESS_H
#define CPROCESS_H

#include <spawn.h>

/// posix_spawn_file_actions_addchdir_np, which Swift's C library overlay
/// does not show: the spawned process starts in `path`.
int cp_spawn_file_actions_chdir(posix_spawn_file_actions_t *actions, const char *path);

/// Makes the calling process a child subreaper (Linux): every orphaned
/// descendant is re-parented to it instead of to init, so that the grader
/// can find and end whatever a student's code left running. Returns 0 on
/// success, -1 where the system has no such feature.
int cp_become_subreaper(void);

/// Locks the calling process in before it runs a student's code (Linux,
/// seccomp): it can no longer start processes or programs (fork, vfork,
/// clone of a process, execve), signal any process but itself (by kill or
/// by naming it the owner of a descriptor), or trace or write into another
/// process, or change another process's limits, priority or scheduling; and
/// it is no longer dumpable, so that the other processes of its user cannot
/// read or write its memory through /proc. It opens files for reading only,
/// and creates, renames, removes or changes the mode of none (EACCES); it
/// opens no socket, no System V or POSIX IPC object and no key ring, and
/// makes no namespace: nothing it does outlives it or reaches another
/// runner. Where the kernel has Landlock, it reads only its program's and
/// libraries' folders, /proc and the processor's facts (see
/// cp_reading_restriction_version). It binds the calling thread and the
/// threads it starts later, not those already running: call it while the
/// process has one thread (cp_thread_count), as cp_enter_runner does. What
/// it writes to the descriptors it inherited is capped at
/// CP_LOCKED_DOWN_FILE_SIZE_LIMIT bytes a file. (Its memory is not limited:
/// an address-space limit counts the allocator's reserved, unused space, and
/// failed correct code at random.) Its own system calls
/// bypass the C library, which the student's code could stand in for.
/// Threads still work. Irreversible, inherited
/// by its threads. Returns 0 on success, -1 where the system has no seccomp.
int cp_lock_down(void);

/// Makes this process a runner, once: its channel (`channel`, the grader's
/// descriptor) closed on exec, every descriptor above it closed, standard
/// output unbuffered, the crash reporter on descriptor 2, and on Linux the
/// lock-down, which needs the process to have one thread. Returns NULL, or
/// why the lock-down could not be entered (the student's code must then not
/// run). Does nothing the second time (a runner's main after its constructor).
const char *cp_enter_runner(int channel);

/// The threads of this process, from /proc/self/stat, or -1.
long cp_thread_count(void);

/// Closes every descriptor from `first` on: what a process inherited beyond
/// the ones it was given (a socket its grandparent's process monitor left
/// open, say) is not the student's code's to use.
int cp_close_descriptors_from(int first);

/// The version of the kernel's Landlock interface, with which cp_lock_down
/// restricts what the process may read to its own program and libraries,
/// /proc and the processor's facts; 0 where there is none (the process may
/// then read what its user may).
int cp_reading_restriction_version(void);

/// The largest file a locked-down process may write: 64 MiB.
#define CP_LOCKED_DOWN_FILE_SIZE_LIMIT (64L << 20)

/// Whether the calling process may be dumped: 1, or 0 once cp_lock_down
/// made it unreadable through /proc by the other processes of its user.
int cp_is_dumpable(void);
/// Installs handlers for the crash signals (SIGILL, SIGTRAP, SIGSEGV, SIGBUS,
/// SIGFPE, SIGABRT) that write the stack, one line a frame,
/// `D3PM-FRAME <image path> <offset in the image, hex>`, to `fd`, then die of
/// the same signal. An alternate stack lets a stack overflow report too.
/// For processes that cannot start Swift's own backtracer (cp_lock_down).
void cp_install_crash_reporter(int fd);

/// Makes the standard output unbuffered, so that what a process printed
/// reaches its reader even when it crashes next.
void cp_unbuffer_standard_output(void);

#endif
