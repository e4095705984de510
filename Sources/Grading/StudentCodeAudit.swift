import Foundation

/// What the grader refuses in a student's exercises before it runs them,
/// beyond what the compiler refuses.
///
/// The runner is one program: the student's code is linked with the kit's
/// `D3PM`, `Tensors` and the runner's lock-down. Two things would let an
/// exercise file reach past its functions there:
/// - **Other modules of the kit.** SwiftPM's import check refuses a module
///   `Student` does not depend on, but not one its dependencies bring along
///   (`CProcess`, the lock-down's own C module; `CKernels`).
/// - **Symbols of its own choosing.** `@_cdecl("prctl")` or
///   `@_silgen_name(...)` defines a function that the program's calls into
///   the C or Swift libraries would reach instead of theirs, before the
///   lock-down, or in place of it.
///
/// So the exercise files may import only ``importableKitModules`` of the kit
/// and may use no attribute that names or places a symbol (`@_cdecl`,
/// `@_silgen_name` and every underscored one, Swift 6.3's `@c` and
/// `@export`: never needed here), and, on Linux, every symbol that
/// the built `Student` objects define must be one of Swift's own for
/// module `Student`.
public enum StudentCodeAudit {
    /// The kit's modules an exercise file may import.
    public static let importableKitModules: Set<String> = ["D3PM", "Tensors", "Plotting"]

    /// The kit's other modules: importing one is refused.
    public static let refusedKitModules: Set<String> = [
        "CKernels", "CProcess", "CZlib", "Checks", "CommandSupport", "Datasets", "Diffusion", "Grading", "NN",
        "Solutions", "Student",
    ]

    /// The problems in the Swift files of `folder` (the exercises), each as
    /// a compiler-style line (`Exercises/File.swift:12: error: ...`) with
    /// paths from `root`; empty when there are none.
    public static func sourceProblems(in folder: URL, root: URL) -> [String] {
        let files =
            ((try? FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)) ?? [])
            .filter { $0.pathExtension == "swift" }.sorted { $0.path < $1.path }
        return files.flatMap { file -> [String] in
            let text = (try? String(contentsOf: file, encoding: .utf8)) ?? ""
            let name = file.path.replacingOccurrences(of: root.path + "/", with: "")
            return sourceProblems(in: text).map { "\(name):\($0.line): error: \($0.message)" }
        }
    }

    /// The problems of one file's text: (line, message).
    static func sourceProblems(in text: String) -> [(line: Int, message: String)] {
        var problems: [(line: Int, message: String)] = []
        // Anywhere, comments and strings included (a false alarm costs a rename, a miss a lock-down), and
        // with blanks or comments after the @, which Swift 5's language mode accepted with a warning.
        let attribute = #"@(?:\s|/\*[\s\S]*?\*/|//[^\n]*\n)*(?:_|`|c\b|export\b)"#
        var searched = text.startIndex..<text.endIndex
        while let found = text.range(of: attribute, options: .regularExpression, range: searched) {
            let line = lineNumber(of: found.lowerBound, in: text)
            if problems.last?.line != line {
                problems.append(
                    (
                        line,
                        "attributes that name or place symbols (@_cdecl, @_silgen_name, @c, @export, any underscored one) are refused in exercise files"
                    ))
            }
            searched = found.upperBound..<text.endIndex
        }
        // Imports, over lines and comments too: `import /* x */\n CProcess` is one.
        let blank = #"(?:\s|/\*[\s\S]*?\*/|//[^\n]*\n)"#
        let kinds = "(?:typealias|struct|class|enum|protocol|let|var|func)"
        let statement =
            #"(?:^|;)\s*(?:@\w+\s+)*import"# + blank + "+(?:" + kinds + blank + "+)?([A-Za-z_][A-Za-z0-9_]*)"
        if let expression = try? NSRegularExpression(pattern: statement, options: [.anchorsMatchLines]) {
            let whole = NSRange(text.startIndex..., in: text)
            for match in expression.matches(in: text, range: whole) {
                guard let name = Range(match.range(at: 1), in: text) else { continue }
                let module = String(text[name])
                guard refusedKitModules.contains(module) else { continue }
                problems.append(
                    (
                        lineNumber(of: name.lowerBound, in: text),
                        "an exercise file may import D3PM, Tensors, Plotting and Foundation only: the grader refuses \(module)"
                    ))
            }
        }
        return problems.sorted { $0.line < $1.line }
    }

    /// The line, from 1, on which `index` of `text` lies.
    static func lineNumber(of index: String.Index, in text: String) -> Int {
        text[..<index].reduce(1) { $1.isNewline ? $0 + 1 : $0 }
    }

    /// The symbols among `nm`'s listing of defined global symbols (BSD
    /// format: value, type letter, name) that module `Student`'s code may
    /// not define: a strong one that is not Swift's for module `Student`,
    /// or a weak one that is neither Swift's nor the compiler's own helpers
    /// and bookkeeping (`__swift_...`, `got.`, `symbolic `, `associated `).
    /// (`@c @export(implementation)` would define a weak C symbol of any
    /// name: the source check refuses both attributes.)
    static func refusedSymbols(inListing listing: String) -> [String] {
        var refused: [String] = []
        for line in listing.split(separator: "\n") {
            let fields = line.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: true)
            guard fields.count == 3, fields[1].count == 1 else { continue }
            let type = fields[1], name = String(fields[2])
            let swiftOfStudent = name.hasPrefix("$s") && name.contains("7Student")
            let weak = type == "W" || type == "V" || type == "w" || type == "v"
            let compilerOwn = ["$s", "__swift_", "got.", "symbolic ", "associated "].contains { name.hasPrefix($0) }
            if swiftOfStudent || (weak && compilerOwn) { continue }
            refused.append(name)
        }
        return refused
    }

    /// The llvm-nm beside `swift` on the PATH (the Swift toolchains ship
    /// one), or `nm` on the PATH.
    static let symbolLister: URL? = {
        let folders = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init)
        for tool in ["llvm-nm", "nm"] {
            for folder in folders {
                let candidate = URL(fileURLWithPath: folder).appendingPathComponent(tool)
                if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            }
        }
        return nil
    }()

    /// The symbols the objects in `folder` (the `Student.build` folder of a
    /// build) define that they may not (see ``refusedSymbols(inListing:)``).
    /// - Throws: ``GradingError/noRunner(_:)`` when no symbol lister runs.
    static func refusedSymbols(inObjectsOf folder: URL) throws -> [String] {
        let objects =
            ((try? FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)) ?? [])
            .filter { $0.pathExtension == "o" }.map(\.path).sorted()
        guard !objects.isEmpty else { return [] }
        guard let lister = symbolLister else {
            throw GradingError.noRunner("no llvm-nm or nm on the PATH to check the symbols of the exercises' build")
        }
        let process = Process()
        process.executableURL = lister
        process.arguments = ["--defined-only", "--extern-only", "--no-sort"] + objects
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw GradingError.noRunner("\(lister.path) could not list the symbols of \(folder.path)")
        }
        return refusedSymbols(inListing: String(decoding: output, as: UTF8.self))
    }
}
