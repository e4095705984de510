// The same runner as student-runner, built with the reference solutions in
// place of the student's code: `grade --solutions` grades through it.
import CRunnerStart
import D3PM
import Plotting
import Solutions

// The process is locked down already, before main (CRunnerStart). The entry
// point is called by its module's name, so that no overload an exercise file
// declares stands in for it; a forgotten debug plot draws nothing while grading.
D3PM.runExercises(ReferenceSolutions.self, afterLockDown: { DebugPlots.disable() })
