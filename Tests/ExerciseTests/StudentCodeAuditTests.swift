import Foundation
import Testing

@testable import Grading

/// What the grader refuses in exercise files before it builds or runs them.
@Suite("Student code audit")
struct StudentCodeAuditTests {
    @Test func attributesThatNameSymbolsAreRefusedWhereverTheyAppear() {
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
            """
        #expect(StudentCodeAudit.sourceProblems(in: source).map(\.line) == [2, 3, 4, 6, 7, 10])
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
            """
        let problems = StudentCodeAudit.sourceProblems(in: source)
        #expect(problems.map(\.line) == [5, 6, 7, 8, 9, 13])
        #expect(problems.allSatisfy { $0.message.contains("may import D3PM, Tensors, Plotting and Foundation only") })
        #expect(problems.first?.message.contains("refuses CProcess") == true)
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
}
