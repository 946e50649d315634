import ETCore
import Foundation

/// LaSOT and LaSOT_ext (Fan et al., "LaSOT: A High-quality Benchmark for Large-scale Single Object
/// Tracking", CVPR 2019; extension: IJCV 2021). http://vision.cs.stonybrook.edu/~lasot/
///
/// Layout: `<root>/<class>/<class>-<n>/img/00000001.jpg`, `groundtruth.txt`, `full_occlusion.txt`,
/// `out_of_view.txt` (flags on one comma-separated line), `nlp.txt`. A flat layout with the
/// sequence folders directly under `<root>` is accepted too.
///
/// The target is visible where `full_occlusion == 0 && out_of_view == 0` (pytracking).
/// The test split: `<root>/testing_set.txt` (the list the LaSOT toolkit ships, 280 names) when it
/// exists; otherwise every sequence found. LaSOT_ext uses every sequence (150).
/// Attributes: `<root>/att/<name>.txt` (the toolkit's 14 flags) when present.
public enum LaSOTDataset {
    /// The LaSOT toolkit's attribute order in `att/<name>.txt`.
    public static let attributeNames = ["IV", "POC", "DEF", "MB", "CM", "ROT", "BC", "VC", "SV", "FOC", "FM", "OV", "LR", "ARC"]

    /// Loads the sequences of a LaSOT or LaSOT_ext root.
    /// - Parameters:
    ///   - root: the dataset root (class folders or sequence folders).
    ///   - names: restrict to these sequence names (e.g. `airplane-1`); nil = the split.
    ///   - useTestList: read `testing_set.txt` when present (LaSOT); false for LaSOT_ext.
    /// - Throws: `DatasetError` with the path (and line) of a missing or malformed file.
    public static func load(root: String, names: [String]? = nil, useTestList: Bool = true) throws -> [TrackingSequence] {
        guard DatasetFiles.isDirectory(root) else { throw DatasetError(path: root, "dataset root not found") }
        var wanted = names
        let listPath = DatasetFiles.join(root, "testing_set.txt")
        if wanted == nil, useTestList, DatasetFiles.isFile(listPath) { wanted = try AnnotationReader.readNames(listPath) }
        let dirs: [String]
        if let wanted {
            dirs = try wanted.map { try sequenceDir(root: root, name: $0) }
        } else {
            var found: [String] = []
            for d in try DatasetFiles.subdirectories(root) {
                let p = DatasetFiles.join(root, d)
                if DatasetFiles.isDirectory(DatasetFiles.join(p, "img")) { found.append(p); continue }
                for s in try DatasetFiles.subdirectories(p) where DatasetFiles.isDirectory(DatasetFiles.join(DatasetFiles.join(p, s), "img")) {
                    found.append(DatasetFiles.join(p, s))
                }
            }
            if found.isEmpty { throw DatasetError(path: root, "no LaSOT sequences (<class>/<class>-<n>/img/) found") }
            dirs = found.sorted { DatasetFiles.naturalLess(($0).pathLastComponent, ($1).pathLastComponent) }
        }
        return try dirs.map { try loadSequence(at: $0, root: root) }
    }

    /// `<root>/<class>/<name>` (class = name up to the last '-'), or `<root>/<name>`.
    static func sequenceDir(root: String, name: String) throws -> String {
        let cls = name.split(separator: "-").dropLast().joined(separator: "-")
        let nested = DatasetFiles.join(DatasetFiles.join(root, cls), name)
        if !cls.isEmpty, DatasetFiles.isDirectory(nested) { return nested }
        let flat = DatasetFiles.join(root, name)
        if DatasetFiles.isDirectory(flat) { return flat }
        throw DatasetError(path: nested, "sequence folder not found")
    }

    static func loadSequence(at dir: String, root: String) throws -> TrackingSequence {
        var s = try FolderDataset.loadSequence(at: dir)
        let n = s.count
        let occ = try flags(DatasetFiles.join(dir, "full_occlusion.txt"), count: n)
        let oov = try flags(DatasetFiles.join(dir, "out_of_view.txt"), count: n)
        s.absent = zip(occ, oov).map { $0 || $1 }
        s.objectClass = s.name.split(separator: "-").dropLast().joined(separator: "-")
        let att = DatasetFiles.join(DatasetFiles.join(root, "att"), s.name + ".txt")
        if DatasetFiles.isFile(att) {
            let v = try AnnotationReader.readIntegers(att)
            guard v.count == attributeNames.count else {
                throw DatasetError(path: att, "\(v.count) attribute flags, expected \(attributeNames.count)")
            }
            s.attributes = zip(attributeNames, v).filter { $0.1 != 0 }.map { $0.0 }
        }
        return s
    }

    static func flags(_ path: String, count: Int) throws -> [Bool] {
        let f = try AnnotationReader.readFlags(path)
        guard f.count == count else { throw DatasetError(path: path, "\(f.count) flags but \(count) frames") }
        return f
    }
}
