#ifndef CPROCESS_H
#define CPROCESS_H

/// Makes the calling process a child subreaper (Linux): every orphaned
/// descendant is re-parented to it instead of to init, so that the grader
/// can find and end whatever a student's code left running. Returns 0 on
/// success, -1 where the system has no such feature.
int cp_become_subreaper(void);

#endif
