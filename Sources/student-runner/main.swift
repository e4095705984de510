// The process that runs a student's exercise functions for the grader. It is
// built from Student, D3PM and Tensors only: no reference code and no check
// can be reached from here, by import or by linker symbol.
import D3PM
import Student

ExerciseRunner.main(StudentExercises.self)
