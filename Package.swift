// swift-tools-version: 6.0
//
// D3PM Kit: a hands-on practical on discrete diffusion models.
//
// Module map (each folder is one module with one job):
//   Sources/CKernels         the C kernels: matrix product, convolutions, elementwise loops
//   Sources/CZlib            zlib, for the gzip-compressed MNIST files
//   Sources/CProcess         the one system call Swift cannot make (prctl's child subreaper)
//   Sources/Tensors          n-dimensional Float tensors with reverse-mode automatic differentiation
//   Sources/D3PM             the exercise protocol, calls to it as data, the runner loop, schedules
//   Exercises/               module `Student`: the functions a student writes (stubs as shipped)
//   Solutions/               module `Solutions`: the reference implementations
//   Sources/CRunnerStart     the runners' lock-down, in a constructor that runs before main
//   Sources/student-runner   runs the student's functions for the grader: Student, D3PM, Tensors only
//   Sources/solutions-runner the same runner built with Solutions
//   Sources/Checks           every exercise and its checks: inputs from the seed, and the judges
//   Sources/Grading          runs checks in runner processes, contains them, and reports
//   Sources/NN               layers, AdamW, safetensors
//   Sources/Datasets         MNIST (IDX files), mini-batches, .npy
//   Sources/Diffusion        the models, the D3PM training step and reverse chain, the bound
//   Sources/Plotting         figures drawn by a gnuplot process
//   Sources/CommandSupport   what the grade and d3pm commands share: --solutions, errors, argument types
//   Sources/grade            the grader executable (never links student or reference code)
//   Sources/d3pm             train, sample, eval, probe, classifier
//   Sources/bench            release-build benchmarks
import Foundation
import PackageDescription

/// The tensor library and its kernel are compiled with optimisation even in
/// debug builds: students run `swift test` and `swift run grade` in debug,
/// and an unoptimised tensor library is 10-50x slower. Student code keeps
/// the debug settings so that their traps carry file and line.
let optimised: [SwiftSetting] = [.unsafeFlags(["-O"])]

/// The kernels are compiled for every instruction set they use (one
/// translation unit each, see Sources/CKernels/dispatch.c) and chosen at run
/// time, so nothing depends on the build machine's processor. No -ffast-math:
/// results are deterministic for a given kernel path.
let kernelFlags: [CSetting] = [.unsafeFlags(["-O3", "-fno-math-errno", "-ffp-contract=fast"])]

/// The full kit holds the reference solutions; the student edition
/// (`swift run grade package student`) is the same tree without Solutions/,
/// the tests that name them, and the benchmarks that train with them.
let hasSolutions = FileManager.default.fileExists(atPath: Context.packageDirectory + "/Solutions")
let argumentParser = Target.Dependency.product(name: "ArgumentParser", package: "swift-argument-parser")

/// Targets both editions have.
var targets: [Target] = [
    .target(name: "CKernels", cSettings: kernelFlags),
    .target(name: "CProcess"),
    .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"]), .brew(["zlib"])]),
    .target(
        name: "Tensors",
        dependencies: ["CKernels"],
        swiftSettings: optimised,
        linkerSettings: [.linkedFramework("Accelerate", .when(platforms: [.macOS]))]
    ),
    .target(name: "D3PM", dependencies: ["CProcess", "Tensors"]),
    .target(name: "Student", dependencies: ["D3PM", "Plotting", "Tensors"], path: "Exercises"),
    .target(name: "Plotting", dependencies: ["Tensors"]),
    .target(name: "NN", dependencies: ["Tensors"], swiftSettings: optimised),
    .target(name: "Datasets", dependencies: ["Tensors", "CZlib"], swiftSettings: optimised),
    .target(name: "Diffusion", dependencies: ["D3PM", "Datasets", "NN", "Tensors"], swiftSettings: optimised),
    // The runners' lock-down, in a constructor that runs before main (and so before any Swift code).
    .target(name: "CRunnerStart", dependencies: ["CProcess"]),
    .executableTarget(name: "student-runner", dependencies: ["CRunnerStart", "D3PM", "Plotting", "Student"]),
    .target(name: "Checks", dependencies: ["D3PM", "Tensors"]),
    .target(name: "Grading", dependencies: ["Checks", "D3PM", "CProcess"]),
    .target(name: "CommandSupport", dependencies: ["Checks", "D3PM", "Grading", "Plotting", argumentParser]),
    // The student's own explorations, like the practical's notebook cells: `swift run explore`.
    .executableTarget(
        name: "explore",
        dependencies: ["Checks", "CommandSupport", "D3PM", "Datasets", "Plotting", "Student", "Tensors"],
        path: "Explore"
    ),
    .executableTarget(
        name: "grade",
        dependencies: ["Checks", "CommandSupport", "D3PM", "Grading", "Plotting", "Tensors", argumentParser],
        // Pristine copies of the exercise files, for `grade reset`.
        resources: [.copy("Stubs")]
    ),
    .executableTarget(
        name: "d3pm",
        dependencies: [
            "Checks", "CommandSupport", "D3PM", "Datasets", "Diffusion", "Grading", "NN", "Plotting", "Student",
            "Tensors",
            argumentParser,
        ] + (hasSolutions ? ["Solutions"] : [])
    ),
    .target(name: "KitTestSupport", dependencies: ["Grading"], path: "Tests/KitTestSupport"),
    .testTarget(name: "TensorsTests", dependencies: ["Tensors"]),
    .testTarget(
        name: "ExerciseTests",
        // The executables are dependencies so that `swift build --build-tests` builds them for the tests to run.
        dependencies: ["Checks", "CProcess", "D3PM", "Grading", "KitTestSupport", "Tensors", "grade", "student-runner"]
    ),
    .testTarget(name: "NNTests", dependencies: ["NN", "Tensors"]),
    .testTarget(name: "PlottingTests", dependencies: ["Plotting", "Tensors", "CZlib"]),
]

/// Targets of the full kit only: the solutions and what names them.
if hasSolutions {
    targets += [
        .target(name: "Solutions", dependencies: ["D3PM", "Tensors"], path: "Solutions"),
        .executableTarget(name: "solutions-runner", dependencies: ["CRunnerStart", "D3PM", "Plotting", "Solutions"]),
        .executableTarget(
            name: "bench", dependencies: ["Tensors", "Diffusion", "NN", "D3PM", "Solutions", argumentParser]),
        .testTarget(
            name: "ReferenceTests",
            dependencies: [
                "Checks", "D3PM", "Grading", "KitTestSupport", "Solutions", "Tensors", "grade", "student-runner",
                "solutions-runner",
            ]
        ),
        .testTarget(
            name: "DiffusionTests", dependencies: ["Diffusion", "Datasets", "D3PM", "NN", "Solutions", "Tensors"]),
    ]
}

let package = Package(
    name: "D3PMKit",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "grade", targets: ["grade"]),
        .executable(name: "d3pm", targets: ["d3pm"]),
        .library(name: "Tensors", targets: ["Tensors"]),
    ] + (hasSolutions ? [.executable(name: "bench", targets: ["bench"])] : []),
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0")
    ],
    targets: targets
)
