import Foundation

/// OTB-2015 / OTB-100 (Wu, Lim, Yang, "Object Tracking Benchmark", TPAMI 2015).
/// http://cvlab.hanyang.ac.kr/tracker_benchmark/
///
/// Layout: `<root>/<Seq>/img/0001.jpg …` and `groundtruth_rect.txt`, or for sequences with several
/// targets `groundtruth_rect.1.txt`, `groundtruth_rect.2.txt` (named `<Seq>_1`, `<Seq>_2`, as
/// pytracking does: `Jogging_1`, `Skating2_2`, `Human4_2`).
///
/// The ground truth starts at frame `startFrame` and has one row per frame up to `endFrame`. Most
/// sequences start at frame 1; the exceptions of the benchmark's sequence table are below
/// (`startFrames`). Tiger1 omits its first 5 frames and rows (`initOmit`), as pytracking does.
/// Attributes come from `<Seq>/attrs.txt` (comma-separated names) when present.
public enum OTBDataset {
    /// Sequences whose annotation starts after frame 1 (OTB-2015 sequence table).
    public static let startFrames: [String: Int] = ["David": 300, "BlurCar1": 247, "BlurCar3": 3, "BlurCar4": 18]
    /// Frames and rows skipped at the start (pytracking's `initOmit`).
    public static let initOmit: [String: Int] = ["Tiger1": 5]

    /// Loads every OTB sequence under `root` (or the named ones).
    /// - Throws: `DatasetError` naming a missing or malformed file.
    public static func load(root: String, names: [String]? = nil) throws -> [TrackingSequence] {
        var out: [TrackingSequence] = []
        for folder in try DatasetFiles.subdirectories(root) {
            let dir = DatasetFiles.join(root, folder)
            guard DatasetFiles.isDirectory(DatasetFiles.join(dir, "img")) else { continue }
            let files = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [])
                .filter { $0.hasPrefix("groundtruth_rect") && $0.hasSuffix(".txt") }.sorted(by: DatasetFiles.naturalLess)
            for f in files {
                let mid = f.dropFirst("groundtruth_rect".count).dropLast(".txt".count)   // "" or ".1"
                let name = mid.isEmpty ? folder : folder + "_" + mid.dropFirst()
                if let names, !names.contains(name) { continue }
                out.append(try loadSequence(dir: dir, folder: folder, name: name, annotation: DatasetFiles.join(dir, f)))
            }
        }
        if let names {
            for n in names where !out.contains(where: { $0.name == n }) {
                throw DatasetError(path: DatasetFiles.join(root, n), "OTB sequence not found")
            }
        }
        if out.isEmpty { throw DatasetError(path: root, "no OTB sequences (<Seq>/img/ + groundtruth_rect*.txt) found") }
        return out
    }

    static func loadSequence(dir: String, folder: String, name: String, annotation: String) throws -> TrackingSequence {
        let frames = try DatasetFiles.frames(in: DatasetFiles.join(dir, "img"))
        let gt = try AnnotationReader.readBoxes(annotation)
        let start = startFrames[folder] ?? 1, omit = initOmit[folder] ?? 0
        let end = start + gt.count - 1
        guard end <= frames.count, gt.count > omit else {
            throw DatasetError(path: annotation, "\(gt.count) rows starting at frame \(start) but only \(frames.count) frames in \(dir)/img")
        }
        var s = TrackingSequence(name: name, framePaths: Array(frames[(start - 1 + omit)..<end]),
                                 groundTruth: Array(gt[omit...]))
        let attrs = DatasetFiles.join(dir, "attrs.txt")
        if DatasetFiles.isFile(attrs) {
            s.attributes = try AnnotationReader.readText(attrs)
                .split(whereSeparator: { ", \n\r\t".contains($0) }).map(String.init)
        }
        return s
    }
}
