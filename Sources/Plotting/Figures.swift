import Foundation
import Tensors

/// A matrix drawn as colored cells, on a fixed 0...1 color scale by default.
public struct Heatmap: Sendable {
    public var matrix: Tensor
    public var title: String
    public var xLabel: String
    public var yLabel: String
    /// Print each cell's value on it.
    public var showValues: Bool
    public var range: ClosedRange<Double>
    /// Draw the color scale beside the matrix.
    public var showColorbox = true
    /// Names of the rows and columns (the states: "0", "1", ..., "M" for [MASK]); their indices by default.
    public var labels: [String]?

    public init(
        _ matrix: Tensor, title: String, xLabel: String = "", yLabel: String = "", showValues: Bool = false,
        range: ClosedRange<Double> = 0...1, labels: [String]? = nil
    ) {
        self.matrix = matrix
        self.labels = labels
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.showValues = showValues
        self.range = range
    }
}

/// One named curve of a line plot.
public struct LineSeries: Sendable {
    public var name: String
    public var x: [Double]
    public var y: [Double]

    /// Draw the curve dashed (for references such as a bound).
    public var dashed = false
    /// Mark each point (for a few measured values rather than a curve).
    public var markers = false

    public init(_ name: String, x: [Double], y: [Double], dashed: Bool = false, markers: Bool = false) {
        self.name = name
        self.x = x
        self.y = y
        self.dashed = dashed
        self.markers = markers
    }

    /// A curve over x = 1, 2, 3, ...
    public init(_ name: String, y: [Double], dashed: Bool = false) {
        self.init(name, x: (0..<y.count).map { Double($0 + 1) }, y: y, dashed: dashed)
    }
}

/// One grayscale image of a grid, with its title.
public struct ImagePanel: Sendable {
    /// Pixel values, shape [H, W].
    public var pixels: Tensor
    public var title: String

    public init(_ pixels: Tensor, title: String = "") {
        self.pixels = pixels
        self.title = title
    }

    /// An image of class indices (gray levels 0..<K), shape [H, W].
    public init(levels: IntTensor, title: String = "") {
        self.init(levels.asFloat, title: title)
    }
}

/// The kit's figures, each drawn by one gnuplot process into a file that
/// appears complete or not at all (written beside, then renamed).
public struct FigureRenderer: Sendable {
    public let gnuplot: Gnuplot
    /// The PNG terminal: pngcairo where gnuplot has it (anti-aliased), png otherwise.
    let pngTerminal: String

    /// - Throws: ``PlotError/gnuplotMissing`` when gnuplot is not installed.
    public init() throws {
        gnuplot = try Gnuplot()
        pngTerminal = gnuplot.terminals().contains("pngcairo") ? "pngcairo" : "png"
    }

    // MARK: Figures

    /// `set xtics 1; set ytics 1`, or tics named by `labels`.
    private func tics(_ labels: [String]?) -> String {
        guard let labels else { return "set xtics 1; set ytics 1" }
        let list = labels.enumerated().map { "\(quoted($1)) \($0)" }.joined(separator: ", ")
        return "set xtics (\(list)); set ytics (\(list))"
    }

    /// Heatmaps side by side, sharing one color scale.
    @discardableResult
    public func heatmaps(_ maps: [Heatmap], title: String = "", to url: URL, panelSize: Int = 360) throws -> URL {
        guard !maps.isEmpty else { throw PlotError.badInput("no heatmaps given") }
        for map in maps where map.matrix.rank != 2 {
            throw PlotError.badInput("a heatmap needs a matrix, got shape \(map.matrix.shape) for '\(map.title)'")
        }
        var script = header(terminal: "\(pngTerminal) size \(panelSize * maps.count),\(panelSize + 40) font 'sans,10'")
        script += "set palette defined (0 '#0d0887', 0.25 '#7e03a8', 0.5 '#cc4778', 0.75 '#f89540', 1 '#f0f921')\n"
        script += "set multiplot layout 1,\(maps.count) title \(quoted(title))\n"
        for (index, map) in maps.enumerated() {
            let (rows, columns) = (map.matrix.shape[0], map.matrix.shape[1])
            script += dataBlock("M\(index)", matrix: map.matrix)
            script += """
                set title \(quoted(map.title))
                set xlabel \(quoted(map.xLabel)); set ylabel \(quoted(map.yLabel))
                set xrange [-0.5:\(Double(columns) - 0.5)]; set yrange [\(Double(rows) - 0.5):-0.5]
                \(tics(map.labels)); set size ratio -1
                set cbrange [\(map.range.lowerBound):\(map.range.upperBound)]
                \(map.showColorbox ? "set colorbox" : "unset colorbox")

                """
            if map.showValues {
                // Dark text on light cells, light text on dark cells.
                let mid = (map.range.lowerBound + map.range.upperBound) / 2
                script +=
                    "plot $M\(index) matrix with image notitle, "
                    + "$M\(index) matrix using 1:2:($3 > \(mid) ? sprintf('%.2f', $3) : '') with labels textcolor rgb 'black' notitle, "
                    + "$M\(index) matrix using 1:2:($3 <= \(mid) ? sprintf('%.2f', $3) : '') with labels textcolor rgb 'white' notitle\n"
            } else {
                script += "plot $M\(index) matrix with image notitle\n"
            }
        }
        script += "unset multiplot\n"
        return try render(script, to: url)
    }

    /// Curves with a legend, optionally on a logarithmic y axis or a given
    /// y range (by default from 0, or below, to a little above the highest value).
    @discardableResult
    public func lines(
        _ series: [LineSeries], title: String, xLabel: String, yLabel: String, logY: Bool = false,
        yRange: ClosedRange<Double>? = nil, legend: String = "top right", to url: URL, width: Int = 720,
        height: Int = 440
    ) throws -> URL {
        guard !series.isEmpty, series.allSatisfy({ !$0.x.isEmpty && $0.x.count == $0.y.count }) else {
            throw PlotError.badInput("line plot '\(title)' needs series with as many x as y values")
        }
        var script = header(terminal: "\(pngTerminal) size \(width),\(height) font 'sans,10'")
        script +=
            "set title \(quoted(title))\nset xlabel \(quoted(xLabel))\nset ylabel \(quoted(yLabel))\nset grid\nset key \(legend)\n"
        if logY {
            script += "set logscale y\n"
        } else if let yRange {
            script += "set yrange [\(yRange.lowerBound):\(yRange.upperBound)]\n"
        } else {
            // Room above the highest curve, so that a reference line at the top stays visible.
            let highest = series.flatMap(\.y).filter(\.isFinite).max() ?? 1
            let lowest = min(series.flatMap(\.y).filter(\.isFinite).min() ?? 0, 0)
            script += "set yrange [\(lowest):\(highest + 0.08 * max(highest - lowest, 1e-9))]\n"
        }
        for (index, s) in series.enumerated() {
            script += "$S\(index) << EOD\n" + zip(s.x, s.y).map { "\($0) \($1)" }.joined(separator: "\n") + "\nEOD\n"
        }
        script +=
            "plot "
            + series.indices.map { index in
                // A single value is a marker; a curve is a line.
                let style =
                    series[index].x.count == 1
                    ? "points pointtype 7 pointsize 1.5"
                    : series[index].markers ? "linespoints linewidth 2 pointtype 7 pointsize 1.2" : "lines linewidth 2"
                let dashed = series[index].dashed ? "dashtype 2 linecolor rgb '#444444' " : ""
                return "$S\(index) using 1:2 with \(style) \(dashed)title \(quoted(series[index].name))"
            }.joined(separator: ", ") + "\n"
        return try render(script, to: url)
    }

    /// Bar charts of distributions over classes 0, 1, ..., side by side, one colour each.
    @discardableResult
    public func bars(
        _ groups: [(name: String, values: [Double])], title: String, to url: URL, width: Int = 720, height: Int = 400
    )
        throws -> URL
    {
        guard let first = groups.first,
            groups.allSatisfy({ $0.values.count == first.values.count && !$0.values.isEmpty })
        else {
            throw PlotError.badInput("a bar chart needs groups of equal, non-zero length")
        }
        var script = header(terminal: "\(pngTerminal) size \(width),\(height) font 'sans,10'")
        script += "set title \(quoted(title))\nset style data histograms\nset style histogram clustered gap 1\n"
        script +=
            "set style fill solid 0.8 border -1\nset yrange [0:*]\nset grid ytics\nset key below\nset xlabel 'class'\n"
        script += "$B << EOD\n"
        for index in first.values.indices {
            script += "\(index) " + groups.map { String($0.values[index]) }.joined(separator: " ") + "\n"
        }
        script +=
            "EOD\nplot "
            + groups.indices.map { "$B using \($0 + 2):xtic(1) title \(quoted(groups[$0].name))" }.joined(
                separator: ", ") + "\n"
        return try render(script, to: url)
    }

    /// Grayscale images in a grid, each with its title; `levels` is the
    /// number of gray levels (values run 0...levels - 1, black to white).
    /// With `masked`, the value `levels` is the absorbing [MASK] state, drawn
    /// in a colour of its own and named in the title.
    @discardableResult
    public func imageGrid(
        _ panels: [ImagePanel], columns: Int, levels: Int, masked: Bool = false, title: String = "", to url: URL,
        panelSize: Int = 140
    ) throws -> URL {
        var script = header(
            terminal: "\(pngTerminal) size \(gridSize(panels.count, columns, panelSize, title)) font 'sans,9'")
        var pixels = Data()
        script += try gridFrame(
            panels, columns: columns, levels: levels, masked: masked, title: title, panelSize: panelSize,
            pixels: &pixels)
        return try render(script, to: url, binaryData: pixels)
    }

    /// An animated GIF: one grid of images per frame.
    @discardableResult
    public func animation(
        _ frames: [[ImagePanel]], columns: Int, levels: Int, masked: Bool = false, titles: [String], delay: Int = 25,
        to url: URL, panelSize: Int = 140
    ) throws -> URL {
        guard let first = frames.first, frames.count == titles.count else {
            throw PlotError.badInput("an animation needs frames and one title per frame")
        }
        var script = header(
            terminal:
                "gif animate delay \(delay) loop 0 optimize size \(gridSize(first.count, columns, panelSize, "t")) font 'sans,9'"
        )
        var pixels = Data()
        for (frame, title) in zip(frames, titles) {
            script += try gridFrame(
                frame, columns: columns, levels: levels, masked: masked, title: title, panelSize: panelSize,
                pixels: &pixels)
        }
        return try render(script, to: url, binaryData: pixels)
    }

    // MARK: Script pieces

    /// Pixels above the grid for its title, and above each image for its own.
    private static let gridTitleHeight = 28, panelTitleHeight = 18

    private func gridSize(_ count: Int, _ columns: Int, _ panel: Int, _ title: String) -> String {
        let rows = (count + columns - 1) / max(columns, 1)
        let height = (panel + Self.panelTitleHeight) * rows + (title.isEmpty ? 4 : Self.gridTitleHeight)
        return "\(panel * min(columns, count)),\(height)"
    }

    /// One grid of images. The pixels go to `pixels` as little-endian float32
    /// (gnuplot reads them from a temporary file, `binary skip= array=`),
    /// which keeps large animations quick to write and to parse.
    private func gridFrame(
        _ panels: [ImagePanel], columns: Int, levels: Int, masked: Bool, title: String, panelSize: Int,
        pixels: inout Data
    ) throws -> String {
        let title = masked ? title + (title.isEmpty ? "" : "  ") + "(orange: [MASK])" : title
        guard !panels.isEmpty, columns > 0 else {
            throw PlotError.badInput("an image grid needs images and at least one column")
        }
        let rows = (panels.count + columns - 1) / columns
        let used = min(columns, panels.count)
        let width = Double(panelSize * used)
        let height = Double((panelSize + Self.panelTitleHeight) * rows + (title.isEmpty ? 4 : Self.gridTitleHeight))
        // Margins and spacing in screen units, leaving room for every title.
        let top = 1 - (Double(title.isEmpty ? 4 : Self.gridTitleHeight) + Double(Self.panelTitleHeight)) / height
        let spacingY = Double(Self.panelTitleHeight) / height, spacingX = 6 / width
        var script =
            "set multiplot layout \(rows),\(used) title \(quoted(title)) margins 0.01,0.99,0.005,\(top) spacing \(spacingX),\(spacingY)\n"
        script += "unset xtics; unset ytics; unset colorbox; unset xlabel; unset ylabel; set border 0\n"
        if masked {
            // Gray levels 0...levels - 1, then a jump to orange for [MASK] at `levels`.
            let top = max(levels - 1, 1)
            script +=
                "set palette defined (0 'black', \(top) 'white', \(Double(top) + 0.5) 'white', \(Double(top) + 0.5) '#f28e2b', \(top + 1) '#f28e2b')\n"
            script += "set cbrange [0:\(top + 1)]\nset size ratio -1\n"
        } else {
            script += "set palette gray; set cbrange [0:\(max(levels - 1, 1))]\nset size ratio -1\n"
        }
        for panel in panels {
            guard panel.pixels.rank == 2 else {
                throw PlotError.badInput("an image needs shape [H, W], got \(panel.pixels.shape)")
            }
            let (h, w) = (panel.pixels.shape[0], panel.pixels.shape[1])
            let offset = pixels.count
            for value in panel.pixels.scalars {
                withUnsafeBytes(of: value.bitPattern.littleEndian) { pixels.append(contentsOf: $0) }
            }
            script +=
                "set title \(quoted(panel.title)) offset 0,-0.6\nset xrange [-0.5:\(Double(w) - 0.5)]; set yrange [\(Double(h) - 0.5):-0.5]\n"
            script +=
                "plot '__DATA__' binary skip=\(offset) array=(\(w),\(h)) format='%float32' endian=little with image notitle\n"
        }
        return script + "unset multiplot\n"
    }

    private func header(terminal: String) -> String {
        "set terminal \(terminal)\nset output '__OUTPUT__'\n"
    }

    private func dataBlock(_ name: String, matrix: Tensor) -> String {
        let columns = matrix.shape[1]
        var text = "$\(name) << EOD\n"
        text.reserveCapacity(matrix.count * 8)
        for row in 0..<matrix.shape[0] {
            text += (0..<columns).map { String(format: "%.5g", matrix.scalars[row * columns + $0]) }.joined(
                separator: " ")
            text += "\n"
        }
        return text + "EOD\n"
    }

    private func quoted(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }

    /// Runs the script with its output sent to a file beside `url`, then
    /// renames it into place: the figure is complete or absent, never half-written.
    /// `binaryData`, when given, goes to a temporary file that the script names `__DATA__`.
    private func render(_ script: String, to url: URL, binaryData: Data = Data()) throws -> URL {
        let directory = url.deletingLastPathComponent()
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let partial = directory.appendingPathComponent(
            ".\(url.lastPathComponent).\(ProcessInfo.processInfo.processIdentifier).partial")
        let dataFile = FileManager.default.temporaryDirectory.appendingPathComponent(
            "d3pm-plot-\(UUID().uuidString).bin")
        defer {
            try? FileManager.default.removeItem(at: partial)
            try? FileManager.default.removeItem(at: dataFile)
        }
        var text = script.replacingOccurrences(
            of: "__OUTPUT__", with: partial.path.replacingOccurrences(of: "'", with: "''"))
        if !binaryData.isEmpty {
            try binaryData.write(to: dataFile)
            text = text.replacingOccurrences(
                of: "__DATA__", with: dataFile.path.replacingOccurrences(of: "'", with: "''"))
        }
        try gnuplot.run(script: text + "unset output\n")
        guard rename(partial.path, url.path) == 0 else {
            throw PlotError.badInput("could not move the figure into \(url.path): \(String(cString: strerror(errno)))")
        }
        return url
    }
}
