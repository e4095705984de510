// The process that runs a student's exercise functions for the grader. It is
// built from Student, D3PM, Tensors and Plotting only: no reference code and no check
// can be reached from here, by import or by linker symbol.
import CRunnerStart
import D3PM
import Plotting
import Student

// The process is locked down already, before main (CRunnerStart). The entry
// point is called by its module's name, so that no overload an exercise file
// declares stands in for it; a forgotten debug plot draws nothing while grading.
D3PM.runExercises(StudentExercises.self, afterLockDown: { DebugPlots.disable() })
