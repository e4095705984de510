import Foundation
import Plotting
import Tensors
import Testing

/// The figures are drawn by the real gnuplot into real files, read back here.
@Suite(
    "Figures drawn by gnuplot",
    .enabled(
        if: Gnuplot.isAvailable || ProcessInfo.processInfo.environment["D3PM_REQUIRE_GNUPLOT"] == "1",
        "gnuplot is not installed"))
struct FigureTests {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("d3pm-figure-tests-\(UUID().uuidString)")

    /// The bounding box of the saturated (palette-colored) pixels.
    func coloredBox(_ png: DecodedPNG) -> (x0: Int, y0: Int, x1: Int, y1: Int)? {
        var box: (Int, Int, Int, Int)?
        for y in 0..<png.height {
            for x in 0..<png.width {
                let (r, g, b) = png.rgb(x: x, y: y)
                guard max(r, g, b) - min(r, g, b) > 80 else { continue }
                box = box.map { (min($0.0, x), min($0.1, y), max($0.2, x), max($0.3, y)) } ?? (x, y, x, y)
            }
        }
        return box.map { (x0: $0.0, y0: $0.1, x1: $0.2, y1: $0.3) }
    }

    @Test func heatmapColorsTheDiagonalOfTheIdentityAtTheTopOfTheScale() throws {
        var map = Heatmap(Tensor.eye(2), title: "")
        map.showColorbox = false
        let url = try FigureRenderer().heatmaps(
            [map], to: folder.appendingPathComponent("identity.png"), panelSize: 300)
        let png = try DecodedPNG(contentsOf: url)
        #expect(png.width == 300 && png.height == 340)
        let box = try #require(coloredBox(png))
        let quarterX = (box.x1 - box.x0) / 4, quarterY = (box.y1 - box.y0) / 4
        let diagonal = png.rgb(x: box.x0 + quarterX, y: box.y0 + quarterY)
        let offDiagonal = png.rgb(x: box.x1 - quarterX, y: box.y0 + quarterY)
        // The top of the palette is yellow (#f0f921), the bottom dark blue (#0d0887).
        #expect(diagonal.r > 200 && diagonal.g > 200 && diagonal.b < 80, "diagonal cell \(diagonal)")
        #expect(offDiagonal.r < 60 && offDiagonal.b > 100, "off-diagonal cell \(offDiagonal)")
        try? FileManager.default.removeItem(at: folder)
    }

    @Test func linePlotAndImageGridAreValidPNGsOfTheAskedSize() throws {
        let renderer = try FigureRenderer()
        let lines = try renderer.lines(
            [LineSeries("loss", y: [3, 2, 1.5, 1.2])], title: "loss", xLabel: "step", yLabel: "loss", logY: true,
            to: folder.appendingPathComponent("loss.png"), width: 400, height: 300)
        let linePNG = try DecodedPNG(contentsOf: lines)
        #expect(linePNG.width == 400 && linePNG.height == 300)
        let image = Tensor(shape: [4, 6], scalars: (0..<24).map { Float($0 % 4) })
        let grid = try renderer.imageGrid(
            [ImagePanel(image, title: "a"), ImagePanel(image, title: "b")], columns: 2, levels: 4,
            to: folder.appendingPathComponent("grid.png"), panelSize: 100)
        let gridPNG = try DecodedPNG(contentsOf: grid)
        #expect(gridPNG.width == 200 && gridPNG.height == 100 + 18 + 4)
        try? FileManager.default.removeItem(at: folder)
    }

    @Test func animationHasOneFramePerStep() throws {
        let frames = (0..<3).map { step in [ImagePanel(Tensor.full([5, 5], Float(step)), title: "t = \(step)")] }
        let url = try FigureRenderer().animation(
            frames, columns: 1, levels: 4, titles: ["0", "1", "2"],
            to: folder.appendingPathComponent("chain.gif"), panelSize: 80)
        let gif = try GIFSummary(contentsOf: url)
        #expect(gif.frames == 3)
        #expect(gif.width == 80)
        try? FileManager.default.removeItem(at: folder)
    }

    @Test func gnuplotErrorsComeBackWithGnuplotsMessage() throws {
        let gnuplot = try Gnuplot()
        #expect {
            try gnuplot.run(script: "plot $nosuchblock using 1:2\n")
        } throws: { error in
            guard case PlotError.gnuplotFailed(_, let message) = error else { return false }
            return message.contains("nosuchblock") || message.contains("undefined") || message.contains("No data")
        }
    }

    @Test func badInputIsRejectedBeforeGnuplotRuns() throws {
        #expect(throws: PlotError.self) {
            try FigureRenderer().heatmaps(
                [Heatmap(Tensor.zeros([2, 2, 2]), title: "cube")], to: folder.appendingPathComponent("x.png"))
        }
    }
}

/// The plots students call from their own code: a real PNG per call, and
/// nothing at all once switched off (as the grader's runner does).
@Suite(
    "Debug plots", .serialized,
    .enabled(
        if: Gnuplot.isAvailable || ProcessInfo.processInfo.environment["D3PM_REQUIRE_GNUPLOT"] == "1",
        "gnuplot is not installed"))
struct DebugPlotTests {
    @Test func eachCallDrawsAPictureAndNoneOnceSwitchedOff() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("d3pm-debug-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        await #expect(processExitsWith: .success) { [folder = folder as URL] in
            DebugPlots.folder = folder
            plotHeatmap(Tensor.eye(3), title: "Q_1 (K = 3)")
            plotLines([("row 0", [0.1, 0.5, 0.9])], title: "entropy")
            plotBars([("t = 2", [0.2, 0.8]), ("t = 9", [0.5, 0.5])], title: "posterior")
            plotImages(IntTensor.zeros([2, 1, 4, 5]), title: "x_t", levels: 4, masked: true)
            let names = Set((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? [])
            guard names == ["q-1-k-3.png", "entropy.png", "posterior.png", "x-t.png"] else { exit(1) }
            for name in names {
                guard let data = try? Data(contentsOf: folder.appendingPathComponent(name)),
                    data.starts(with: [0x89, 0x50, 0x4E, 0x47])
                else {
                    exit(2)
                }
            }
            DebugPlots.disable()
            plotHeatmap(Tensor.eye(2), title: "after")
            exit(FileManager.default.fileExists(atPath: folder.appendingPathComponent("after.png").path) ? 3 : 0)
        }
    }
}
