#ifndef CRUNNERSTART_H
#define CRUNNERSTART_H

// Linked into the runner executables only: before main, and so before any
// Swift code (the student's included), a constructor makes the process a
// runner and locks it down (cp_enter_runner) when it was started as one,
// with the grader's channel on descriptor 3. It declares nothing: importing
// the module is what links it.

#endif
