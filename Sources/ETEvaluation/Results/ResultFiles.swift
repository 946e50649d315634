import ETData
import Foundation
import ETCore
import ETTracking

/// Reading and writing tracker result files in the layouts the reference toolkits use.
///
/// pytracking layout (what `etrack eval run` writes): `<dir>/<seq>.txt`, one `x,y,w,h` line per
/// frame (frame 0 = the initial box), and `<dir>/<seq>_time.txt`, one time in seconds per frame.
/// Several runs of a stochastic tracker go to several directories.
///
/// GOT-10k toolkit layout (read): `<dir>/<seq>/<seq>_001.txt` (one file per repetition),
/// `<dir>/<seq>/<seq>_time.txt`.
public enum ResultFiles {
    /// Writes `text` to `path` atomically: a temporary file in the same folder, then `rename(2)`.
    /// A reader (or a resumed run) sees either no file or the whole file, never half of one.
    /// - Throws: `EvaluationError` naming the path when the folder is not writable.
    public static func writeAtomically(_ text: String, to path: String) throws {
        let dir = (path).pathDeletingLastComponent
        if !dir.isEmpty { try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
        do { try AtomicFile.write(text, to: path) } catch { throw EvaluationError("\(error)") }
    }

    /// The text of a box file: one `x,y,w,h` per line, shortest round-trip decimals.
    public static func boxText(_ boxes: [BoundingBox]) -> String {
        var s = ""
        s.reserveCapacity(boxes.count * 24)
        for b in boxes { s += b.description; s += "\n" }
        return s
    }

    /// The text of a time file: seconds per frame, 9 decimals (pytracking reads any decimal).
    public static func timeText(_ times: [Double]) -> String {
        times.map { String(format: "%.9f", $0) }.joined(separator: "\n") + "\n"  // ns resolution: fast trackers never write 0
    }

    /// Reads a result file (commas, tabs or spaces) as raw rows; NaN values are kept so the
    /// metrics can reject them with the frame number.
    /// - Throws: `DatasetError` with the path and line of a malformed row.
    public static func readBoxes(_ path: String) throws -> [Box4] {
        try parseBoxes(AnnotationReader.readText(path), path: path)
    }

    /// `readBoxes` on text already in memory (`path` is used in error messages only).
    public static func parseBoxes(_ text: String, path: String) throws -> [Box4] {
        var rows: [Box4] = []
        for (i, line) in AnnotationReader.lines(text).enumerated() {
            let f = AnnotationReader.fields(line)
            guard f.count == 4 else { throw DatasetError(path: path, line: i + 1, "expected 4 numbers x,y,w,h, found \(f.count) field(s)") }
            var v = [Double](repeating: 0, count: 4)
            for k in 0..<4 {
                guard let d = AnnotationReader.number(f[k]) else { throw DatasetError(path: path, line: i + 1, "'\(f[k])' is not a number") }
                v[k] = d
            }
            rows.append(Box4(v[0], v[1], v[2], v[3]))
        }
        return rows
    }

    /// Reads per-frame times (one number per line or separated by commas/tabs).
    public static func readTimes(_ path: String) throws -> [Double] {
        try parseTimes(AnnotationReader.readText(path), path: path)
    }

    /// `readTimes` on text already in memory.
    public static func parseTimes(_ text: String, path: String) throws -> [Double] {
        var out: [Double] = []
        for (i, line) in AnnotationReader.lines(text).enumerated() {
            for f in AnnotationReader.fields(line) {
                guard let d = AnnotationReader.number(f) else { throw DatasetError(path: path, line: i + 1, "'\(f)' is not a number") }
                out.append(d)
            }
        }
        return out
    }

    /// The result files of one sequence in `dir`: pytracking's `<seq>.txt` when present, otherwise
    /// the GOT-10k toolkit's `<seq>/<seq>_NNN.txt` repetitions (sorted). Empty when none exist.
    public static func runFiles(dir: String, sequence: String) -> [String] {
        let flat = DatasetFiles.join(dir, sequence + ".txt")
        if DatasetFiles.isFile(flat) { return [flat] }
        let sub = DatasetFiles.join(dir, sequence)
        guard DatasetFiles.isDirectory(sub) else { return [] }
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: sub)) ?? []).filter { n in
            guard n.hasPrefix(sequence + "_"), n.hasSuffix(".txt") else { return false }
            let mid = n.dropFirst(sequence.count + 1).dropLast(4)
            return !mid.isEmpty && mid.allSatisfy(\.isNumber)
        }
        return names.sorted().map { DatasetFiles.join(sub, $0) }
    }

    /// The time file of a sequence in either layout, if any.
    public static func timeFile(dir: String, sequence: String) -> String? {
        for p in [DatasetFiles.join(dir, sequence + "_time.txt"), DatasetFiles.join(DatasetFiles.join(dir, sequence), sequence + "_time.txt")]
        where DatasetFiles.isFile(p) { return p }
        return nil
    }

    /// Number of non-blank lines of a file (0 when it cannot be read).
    static func lineCount(_ path: String) -> Int {
        (try? AnnotationReader.lines(AnnotationReader.readText(path)).count) ?? 0
    }
}
