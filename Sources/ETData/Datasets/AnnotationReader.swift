import Foundation

/// Reads the small text files benchmarks ship: box lists, per-frame flags, name lists.
///
/// Every error names the file and the 1-based line, so a user can open the file and fix it.
public enum AnnotationReader {
    /// Reads a whole text file; a missing or unreadable file is a `DatasetError` naming the path.
    public static func readText(_ path: String) throws -> String {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir), !isDir.boolValue else {
            throw DatasetError(path: path, "file not found")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DatasetError(path: path, "cannot read file")
        }
        if let s = String(data: data, encoding: .utf8) { return s }
        if let s = String(data: data, encoding: .isoLatin1) { return s }
        throw DatasetError(path: path, "file is not text")
    }

    /// The lines of `text` without line terminators (`\n`, `\r\n` or `\r`), trailing blank lines dropped.
    public static func lines(_ text: String) -> [Substring] {
        var out = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" })
        while let last = out.last, last.allSatisfy({ $0 == " " || $0 == "\t" }) { out.removeLast() }
        return out
    }

    /// Splits one line into fields at commas, tabs, semicolons or spaces (several in a row count once).
    public static func fields(_ line: Substring) -> [Substring] {
        line.split(whereSeparator: { $0 == "," || $0 == "\t" || $0 == " " || $0 == ";" })
    }

    /// Parses a number the way numpy's `loadtxt` does (`nan`, `NaN`, `inf`, exponents).
    public static func number(_ field: Substring) -> Double? {
        let t = field.trimmingCharacters(in: .whitespaces)
        if let v = Double(t) { return v }
        switch t.lowercased() {
        case "nan", "+nan", "-nan": return .nan
        case "inf", "+inf", "infinity": return .infinity
        case "-inf", "-infinity": return -.infinity
        default: return nil
        }
    }

    /// Reads one `x,y,w,h` box per line. A row with any NaN value becomes `nil` (absent target).
    ///
    /// - Parameter path: the annotation file (`groundtruth.txt`, `groundtruth_rect.txt`, `*.txt` results).
    /// - Returns: one entry per non-blank line.
    /// - Throws: `DatasetError` with the line number for a row that is not four numbers or for a
    ///   blank line in the middle of the file.
    public static func readBoxes(_ path: String) throws -> [BoundingBox?] {
        try parseBoxes(readText(path), path: path)
    }

    /// `readBoxes` on text already in memory (`path` is used in error messages only).
    public static func parseBoxes(_ text: String, path: String) throws -> [BoundingBox?] {
        var boxes: [BoundingBox?] = []
        for (i, line) in lines(text).enumerated() {
            let f = fields(line)
            if f.isEmpty { throw DatasetError(path: path, line: i + 1, "blank line inside the box list") }
            guard f.count == 4 else {
                throw DatasetError(path: path, line: i + 1, "expected 4 numbers x,y,w,h, found \(f.count) field(s): '\(line.prefix(80))'")
            }
            var v = [Double](repeating: 0, count: 4)
            for k in 0..<4 {
                guard let d = number(f[k]) else {
                    throw DatasetError(path: path, line: i + 1, "'\(f[k])' is not a number")
                }
                v[k] = d
            }
            if v.contains(where: { $0.isNaN }) { boxes.append(nil); continue }
            boxes.append(BoundingBox(x: v[0], y: v[1], width: v[2], height: v[3]))
        }
        return boxes
    }

    /// Reads integer flags: one per line (GOT-10k `absence.label`, `absent.txt`) or comma-separated
    /// on one line (LaSOT `full_occlusion.txt`, `out_of_view.txt`). Values like `1.0` are accepted.
    /// - Throws: `DatasetError` with the line number of a value that is not an integer.
    public static func readIntegers(_ path: String) throws -> [Int] {
        try parseIntegers(readText(path), path: path)
    }

    /// `readIntegers` on text already in memory (`path` is used in error messages only).
    public static func parseIntegers(_ text: String, path: String) throws -> [Int] {
        var out: [Int] = []
        for (i, line) in lines(text).enumerated() {
            for f in fields(line) {
                if let v = Int(f) { out.append(v); continue }
                if let d = Double(f), d == d.rounded(), abs(d) < 1e9 { out.append(Int(d)); continue }
                throw DatasetError(path: path, line: i + 1, "'\(f)' is not an integer flag")
            }
        }
        return out
    }

    /// Reads 0/1 flags (`readIntegers`, then checks every value is 0 or 1).
    public static func readFlags(_ path: String) throws -> [Bool] {
        let values = try readIntegers(path)
        if let bad = values.firstIndex(where: { $0 != 0 && $0 != 1 }) {
            throw DatasetError(path: path, "value \(values[bad]) at position \(bad + 1) is not 0 or 1")
        }
        return values.map { $0 == 1 }
    }

    /// Reads a list of names, one per line, ignoring blank lines and `#` comments.
    public static func readNames(_ path: String) throws -> [String] {
        lines(try readText(path)).map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty && !$0.hasPrefix("#") }
    }
}

/// File-system helpers shared by the dataset readers.
public enum DatasetFiles {
    public static func isDirectory(_ path: String) -> Bool {
        var isDir: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDir) && isDir.boolValue
    }

    public static func isFile(_ path: String) -> Bool {
        var isDir: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDir) && !isDir.boolValue
    }

    public static func join(_ a: String, _ b: String) -> String {
        a.hasSuffix("/") ? a + b : a + "/" + b
    }

    /// Sub-folders of `dir` (not hidden), in natural name order.
    public static func subdirectories(_ dir: String) throws -> [String] {
        guard isDirectory(dir) else { throw DatasetError(path: dir, "folder not found") }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        return names.filter { !$0.hasPrefix(".") && isDirectory(join(dir, $0)) }.sorted(by: naturalLess)
    }

    static let imageExtensions: Set<String> = ["jpg", "jpeg", "png", "bmp"]

    /// Image files directly inside `dir`, in natural name order (`2.jpg` before `10.jpg`;
    /// zero-padded names keep their plain lexicographic order).
    public static func frames(in dir: String) throws -> [String] {
        guard isDirectory(dir) else { throw DatasetError(path: dir, "frame folder not found") }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        return names.filter { name in
            guard !name.hasPrefix("."), let dot = name.lastIndex(of: ".") else { return false }
            return imageExtensions.contains(name[name.index(after: dot)...].lowercased())
        }.sorted(by: naturalLess).map { join(dir, $0) }
    }

    /// Natural order: digit runs compare as numbers, everything else byte-wise.
    public static func naturalLess(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        var i = 0, j = 0
        func isDigit(_ c: UInt8) -> Bool { c >= 48 && c <= 57 }
        while i < x.count && j < y.count {
            if isDigit(x[i]) && isDigit(y[j]) {
                var i2 = i, j2 = j
                while i2 < x.count && isDigit(x[i2]) { i2 += 1 }
                while j2 < y.count && isDigit(y[j2]) { j2 += 1 }
                // Compare without leading zeros: longer run is bigger, then digit by digit.
                var si = i, sj = j
                while si < i2 - 1 && x[si] == 48 { si += 1 }
                while sj < j2 - 1 && y[sj] == 48 { sj += 1 }
                if i2 - si != j2 - sj { return i2 - si < j2 - sj }
                for k in 0..<(i2 - si) where x[si + k] != y[sj + k] { return x[si + k] < y[sj + k] }
                if i2 - i != j2 - j { return i2 - i < j2 - j }   // "01" before "001"? shorter first
                i = i2; j = j2
            } else {
                if x[i] != y[j] { return x[i] < y[j] }
                i += 1; j += 1
            }
        }
        return x.count - i < y.count - j
    }
}
