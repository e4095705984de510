// The same runner as student-runner, built with the reference solutions in
// place of the student's code: `grade --solutions` grades through it.
import D3PM
import Plotting
import Solutions

// A forgotten debug plot in the exercises draws nothing while grading.
DebugPlots.disable()
ExerciseRunner.main(ReferenceSolutions.self)
