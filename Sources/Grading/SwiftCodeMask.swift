/// The code of a Swift source file without its comments and the text of its
/// string literals, for searches that should see only what the compiler
/// reads as code.
///
/// Comments (`//`, nested `/* */`) and the contents of string literals
/// (plain, multi-line, raw `#"..."#`) become spaces; line breaks stay, so
/// positions and line numbers are those of the original text. The code in a
/// string's interpolation (`\(...)`, `\#(...)`) stays code. Regular
/// expression literals (`#/.../#`, and `/.../` where an expression starts)
/// stay as they are, so that a quote inside one does not open a string.
///
/// Where this reading and the compiler's could differ (a `/` that the
/// compiler reads as a regular expression's start and this one as an
/// operator), the grader's checks of the built objects stand behind it.
enum SwiftCodeMask {
    /// `text` with comments and string contents replaced by spaces.
    static func codeOnly(_ text: String) -> String {
        var scanner = Scanner(Array(text.unicodeScalars))
        scanner.run()
        var result = String.UnicodeScalarView()
        result.append(contentsOf: scanner.output)
        return String(result)
    }

    private struct Scanner {
        enum Frame {
            /// Code: the file's own, or an interpolation's with its open parentheses.
            case code(openParentheses: Int)
            /// A string literal's contents.
            case string(hashes: Int, multiline: Bool)
        }

        let input: [Unicode.Scalar]
        var output: [Unicode.Scalar] = []
        var stack: [Frame] = [.code(openParentheses: 0)]
        var position = 0

        init(_ input: [Unicode.Scalar]) {
            self.input = input
            output.reserveCapacity(input.count)
        }

        func scalar(at index: Int) -> Unicode.Scalar? { index < input.count ? input[index] : nil }

        /// Swift's line ends: LF and CR only (U+2028, U+0085, a vertical tab
        /// or a form feed are ordinary characters to the compiler, in a string
        /// as anywhere).
        func isNewline(_ scalar: Unicode.Scalar) -> Bool { scalar == "\n" || scalar == "\r" }

        /// Whether `text` starts at `index`.
        func matches(_ text: String, at index: Int) -> Bool {
            var offset = index
            for expected in text.unicodeScalars {
                guard scalar(at: offset) == expected else { return false }
                offset += 1
            }
            return true
        }

        /// How many `#` start at `index`.
        func hashes(at index: Int) -> Int {
            var count = 0
            while scalar(at: index + count) == "#" { count += 1 }
            return count
        }

        mutating func copy(_ count: Int) {
            for _ in 0..<count where position < input.count {
                output.append(input[position])
                position += 1
            }
        }

        mutating func blank(_ count: Int) {
            for _ in 0..<count where position < input.count {
                output.append(isNewline(input[position]) ? input[position] : " ")
                position += 1
            }
        }

        mutating func run() {
            while position < input.count {
                switch stack[stack.count - 1] {
                case .code(let open): scanCode(openParentheses: open)
                case .string(let hashes, let multiline): scanString(hashes: hashes, multiline: multiline)
                }
            }
        }

        mutating func scanCode(openParentheses open: Int) {
            let here = input[position]
            let inInterpolation = stack.count > 1
            if matches("//", at: position) {
                while let next = scalar(at: position), !isNewline(next) { blank(1) }
            } else if matches("/*", at: position) {
                var depth = 0
                repeat {
                    if matches("/*", at: position) {
                        depth += 1
                        blank(2)
                    } else if matches("*/", at: position) {
                        depth -= 1
                        blank(2)
                    } else {
                        blank(1)
                    }
                } while depth > 0 && position < input.count
            } else if here == "#" || here == "\"" {
                let count = hashes(at: position)
                if scalar(at: position + count) == "\"" {
                    let multiline = matches("\"\"\"", at: position + count)
                    copy(count + (multiline ? 3 : 1))
                    stack.append(.string(hashes: count, multiline: multiline))
                } else if count > 0, scalar(at: position + count) == "/" {
                    copyExtendedRegex(hashes: count)
                } else {
                    copy(max(count, 1))
                }
            } else if here == "/", let length = bareRegexLength() {
                copy(length)
            } else if inInterpolation && here == "(" {
                stack[stack.count - 1] = .code(openParentheses: open + 1)
                copy(1)
            } else if inInterpolation && here == ")" {
                if open <= 1 { stack.removeLast() } else { stack[stack.count - 1] = .code(openParentheses: open - 1) }
                copy(1)
            } else {
                copy(1)
            }
        }

        mutating func scanString(hashes: Int, multiline: Bool) {
            let here = input[position]
            if here == "\\" && self.hashes(at: position + 1) >= hashes {
                let after = position + 1 + hashes
                if scalar(at: after) == "(" {
                    blank(1 + hashes)
                    copy(1)
                    stack.append(.code(openParentheses: 1))
                } else {
                    blank(1 + hashes + 1)  // the escaped character cannot end the string
                }
            } else if here == "\"" && (!multiline || matches("\"\"\"", at: position)) {
                let quotes = multiline ? 3 : 1
                if self.hashes(at: position + quotes) >= hashes {
                    copy(quotes + hashes)
                    stack.removeLast()
                } else {
                    blank(1)
                }
            } else if isNewline(here) && !multiline {
                stack.removeLast()  // unterminated: the compiler will say so
                copy(1)
            } else {
                blank(1)
            }
        }

        /// Whether the code before here ends with a keyword after which an
        /// expression starts (`return /x/`, `case /x/`).
        func endsWithKeyword() -> Bool {
            var start = output.count
            while start > 0, output[start - 1].properties.isAlphabetic { start -= 1 }
            let word = String(String.UnicodeScalarView(output[start...]))
            return [
                "return", "case", "in", "where", "try", "await", "throw", "if", "guard", "while", "else", "is", "as",
                "let", "var", "repeat", "switch", "yield",
            ].contains(word)
        }

        /// `#/.../#` (any number of hashes), over lines if it must.
        mutating func copyExtendedRegex(hashes count: Int) {
            var end = position + count + 1
            while end < input.count {
                if input[end] == "/" && hashes(at: end + 1) >= count {
                    end += 1 + count
                    break
                }
                end += 1
            }
            copy(end - position)
        }

        /// The length of a `/.../` regular expression literal starting here,
        /// when a `/` here starts one: where an operator would be a prefix
        /// one (a blank before and none after) or where no operand ends
        /// before it (`(`, `=`, `,`, a keyword), and closed on the same line.
        func bareRegexLength() -> Int? {
            guard let next = scalar(at: position + 1), next != " ", next != "\t", !isNewline(next) else { return nil }
            let blankBefore =
                position == 0 || [" ", "\t"].contains(input[position - 1]) || isNewline(input[position - 1])
            if !blankBefore, let previous = output.last {
                let operandEnd =
                    previous.properties.isAlphabetic || ("0"..."9").contains(previous)
                    || ["_", ")", "]", "}", "\"", "`", "!", "?", ">", "$", "/"].contains(previous)
                if operandEnd && !endsWithKeyword() { return nil }
            }
            var end = position + 1
            while end < input.count, !isNewline(input[end]) {
                if input[end] == "\\" {
                    end += 2
                    continue
                }
                if input[end] == "/" { return end - position + 1 }
                end += 1
            }
            return nil
        }
    }
}
