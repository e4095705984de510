// The runners' lock-down, before main: no overload, conformance or
// initializer an exercise file declares can run before it, since nothing
// Swift has run yet when a constructor does.
#include "CRunnerStart.h"

#include "CProcess.h"

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

__attribute__((constructor)) static void lock_down_before_main(void) {
    if (fcntl(3, F_GETFD) == -1) return;  // not started by the grader: main says so
    const char *problem = cp_enter_runner(3);
    if (problem == NULL) return;
    static const char prefix[] = "runner: ";
    (void)!write(2, prefix, sizeof prefix - 1);
    (void)!write(2, problem, strlen(problem));
    (void)!write(2, "\n", 1);
    _exit(2);
}
