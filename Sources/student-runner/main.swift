// The process that runs a student's exercise functions for the grader. It is
// built from Student, D3PM, Tensors and Plotting only: no reference code and no check
// can be reached from here, by import or by linker symbol.
import D3PM
import Plotting
import Student

// A forgotten debug plot in the exercises draws nothing while grading.
DebugPlots.disable()
ExerciseRunner.main(StudentExercises.self)
