import Foundation
import Testing

@testable import Grading

/// What the grader refuses in exercise files before it builds or runs them.
@Suite("Student code audit")
struct StudentCodeAuditTests {
    @Test func attributesThatNameOrPlaceSymbolsAreRefusedInCode() {
        let source = """
            import D3PM
            @_cdecl("prctl") public func stand(_ option: Int32) -> Int32 { 0 }
            @_silgen_name("getpid") func pid() -> Int32
            // a comment that names @_cdecl
            let fine = 1
            @c public func getppid() -> Int32 { 0 }
            @c(prctl) @export(implementation) public func stand() -> Int32 { 0 }
            @discardableResult func cheerful() -> Int { 1 }
            let cost = 3  // @cost is fine, and so is email@company
            @ /* Swift 5's language mode allowed blanks here */
              _cdecl("getuid") public func uid() -> UInt32 { 0 }
            @used @section(".init_array") let early: @convention(c) () -> Void = {}
            @abi(func other()) func mine() {}
            @extern(c, "getpid") func pid2() -> Int32
            @`_cdecl`("x") func quoted() {}
            """
        #expect(StudentCodeAudit.sourceProblems(in: source).map(\.line) == [2, 3, 6, 7, 10, 12, 13, 14, 15])
    }

    @Test func commentsAndTheTextOfStringsRaiseNoAlarm() {
        let source = #"""
            import D3PM
            // import Diffusion, once, to compare: @_cdecl
            /* import CProcess /* nested */ import Checks @c */
            let label = "logits@c", mail = "someone@export.org"
            let keys = ["b@c": 1, "a@used": 2]
            let raw = #"a "quoted" @_silgen_name \(not code)"#
            let poem = """
                import Checks
                "@section" and """
                """
            let escaped = "a " @c"
            let regex = /"@c/
            let extended = #/
                " @_x
                /#
            """#
        let problems = StudentCodeAudit.sourceProblems(in: source)
        #expect(problems.isEmpty, "\(problems)")
    }

    @Test func codeInsideInterpolationsAndAfterRegexLiteralsIsRead() {
        let source = ##"""
            let a = "value \(f { @_cdecl("x") func q() {} }) end"
            let r = /"/; @_cdecl("prctl") func f() {}
            func g() -> Regex<Substring> { return /"/ }; @used @section(".init_array") let e = 1
            let c = b! /"/; @c func h() {}
            let d = "\( "nested \( "deeper" ) string" ) @c"
            let e = #"\#( x ) @_y"#; @_z
            """##
        #expect(StudentCodeAudit.sourceProblems(in: source).map(\.line) == [1, 2, 3, 4, 6])
    }

    @Test func importsOfTheKitsOtherModulesAreRefusedInEveryForm() {
        let source = """
            import Foundation
            import D3PM
            import Tensors
            import Plotting
            import CProcess
            @testable import Checks
            import struct Grading.RunnerBuild
            import Foundation; import CKernels
              import   Solutions
            let importance = "import CZlib is text"
            import /* over
            lines */
              NN
            internal import Diffusion
            @preconcurrency public import Datasets
            import `CProcess`
            @ preconcurrency import CKernels
            import struct `CProcess`.Anything
            let imported = 1; import `Checks`
            """
        let problems = StudentCodeAudit.sourceProblems(in: source)
        let refusedImports = problems.filter { $0.message.contains("refuses") }
        #expect(refusedImports.map(\.line) == [5, 6, 7, 8, 9, 13, 14, 15, 16, 17, 18, 19])
        #expect(
            refusedImports.allSatisfy {
                $0.message.contains("may import, of the kit's modules, D3PM, Tensors and Plotting only")
            })
        #expect(refusedImports.first?.message.contains("refuses CProcess") == true)
    }

    @Test func typesNamedAfterTheKitsModulesAreRefused() {
        let source =
            "enum D3PM {}\nstruct Tensors {}\nlet D3PMish = 1\nstruct D3PMHelper {}\ntypealias `Plotting` = Int\n"
        let problems = StudentCodeAudit.sourceProblems(in: source)
        #expect(problems.map(\.line) == [1, 2, 5])
        #expect(problems.first?.message.contains("a type named D3PM would hide the kit's module") == true)
    }

    @Test func testFrameworksAreRefused() {
        let problems = StudentCodeAudit.sourceProblems(in: "import Foundation\nimport Testing\nimport XCTest\n")
        #expect(problems.map(\.line) == [2, 3])
        #expect(problems.allSatisfy { $0.message.contains("a test framework has no place in an exercise file") })
    }

    @Test func theRunnerGetsTheKitsSettingsNotTheGradersWholeEnvironment() {
        let environment = Grader.runnerEnvironment
        let passed: Set<String> = [
            "PATH", "LANG", "LC_ALL", "LC_CTYPE", "LD_LIBRARY_PATH", "DYLD_LIBRARY_PATH", "DYLD_FRAMEWORK_PATH",
            "SWIFT_BACKTRACE",
        ]
        #expect(environment.keys.allSatisfy { $0.hasPrefix("D3PM_") || passed.contains($0) }, "\(environment.keys)")
        #expect(environment["SWIFT_BACKTRACE"] != nil)
        if let home = ProcessInfo.processInfo.environment["HOME"] { #expect(!environment.values.contains(home)) }
    }

    @Test func testableImportsAreRefusedEvenOfTheAllowedModules() {
        let problems = StudentCodeAudit.sourceProblems(
            in: "import D3PM\n@testable import Tensors\n@ testable import D3PM\n")
        #expect(problems.map(\.line) == [2, 3])
        #expect(problems.allSatisfy { $0.message.contains("@testable is refused") })
    }

    @Test func onlyLineFeedsAndCarriageReturnsEndLinesAsForTheCompiler() {
        // Inside a string, the compiler takes these as ordinary characters: the string goes on after them.
        for separator in ["\u{2028}", "\u{2029}", "\u{85}", "\u{0B}", "\u{0C}"] {
            let source = "let hidden = \"\(separator)\"; @_silgen_name(\"cp_is_dumpable\") func probe() -> Int32\n"
            let scalar = separator.unicodeScalars.first!.value
            #expect(StudentCodeAudit.sourceProblems(in: source).map(\.line) == [1], "U+\(String(scalar, radix: 16))")
        }
        // A NUL is a blank to the compiler.
        #expect(StudentCodeAudit.sourceProblems(in: "@\u{0}_cdecl(\"f\") func f() {}\n").map(\.line) == [1])
        // Lines are counted by LF, CRLF and CR only.
        let mixed = "let a = 1\r\nlet b = 2\rlet c = \"\u{2028}\"\n@_cdecl(\"f\") func f() {}\n"
        #expect(StudentCodeAudit.sourceProblems(in: mixed).map(\.line) == [4])
    }

    @Test func everyFileBelowTheExercisesIsReadAndLinksAreRefused() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("audit-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let exercises = root.appendingPathComponent("Exercises")
        try FileManager.default.createDirectory(
            at: exercises.appendingPathComponent("Deeper/.hidden"), withIntermediateDirectories: true)
        try "import D3PM\n".write(to: exercises.appendingPathComponent("Fine.swift"), atomically: true, encoding: .utf8)
        try "import CProcess\n".write(
            to: exercises.appendingPathComponent("Deeper/.hidden/Tucked.swift"), atomically: true, encoding: .utf8)
        let elsewhere = root.appendingPathComponent("Elsewhere.swift")
        try "let x = 1\n".write(to: elsewhere, atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(
            at: exercises.appendingPathComponent("Linked.swift"), withDestinationURL: elsewhere)
        let problems = StudentCodeAudit.sourceProblems(in: exercises, root: root)
        #expect(problems.count == 2, "\(problems)")
        #expect(problems.contains { $0.hasPrefix("Exercises/Deeper/.hidden/Tucked.swift:1: error:") })
        #expect(problems.contains { $0.hasPrefix("Exercises/Linked.swift: error: a symbolic link") })
    }

    @Test func theShippedExercisesAndStubsPassTheAudit() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let problems = StudentCodeAudit.sourceProblems(in: root.appendingPathComponent("Exercises"), root: root)
        #expect(problems.isEmpty, "\(problems)")
        let stubs = try FileManager.default.contentsOfDirectory(
            at: root.appendingPathComponent("Sources/grade/Stubs"), includingPropertiesForKeys: nil)
        #expect(!stubs.isEmpty)
        for stub in stubs {
            #expect(StudentCodeAudit.sourceProblems(in: try String(contentsOf: stub, encoding: .utf8)).isEmpty)
        }
    }

    @Test func onlySwiftSymbolsOfModuleStudentAndTheCompilersOwnMayBeDefined() {
        let listing = """
            Exercise1.swift.o:
            0000000000000010 T $s7Student0A9ExercisesV19makeUniformQOnestepyF
            0000000000000020 T $s7Tensors6TensorV7StudentE6helperACyF
            0000000000000000 V __swift_reflection_version
            0000000000000000 V got.$s4D3PM0A11PMExercisesMp
            0000000000000000 V symbolic _____ 7Student0A9ExercisesO
            0000000000000000 W $sSa12_endMutationyyFSf_Tg5

            Exercise2.swift.o:
            0000000000000030 T prctl
            0000000000000040 T $sSS5countSivg
            0000000000000050 W getpid
            0000000000000060 D swift_retain
            0000000000000070 W __swift_instantiateConcreteTypeFromMangledName
            0000000000000000 V associated conformance 7Student0A9ExercisesV
            0000000000000080 T __swift_instantiateConcreteTypeFromMangledName
            """
        #expect(
            StudentCodeAudit.refusedSymbols(inListing: listing) == [
                "prctl", "$sSS5countSivg", "getpid", "swift_retain", "__swift_instantiateConcreteTypeFromMangledName",
            ])
    }

    #if os(Linux)
        /// Compiles `source` to an object with the toolchain's swiftc.
        func object(of source: String) throws -> URL {
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sections-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            let file = folder.appendingPathComponent("File.swift"), object = folder.appendingPathComponent("File.o")
            try source.write(to: file, atomically: true, encoding: .utf8)
            let compiler = Process()
            compiler.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            compiler.arguments = [
                "swiftc", "-parse-as-library", "-module-name", "Student", "-c", file.path, "-o", object.path,
            ]
            try compiler.run()
            compiler.waitUntilExit()
            #expect(compiler.terminationStatus == 0)
            return object
        }

        @Test func objectsWithConstructorsAreRefusedAndOrdinaryOnesAreNot() throws {
            let ordinary = try object(
                of:
                    "public struct Grid { var cells = [1, 2, 3] }\npublic func total(_ x: [Float]) -> Float { x.reduce(0, +) }\nlet table = [1, 2]\n"
            )
            defer { try? FileManager.default.removeItem(at: ordinary.deletingLastPathComponent()) }
            #expect(try StudentCodeAudit.refusedSections(inObject: ordinary) == [])
            #if compiler(>=6.3)
                let constructor = try object(
                    of: "@used @section(\".init_array\") let early: @convention(c) () -> Void = { print(1) }\n")
                defer { try? FileManager.default.removeItem(at: constructor.deletingLastPathComponent()) }
                #expect(try StudentCodeAudit.refusedSections(inObject: constructor).contains(".init_array"))
            #endif
            let text = ordinary.deletingLastPathComponent().appendingPathComponent("File.swift")
            #expect(throws: GradingError.self) { try StudentCodeAudit.refusedSections(inObject: text) }
        }
    #endif
}
