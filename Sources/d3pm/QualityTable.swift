import Foundation
import Plotting

/// One (guidance, jumps) pair measured by `d3pm eval --classifier`: a row of quality.csv.
struct QualityMeasurement: Equatable {
    var guidance: Float
    var steps: Int
    var samples: Int
    var accuracy: Double
    var frechetDistance: Double
    var floorSameSize: Double
    var floorFull: Double
    var seconds: Double
    /// The checkpoint's absolute path (last, so that a comma in it cannot shift the other columns).
    var checkpoint: String

    static let header =
        "guidance,steps,samples,conditional_accuracy,frechet_distance,floor_same_size,floor_full,seconds,checkpoint"

    var csvRow: String {
        String(
            format: "%g,%d,%d,%.4f,%.4f,%.4f,%.4f,%.1f,", guidance, steps, samples, accuracy, frechetDistance,
            floorSameSize, floorFull, seconds) + checkpoint
    }

    /// Reads a row written by ``csvRow``; nil for anything else.
    init?(csvRow: Substring) {
        let fields = csvRow.split(separator: ",", maxSplits: 8, omittingEmptySubsequences: false)
        guard fields.count == 9, let guidance = Float(fields[0]), let steps = Int(fields[1]),
            let samples = Int(fields[2]), let accuracy = Double(fields[3]), let distance = Double(fields[4]),
            let floorSameSize = Double(fields[5]), let floorFull = Double(fields[6]), let seconds = Double(fields[7])
        else { return nil }
        self.init(
            guidance: guidance, steps: steps, samples: samples, accuracy: accuracy, frechetDistance: distance,
            floorSameSize: floorSameSize, floorFull: floorFull, seconds: seconds, checkpoint: String(fields[8]))
    }

    init(
        guidance: Float, steps: Int, samples: Int, accuracy: Double, frechetDistance: Double, floorSameSize: Double,
        floorFull: Double, seconds: Double, checkpoint: String
    ) {
        self.guidance = guidance
        self.steps = steps
        self.samples = samples
        self.accuracy = accuracy
        self.frechetDistance = frechetDistance
        self.floorSameSize = floorSameSize
        self.floorFull = floorFull
        self.seconds = seconds
        self.checkpoint = checkpoint
    }

    /// Whether `other` measured the same thing: same checkpoint, sample count, weight and jumps.
    func measuresTheSame(as other: QualityMeasurement) -> Bool {
        checkpoint == other.checkpoint && samples == other.samples && guidance == other.guidance
            && steps == other.steps
    }
}

/// quality.csv in an eval folder: measurements of one checkpoint at one
/// sample count accumulate over runs (a pair measured again replaces its
/// row), so that `--steps 200 --guidance 0,1` after `--steps 20 --guidance
/// 0,0.5,1,2,4` plots both.
enum QualityTable {
    /// The rows already in `url` for the same checkpoint and sample count,
    /// except those measured again, followed by `new`.
    static func merging(_ new: [QualityMeasurement], into url: URL) -> [QualityMeasurement] {
        guard let first = new.first, let text = try? String(contentsOf: url, encoding: .utf8) else { return new }
        let lines = text.split(separator: "\n")
        guard lines.first.map(String.init) == QualityMeasurement.header else { return new }
        let kept = lines.dropFirst().compactMap(QualityMeasurement.init(csvRow:)).filter { old in
            old.checkpoint == first.checkpoint && old.samples == first.samples
                && !new.contains { $0.measuresTheSame(as: old) }
        }
        return kept + new
    }

    /// Writes `rows` to `url` atomically.
    static func write(_ rows: [QualityMeasurement], to url: URL) throws {
        let text = ([QualityMeasurement.header] + rows.map(\.csvRow)).joined(separator: "\n") + "\n"
        try Data(text.utf8).write(to: url, options: .atomic)
    }

    /// Accuracy and distance against w (one curve per S) and against S (one
    /// curve per w), for each axis with more than one value; the files written.
    static func plot(_ rows: [QualityMeasurement], in folder: URL) throws -> [URL] {
        guard let first = rows.first else { return [] }
        let weights = Array(Set(rows.map { Double($0.guidance) })).sorted()
        let jumps = Array(Set(rows.map { Double($0.steps) })).sorted()
        let renderer = try FigureRenderer()
        var written: [URL] = []
        for againstGuidance in [true, false] {
            let values = againstGuidance ? weights : jumps, others = againstGuidance ? jumps : weights
            guard values.count > 1 else { continue }
            func x(_ row: QualityMeasurement) -> Double { againstGuidance ? Double(row.guidance) : Double(row.steps) }
            func fixed(_ row: QualityMeasurement) -> Double {
                againstGuidance ? Double(row.steps) : Double(row.guidance)
            }
            func series(_ measure: (QualityMeasurement) -> Double) -> [LineSeries] {
                others.compactMap { other in
                    let chosen = rows.filter { fixed($0) == other }.sorted { x($0) < x($1) }
                    guard !chosen.isEmpty else { return nil }
                    return LineSeries(
                        String(format: againstGuidance ? "S = %g" : "w = %g", other), x: chosen.map(x),
                        y: chosen.map(measure), markers: true)
                }
            }
            let name = againstGuidance ? "guidance" : "steps"
            let label = againstGuidance ? "guidance weight w" : "jumps S"
            let lowest = rows.map { $0.accuracy * 100 }.min() ?? 0
            written.append(
                try renderer.lines(
                    series { $0.accuracy * 100 }, title: "Conditional accuracy of \(first.samples) samples",
                    xLabel: label, yLabel: "% classified as their label",
                    yRange: (max((lowest / 5).rounded(.down) * 5 - 5, 0))...100.5, legend: "outside right top",
                    to: folder.appendingPathComponent("accuracy-vs-\(name).png"), width: 800))
            let floor = LineSeries(
                "real vs real", x: [values.first!, values.last!],
                y: [first.floorSameSize, first.floorSameSize], dashed: true)
            written.append(
                try renderer.lines(
                    series(\.frechetDistance) + [floor], title: "Fréchet distance to the test set", xLabel: label,
                    yLabel: "distance (classifier features)", legend: "outside right top",
                    to: folder.appendingPathComponent("distance-vs-\(name).png"), width: 800))
        }
        return written
    }
}
