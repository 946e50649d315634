/// GOT-10k (Huang et al., "GOT-10k: A Large High-Diversity Benchmark for Generic Object Tracking in
/// the Wild", TPAMI 2019). http://got-10k.aitestunion.com/
///
/// Layout: `<root>/list.txt` (or one folder per sequence), `<root>/<name>/00000001.jpg …`,
/// `groundtruth.txt` (the test split has only the first line), `absence.label` (1 = absent),
/// `cover.label` (0…8, 0 = absent), `meta_info.ini` (`resolution: (W, H)`, `object_class: …`).
/// `root` is the split folder (`…/val` or `…/test`).
public enum GOT10kDataset {
    /// Loads a GOT-10k split.
    /// - Parameter names: restrict to these sequences; nil = `list.txt` or every folder.
    /// - Throws: `DatasetError` naming a missing or malformed file or line.
    public static func load(root: String, names: [String]? = nil) throws -> [TrackingSequence] {
        guard DatasetFiles.isDirectory(root) else { throw DatasetError(path: root, "dataset root not found") }
        let listPath = DatasetFiles.join(root, "list.txt")
        let list: [String]
        if let names { list = names }
        else if DatasetFiles.isFile(listPath) { list = try AnnotationReader.readNames(listPath) }
        else { list = try DatasetFiles.subdirectories(root) }
        if list.isEmpty { throw DatasetError(path: root, "no GOT-10k sequences found") }
        return try list.map { try loadSequence(at: DatasetFiles.join(root, $0)) }
    }

    static func loadSequence(at dir: String) throws -> TrackingSequence {
        guard DatasetFiles.isDirectory(dir) else { throw DatasetError(path: dir, "sequence folder not found") }
        let frames = try DatasetFiles.frames(in: dir)
        guard !frames.isEmpty else { throw DatasetError(path: dir, "no frames") }
        let gtPath = DatasetFiles.join(dir, "groundtruth.txt")
        let gt = try AnnotationReader.readBoxes(gtPath)
        // The test split ships the first box only; anything else must match the frames.
        guard gt.count == frames.count || gt.count == 1 else {
            throw DatasetError(path: gtPath, "\(gt.count) box line(s) but \(frames.count) frame(s)")
        }
        guard gt.first != nil, gt[0] != nil else { throw DatasetError(path: gtPath, line: 1, "the first frame must have a box") }
        var s = TrackingSequence(name: (dir).pathLastComponent, framePaths: frames, groundTruth: gt)
        let coverPath = DatasetFiles.join(dir, "cover.label"), absencePath = DatasetFiles.join(dir, "absence.label")
        if DatasetFiles.isFile(coverPath) {
            let c = try AnnotationReader.readIntegers(coverPath)
            guard c.count == frames.count else { throw DatasetError(path: coverPath, "\(c.count) labels but \(frames.count) frames") }
            s.cover = c
            s.absent = c.map { $0 == 0 }
        }
        if DatasetFiles.isFile(absencePath) {
            let a = try AnnotationReader.readFlags(absencePath)
            guard a.count == frames.count else { throw DatasetError(path: absencePath, "\(a.count) labels but \(frames.count) frames") }
            s.absent = a
            if s.cover == nil { s.cover = a.map { $0 ? 0 : 1 } }
        }
        let metaPath = DatasetFiles.join(dir, "meta_info.ini")
        if DatasetFiles.isFile(metaPath) {
            for (i, line) in AnnotationReader.lines(try AnnotationReader.readText(metaPath)).enumerated() {
                let parts = line.split(separator: ":", maxSplits: 1)
                guard parts.count == 2 else { continue }
                let key = parts[0].trimmingCharacters(in: .whitespaces), value = parts[1].trimmingCharacters(in: .whitespaces)
                if key == "resolution" {
                    let nums = value.split(whereSeparator: { "(), ".contains($0) }).compactMap { Double($0) }
                    guard nums.count == 2 else { throw DatasetError(path: metaPath, line: i + 1, "resolution '\(value)' is not (W, H)") }
                    s.imageSize = ImageSize(width: nums[0], height: nums[1])
                } else if key == "object_class" {
                    s.objectClass = value
                }
            }
        }
        return s
    }
}

import ETCore
import Foundation
