import Foundation
import Plotting
import Tensors
import Testing

@Suite("Figures in the terminal")
struct TerminalDisplayTests {
    @Test func autoPicksTheTerminalsProtocol() {
        #expect(DisplayMode.auto.resolved(environment: ["TERM": "xterm-kitty"], isTerminal: true) == .kitty)
        #expect(DisplayMode.auto.resolved(environment: ["TERM": "mlterm"], isTerminal: true) == .sixel)
        #expect(DisplayMode.auto.resolved(environment: ["TERM": "xterm-256color"], isTerminal: true) == .text)
        #expect(DisplayMode.auto.resolved(environment: ["TERM": "xterm-kitty"], isTerminal: false) == .file)
        #expect(DisplayMode.text.resolved(environment: [:], isTerminal: false) == .text)
    }

    @Test func textImagesUseDarkerCharactersForDarkerPixels() {
        let text = TerminalDisplay.text(image: Tensor([[0, 3], [1, 2]]), levels: 4)
        let rows = text.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(rows[0].hasPrefix("  ") && rows[0].hasSuffix("@@"))
    }

    @Test(.enabled(if: Gnuplot.isAvailable || ProcessInfo.processInfo.environment["D3PM_REQUIRE_GNUPLOT"] == "1"))
    func kittyAndSixelCarryTheImage() throws {
        let url = try FigureRenderer().imageGrid(
            [ImagePanel(Tensor.eye(4) * 3)], columns: 1, levels: 4,
            to: FileManager.default.temporaryDirectory.appendingPathComponent("d3pm-term-\(UUID().uuidString).png"))
        defer { try? FileManager.default.removeItem(at: url) }
        let kitty = try #require(try TerminalDisplay(.kitty).rendering(of: url, text: ""))
        #expect(kitty.hasPrefix("\u{1B}_Ga=T,f=100,") && kitty.hasSuffix("\u{1B}\\"))
        let payload = kitty.components(separatedBy: "\u{1B}_G").dropFirst().map {
            $0.split(separator: ";", maxSplits: 1)[1].dropLast(2)
        }.joined()
        #expect(Data(base64Encoded: payload) == (try Data(contentsOf: url)))
        let sixel = try #require(try TerminalDisplay(.sixel).rendering(of: url, text: ""))
        #expect(sixel.hasPrefix("\u{1B}P") && sixel.contains("#"))
    }
}

@Suite("Terminal pictures that fit")
struct TerminalWidthTests {
    let panels: [(title: String, image: Tensor)] = (0..<7).map { ("t = \($0 * 40)", Tensor.eye(28) * 3) }

    @Test(arguments: [80, 150, 200, 40])
    func textPanelsWrapToTheTerminalsWidth(_ width: Int) {
        let text = TerminalDisplay.text(images: panels, levels: 4, width: width)
        let lines = text.split(separator: "\n")
        #expect(lines.allSatisfy { $0.count <= width }, "a line is wider than \(width) columns")
        let titles = lines.filter { $0.contains("t = ") }.map { $0.components(separatedBy: "t = ").count - 1 }.reduce(
            0, +)
        #expect(titles == panels.count, "every panel is shown once")
    }

    @Test func insideTmuxAutoChoosesText() {
        let environment = ["TERM": "xterm-kitty", "TMUX": "/tmp/tmux-0/default,1,0"]
        #expect(DisplayMode.auto.resolved(environment: environment, isTerminal: true) == .text)
        #expect(DisplayMode.auto.resolved(environment: ["TERM": "xterm-kitty"], isTerminal: true) == .kitty)
    }
}
