// The same runner as student-runner, built with the reference solutions in
// place of the student's code: `grade --solutions` grades through it.
import D3PM
import Solutions

ExerciseRunner.main(ReferenceSolutions.self)
