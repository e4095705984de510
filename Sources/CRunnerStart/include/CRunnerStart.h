#ifndef CRUNNERSTART_H
#define CRUNNERSTART_H

/// Linked into the runner executables only: before main, and so before any
/// Swift code (the student's included), a constructor locks the process
/// down (cp_lock_down) when it was started as a runner, with the grader's
/// channel on descriptor 3. What it did: 1 locked down, 0 not started as a
/// runner (no descriptor 3) or not on Linux.
int crs_locked_down_before_main(void);

#endif
