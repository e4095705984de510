import Foundation

/// What the grader refuses in a student's exercises before it runs them,
/// beyond what the compiler refuses.
///
/// The runner is one program: the student's code is linked with the kit's
/// `D3PM`, `Tensors` and the runner's lock-down. Three things would let an
/// exercise file reach past its functions there:
/// - **Other modules of the kit.** SwiftPM's import check refuses a module
///   `Student` does not depend on, but not one its dependencies bring along
///   (`CProcess`, the lock-down's own C module; `CKernels`).
/// - **Symbols of its own choosing.** `@_cdecl("prctl")` or
///   `@_silgen_name(...)` defines a function that the program's calls into
///   the C or Swift libraries would reach instead of theirs, before the
///   lock-down, or in place of it.
/// - **Code that runs before `main`.** `@section(".init_array") @used` puts
///   a function among the program's constructors: it would run before the
///   lock-down, free to start processes.
///
/// So the exercise files may import only ``importableKitModules`` of the
/// kit and may use no attribute that names, places or keeps a symbol
/// (``refusedAttribute``: never needed here); and on Linux, every symbol
/// that the built `Student` objects define must be one of Swift's own for
/// module `Student`, and no section of theirs may hold constructors,
/// destructors or dynamic replacements (``refusedSections(inObject:)``).
/// The source check reads code only, not comments or strings; the checks
/// of the objects stand behind it.
public enum StudentCodeAudit {
    /// The kit's modules an exercise file may import.
    public static let importableKitModules: Set<String> = ["D3PM", "Tensors", "Plotting"]

    /// The kit's other modules: importing one is refused.
    public static let refusedKitModules: Set<String> = [
        "CKernels", "CProcess", "CZlib", "Checks", "CommandSupport", "Datasets", "Diffusion", "Grading", "NN",
        "Solutions", "Student",
    ]

    /// The test frameworks: an exercise has no use for them, and their macros
    /// put records in sections of their own, which the object check would
    /// have to tell from the student's.
    public static let refusedTestModules: Set<String> = ["Testing", "XCTest"]

    /// The problems in the Swift files of `folder` (the exercises), each as
    /// a compiler-style line (`Exercises/File.swift:12: error: ...`) with
    /// paths from `root`; empty when there are none.
    public static func sourceProblems(in folder: URL, root: URL) -> [String] {
        filesBelow(folder).flatMap { file -> [String] in
            let name = file.path.replacingOccurrences(of: root.path + "/", with: "")
            if (try? file.resourceValues(forKeys: [.isSymbolicLinkKey]).isSymbolicLink) == true {
                return ["\(name): error: a symbolic link: the grader takes only regular files in Exercises/"]
            }
            guard file.pathExtension == "swift" else { return [] }
            let text = String(decoding: (try? Data(contentsOf: file)) ?? Data(), as: UTF8.self)
            return sourceProblems(in: text).map { "\(name):\($0.line): error: \($0.message)" }
        }
    }

    /// What an exercise file may import, said in the messages.
    static let importRule =
        "an exercise file may import, of the kit's modules, D3PM, Tensors and Plotting only (and system modules such as Foundation)"

    /// The attributes refused in exercise files: every underscored one and
    /// those that name, place or keep symbols (`@c`, `@export`, `@extern`,
    /// `@abi`, `@section`, `@used`), with blanks allowed after the `@` as
    /// Swift 5's language mode did, and any spelled in backquotes.
    static let refusedAttribute = #"@\s*(?:_|`|(?:c|export|extern|abi|section|used)\b)"#

    /// The files in `folder` and its subfolders, hidden ones and symbolic
    /// links included (the compiler takes a target's sources from every
    /// subfolder), by path.
    static func filesBelow(_ folder: URL) -> [URL] {
        let keys: [URLResourceKey] = [.isDirectoryKey, .isSymbolicLinkKey]
        guard let walk = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: keys) else { return [] }
        return walk.compactMap { $0 as? URL }
            .filter { entry in
                let values = try? entry.resourceValues(forKeys: Set(keys))
                return values?.isSymbolicLink == true || values?.isDirectory != true
            }
            .sorted { $0.path < $1.path }
    }

    /// The problems of one file's text: (line, message). Comments and the
    /// text of string literals are not read (see ``SwiftCodeMask``).
    static func sourceProblems(in text: String) -> [(line: Int, message: String)] {
        // The compiler takes a NUL as a blank (with a warning), as the patterns' \s must.
        let code = SwiftCodeMask.codeOnly(text).replacingOccurrences(of: "\u{0}", with: " ")
        func line(_ range: Range<String.Index>) -> Int { lineNumber(of: range.lowerBound, in: code) }
        var problems: [(line: Int, message: String)] = []
        for found in matches(of: refusedAttribute, in: code) where problems.last?.line != line(found) {
            problems.append(
                (
                    line(found),
                    "attributes that name, place or keep symbols (@_cdecl, @_silgen_name, @c, @export, @extern, @abi, @section, @used, any underscored one) are refused in exercise files"
                ))
        }
        for found in matches(of: #"@\s*testable\b"#, in: code) {
            problems.append(
                (
                    line(found),
                    "@testable is refused in exercise files: they use the public API of D3PM, Tensors and Plotting"
                ))
        }
        // A type named after one of the kit's modules would shadow the module's name where both are seen
        // (the runner's `D3PM.runExercises` would name the student's type).
        let modules = (importableKitModules.union(refusedKitModules)).sorted().joined(separator: "|")
        let shadowing =
            #"(?<![\w.`$])(?:class|struct|enum|protocol|typealias|actor)\s+`?("# + modules + #")`?(?![\w`])"#
        for name in matches(of: shadowing, group: 1, in: code) {
            problems.append(
                (line(name), "a type named \(code[name]) would hide the kit's module of that name: choose another name")
            )
        }
        // Imports, over lines too (`import /* x */\n CProcess` is one). The keyword is matched wherever it
        // stands, not after what may precede it (attributes, access levels, `@ preconcurrency` in Swift 5).
        let kinds = "(?:typealias|struct|class|enum|protocol|let|var|func)"
        let statement = #"(?<![\w.`$])import\s+(?:"# + kinds + #"\s+)?`?([A-Za-z_][A-Za-z0-9_]*)"#
        for name in matches(of: statement, group: 1, in: code) {
            let module = String(code[name])
            if refusedKitModules.contains(module) {
                problems.append((line(name), "\(importRule): the grader refuses \(module)"))
            } else if refusedTestModules.contains(module) {
                problems.append(
                    (line(name), "a test framework has no place in an exercise file: the grader refuses \(module)"))
            }
        }
        return problems.sorted { $0.line < $1.line }
    }

    /// The ranges of capture group `group` (0: the whole match) of every
    /// match of `pattern` in `code`, in order.
    static func matches(of pattern: String, group: Int = 0, in code: String) -> [Range<String.Index>] {
        guard let expression = try? NSRegularExpression(pattern: pattern) else { return [] }
        return expression.matches(in: code, range: NSRange(code.startIndex..., in: code)).compactMap {
            Range($0.range(at: group), in: code)
        }
    }

    /// The line, from 1, on which `index` of `text` lies.
    static func lineNumber(of index: String.Index, in text: String) -> Int {
        text[..<index].reduce(1) { $1 == "\n" || $1 == "\r\n" || $1 == "\r" ? $0 + 1 : $0 }
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

    /// The object files below `folder` (the `Student.build` folder of a build).
    static func objectFiles(in folder: URL) -> [URL] { filesBelow(folder).filter { $0.pathExtension == "o" } }

    /// The symbols that `objects` (``objectFiles(in:)``) define and may not
    /// (see ``refusedSymbols(inListing:)``).
    /// - Throws: ``GradingError/noRunner(_:)`` when no symbol lister runs.
    static func refusedSymbols(inObjects objects: [URL]) throws -> [String] {
        guard !objects.isEmpty else { return [] }
        guard let lister = symbolLister else {
            throw GradingError.noRunner("no llvm-nm or nm on the PATH to check the symbols of the exercises' build")
        }
        let process = Process()
        process.executableURL = lister
        process.arguments = ["--defined-only", "--extern-only", "--no-sort"] + objects.map(\.path)
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw GradingError.noRunner(
                "\(lister.path) could not list the symbols of \(objects.first!.deletingLastPathComponent().path)")
        }
        return refusedSymbols(inListing: String(decoding: output, as: UTF8.self))
    }

    /// The sections of `objects` (``objectFiles(in:)``) that hold code that
    /// runs by itself, as `File.o: name`.
    static func refusedSections(inObjects objects: [URL]) throws -> [String] {
        try objects.flatMap { object in
            try refusedSections(inObject: object).map { "\(object.lastPathComponent): \($0)" }
        }
    }

    /// Whether a section of an object, by its name and ELF type, holds code
    /// that runs by itself: constructors and destructors (`.init_array`,
    /// `.preinit_array`, `.fini_array`, `.ctors`, `.dtors`, `.init`,
    /// `.fini`) or Swift's dynamic replacements (`swift5_replace`,
    /// `swift5_replac2`).
    static func isRefusedSection(name: String, type: UInt32) -> Bool {
        // SHT_INIT_ARRAY, SHT_FINI_ARRAY, SHT_PREINIT_ARRAY
        if (14...16).contains(type) { return true }
        let prefixes = [".init_array", ".preinit_array", ".fini_array", ".ctors", ".dtors", "swift5_replac"]
        return name == ".init" || name == ".fini" || prefixes.contains { name.hasPrefix($0) }
            || prefixes.contains { name.hasPrefix(".rela" + $0) || name.hasPrefix(".rel" + $0) }
    }

    /// The sections of the ELF object at `file` that hold code that runs by
    /// itself (``isRefusedSection(name:type:)``).
    /// - Throws: ``GradingError/noRunner(_:)`` when the file is not a
    ///   64-bit little-endian ELF object (the compiler's output here).
    static func refusedSections(inObject file: URL) throws -> [String] {
        let bytes = [UInt8]((try? Data(contentsOf: file)) ?? Data())
        func integer<T: FixedWidthInteger>(_: T.Type, at offset: Int) -> T? {
            guard offset >= 0, offset + MemoryLayout<T>.size <= bytes.count else { return nil }
            var value: T = 0
            for index in (0..<MemoryLayout<T>.size).reversed() { value = value << 8 | T(bytes[offset + index]) }
            return value
        }
        let notAnObject = GradingError.noRunner("\(file.lastPathComponent) is not a 64-bit little-endian ELF object")
        guard bytes.count >= 64, bytes[0..<4] == [0x7F, 0x45, 0x4C, 0x46], bytes[4] == 2, bytes[5] == 1,
            let tableOffset = integer(UInt64.self, at: 0x28), let entrySize = integer(UInt16.self, at: 0x3A),
            let count = integer(UInt16.self, at: 0x3C), let namesIndex = integer(UInt16.self, at: 0x3E),
            entrySize >= 64, tableOffset < UInt64(bytes.count), namesIndex < count
        else { throw notAnObject }
        func header(_ index: Int) -> (name: UInt32, type: UInt32, offset: UInt64)? {
            let start = Int(tableOffset) + index * Int(entrySize)
            guard let name = integer(UInt32.self, at: start), let type = integer(UInt32.self, at: start + 4),
                let offset = integer(UInt64.self, at: start + 0x18)
            else { return nil }
            return (name, type, offset)
        }
        guard let names = header(Int(namesIndex)), names.offset < UInt64(bytes.count) else { throw notAnObject }
        var refused: [String] = []
        for index in 0..<Int(count) {
            guard let section = header(index) else { throw notAnObject }
            let start = min(Int(names.offset) + Int(section.name), bytes.count)
            var end = start
            while end < bytes.count && bytes[end] != 0 { end += 1 }
            let name = String(decoding: bytes[start..<end], as: UTF8.self)
            if isRefusedSection(name: name, type: section.type) { refused.append(name) }
        }
        return refused
    }
}
