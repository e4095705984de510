// swift-tools-version: 6.0
//
// D3PM Kit: a hands-on practical on discrete diffusion models.
//
// Module map (each folder is one module with one job):
//   Sources/CKernels   the matrix-product kernel (C, compiled optimised even in debug builds)
//   Sources/Tensors    n-dimensional Float tensors with reverse-mode automatic differentiation
//   Sources/D3PM       the exercise protocol, noise schedules and shared D3PM types
//   Exercises/         module `Student`: the functions a student writes (stubs as shipped)
//   Solutions/         module `Solutions`: the reference implementations
//   Sources/Checks     every check, defined once, used by `grade` and by `swift test`
//   Sources/Plotting   figures drawn by a gnuplot process
//   Sources/grade      the grader executable
//   Sources/bench      release-build benchmarks
import PackageDescription

/// The tensor library and its kernel are compiled with optimisation even in
/// debug builds: students run `swift test` and `swift run grade` in debug,
/// and an unoptimised tensor library is 10-50x slower. Student code keeps
/// the debug settings so that their traps carry file and line.
let optimised: [SwiftSetting] = [.unsafeFlags(["-O"])]

#if os(Linux)
let kernelFlags: [CSetting] = [.unsafeFlags(["-O3", "-march=native", "-ffast-math"])]
#else
let kernelFlags: [CSetting] = [.unsafeFlags(["-O3", "-ffast-math"])]
#endif

let package = Package(
    name: "D3PMKit",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "grade", targets: ["grade"]),
        .executable(name: "d3pm", targets: ["d3pm"]),
        .executable(name: "bench", targets: ["bench"]),
        .library(name: "Tensors", targets: ["Tensors"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        .target(name: "CKernels", cSettings: kernelFlags),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"]), .brew(["zlib"])]),
        .target(
            name: "Tensors",
            dependencies: ["CKernels"],
            swiftSettings: optimised,
            linkerSettings: [.linkedFramework("Accelerate", .when(platforms: [.macOS]))]
        ),
        .target(name: "D3PM", dependencies: ["Tensors"]),
        .target(name: "Student", dependencies: ["D3PM", "Tensors"], path: "Exercises"),
        .target(name: "Solutions", dependencies: ["D3PM", "Tensors"], path: "Solutions"),
        .target(name: "Plotting", dependencies: ["Tensors"]),
        .target(name: "NN", dependencies: ["Tensors"], swiftSettings: optimised),
        .target(name: "Datasets", dependencies: ["Tensors", "CZlib"], swiftSettings: optimised),
        .target(name: "Diffusion", dependencies: ["D3PM", "NN", "Tensors"], swiftSettings: optimised),
        .target(name: "Checks", dependencies: ["D3PM", "Tensors", "Student", "Solutions"]),
        .target(
            name: "CommandSupport",
            dependencies: ["Checks", "D3PM", "Diffusion", "Plotting", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .executableTarget(
            name: "grade",
            dependencies: [
                "Checks", "CommandSupport", "D3PM", "Tensors", "Plotting", "Solutions",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            // Pristine copies of the exercise files, for `grade reset`.
            resources: [.copy("Stubs")]
        ),
        .executableTarget(
            name: "d3pm",
            dependencies: [
                "Checks", "CommandSupport", "D3PM", "Datasets", "Diffusion", "NN", "Plotting", "Tensors",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "bench",
            dependencies: [
                "Tensors", "Diffusion", "NN", "D3PM", "Solutions", "CommandSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "TensorsTests", dependencies: ["Tensors"]),
        .testTarget(name: "ExerciseTests", dependencies: ["Checks", "D3PM", "Tensors"]),
        .testTarget(name: "NNTests", dependencies: ["NN", "Tensors"]),
        .testTarget(name: "DiffusionTests", dependencies: ["Diffusion", "Datasets", "D3PM", "NN", "Solutions", "Tensors"]),
        .testTarget(name: "PlottingTests", dependencies: ["Plotting", "Tensors", "CZlib"]),
    ]
)
