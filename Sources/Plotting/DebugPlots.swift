import Foundation
import Tensors

/// Pictures of your own tensors while you work on an exercise: each call
/// draws one PNG under `output/debug/` and prints its path.
///
/// ```swift
/// let q = makeUniformQOnestep(numClasses: 4, betas: betas)
/// plotHeatmap(q[0], title: "Q_1")                      // output/debug/q-1.png
/// plotLines([("row 0", entropies)], title: "entropy")  // curves over 1, 2, 3, ...
/// plotImages(xt, title: "x_t", levels: 4)              // a grid of [B, 1, H, W] class images
/// ```
///
/// The calls never throw: where gnuplot is missing they say so once and
/// draw nothing. While grading (and training), they are switched off: a
/// forgotten call neither fails a check nor slows it.
public enum DebugPlots {
    nonisolated(unsafe) private static var enabled = true
    nonisolated(unsafe) private static var warned = false

    /// The folder the pictures go to.
    nonisolated(unsafe) public static var folder = URL(fileURLWithPath: "output/debug")
    /// Also show each picture in the terminal (file, sixel, kitty, text or auto).
    nonisolated(unsafe) public static var display = DisplayMode.file

    /// Switches the calls off (the grader's runner and training do).
    public static func disable() { enabled = false }

    /// Whether the calls draw.
    public static var isEnabled: Bool { enabled }

    static func draw(_ title: String, _ body: (FigureRenderer, URL) throws -> URL) {
        guard enabled else { return }
        let renderer: FigureRenderer
        do {
            renderer = try FigureRenderer()
        } catch {
            if !warned { print("(debug plots are off: \(error))") }
            warned = true
            return
        }
        let slug = title.lowercased().map { $0.isLetter || $0.isNumber ? $0 : "-" }.reduce(into: "") { text, c in
            if c != "-" || text.last != "-" { text.append(c) }
        }.trimmingCharacters(in: CharacterSet(charactersIn: "-"))
        do {
            let url = try body(renderer, folder.appendingPathComponent((slug.isEmpty ? "plot" : slug) + ".png"))
            print("plot: \(url.path)")
            try TerminalDisplay(display).show(url, text: "(\(title))")
        } catch {
            print("(no plot for '\(title)': \(error))")
        }
    }
}

/// Draws a matrix [R, C] as a heatmap with its values (for up to 8 x 8) into
/// `output/debug/` and prints the file's path.
public func plotHeatmap(_ matrix: Tensor, title: String, range: ClosedRange<Double> = 0...1, labels: [String]? = nil) {
    guard matrix.rank == 2 else {
        print("(plotHeatmap '\(title)': a matrix of shape [R, C] is needed, got \(matrix.shape))")
        return
    }
    DebugPlots.draw(title) { renderer, url in
        let map = Heatmap(
            matrix, title: title, xLabel: "column", yLabel: "row", showValues: matrix.count <= 64, range: range,
            labels: labels)
        return try renderer.heatmaps([map], title: "", to: url)
    }
}

/// Draws named curves over x = 1, 2, 3, ... into `output/debug/` and prints the file's path.
public func plotLines(
    _ series: [(name: String, values: [Double])], title: String, xLabel: String = "t", yLabel: String = ""
) {
    DebugPlots.draw(title) { renderer, url in
        try renderer.lines(
            series.map { LineSeries($0.name, y: $0.values) }, title: title, xLabel: xLabel, yLabel: yLabel,
            legend: "below", to: url)
    }
}

/// Draws the probabilities of one distribution as bars (classes 0, 1, ...), or several side by side.
public func plotBars(_ bars: [(name: String, values: [Double])], title: String) {
    DebugPlots.draw(title) { renderer, url in
        try renderer.bars(bars, title: title, to: url)
    }
}

/// Draws class images, [B, 1, H, W] or [H, W] of levels 0..<levels, in a grid;
/// with `masked`, the level `levels` is the absorbing [MASK], in orange.
public func plotImages(_ images: IntTensor, title: String, levels: Int = 4, masked: Bool = false, columns: Int = 8) {
    let (h, w) = (images.shape[images.rank - 2], images.shape[images.rank - 1])
    let count = images.count / max(h * w, 1)
    DebugPlots.draw(title) { renderer, url in
        let panels = (0..<count).map { i in
            ImagePanel(
                Tensor(shape: [h, w], scalars: images.scalars[(i * h * w)..<((i + 1) * h * w)].map(Float.init)),
                title: "\(i)")
        }
        return try renderer.imageGrid(
            panels, columns: min(columns, count), levels: levels, masked: masked, title: title, to: url)
    }
}
