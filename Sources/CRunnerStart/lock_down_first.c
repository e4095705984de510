// The runners' lock-down, before main: no overload, conformance or
// initializer an exercise file declares can run before it, since nothing
// Swift has run yet when a constructor does.
#include "CRunnerStart.h"

#include "CProcess.h"

#if defined(__linux__)
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

static int locked_down = 0;

static void refuse(const char *message) {
    static const char prefix[] = "runner: ";
    (void)!write(2, prefix, sizeof prefix - 1);
    (void)!write(2, message, strlen(message));
    (void)!write(2, "\n", 1);
    _exit(2);
}

__attribute__((constructor)) static void lock_down_before_main(void) {
    if (fcntl(3, F_GETFD) == -1) return;  // not started by the grader: main says so
    (void)fcntl(3, F_SETFD, FD_CLOEXEC);
    cp_close_descriptors_from(4);
    cp_unbuffer_standard_output();
    cp_install_crash_reporter(2);
    if (cp_thread_count() != 1) refuse("the runner has more than one thread before its lock-down");
    if (cp_lock_down() != 0) refuse("the lock-down (seccomp) could not start here, so the student's code is not run");
    locked_down = 1;
}

int crs_locked_down_before_main(void) { return locked_down; }
#else
int crs_locked_down_before_main(void) { return 0; }
#endif
