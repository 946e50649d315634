import ETCore
import Foundation

/// How strictly a sequence's ground truth must match its frames.
public enum GroundTruthPolicy: Sendable, Equatable {
    /// One box per frame, exactly (evaluation). The default.
    case required
    /// The ground truth may cover only the first frames (at least one: the initial box). Useful
    /// to run a tracker on a clip annotated only on its first frame. Longer files still fail.
    case prefix
    /// Frames only; `groundTruth.txt` is neither required nor read.
    case ignored
}

/// Our plain folder layout, one folder per sequence:
///
/// ```
/// <root>/<name>/img/00000001.jpg ...   frames, sorted by name (natural order)
/// <root>/<name>/groundtruth.txt        one "x,y,w,h" line per frame (commas, tabs or spaces);
///                                      "NaN,NaN,NaN,NaN" where the target is absent
/// <root>/<name>/absent.txt             optional: one 0/1 per frame, 1 = target absent
/// ```
///
/// Scored like OTB (`otb` tag): frames with NaN rows or a 1 in `absent.txt` are invalid frames.
public enum FolderDataset {
    /// Loads one sequence folder.
    ///
    /// - Parameters:
    ///   - dir: the sequence folder (its last path component is the sequence name).
    ///   - groundTruth: how the annotation must match the frames (`.required` by default).
    /// - Returns: the sequence, frames in natural name order.
    /// - Throws: `DatasetError` naming the path (and line) when the folder or `img/` is missing,
    ///   `img/` holds no images, an annotation line does not parse, or the annotation / `absent.txt`
    ///   length differs from the number of frames.
    ///   - allowNumberingGaps: accept frame names whose numbers skip (by default a gap means a
    ///     frame is missing, which would shift every later frame against its annotation or time).
    public static func loadSequence(at dir: String, groundTruth policy: GroundTruthPolicy = .required,
                                    allowNumberingGaps: Bool = false) throws -> TrackingSequence {
        let dir = dir.count > 1 && dir.hasSuffix("/") ? String(dir.dropLast()) : dir
        guard DatasetFiles.isDirectory(dir) else {
            throw DatasetError(path: dir, "sequence folder not found")
        }
        let imgDir = DatasetFiles.join(dir, "img")
        guard DatasetFiles.isDirectory(imgDir) else {
            throw DatasetError(path: imgDir, "no img/ folder (expected <sequence>/img/ with one image per frame)")
        }
        let frames = try DatasetFiles.frames(in: imgDir)
        guard !frames.isEmpty else {
            throw DatasetError(path: imgDir, "no .jpg/.jpeg/.png/.bmp frames")
        }
        if !allowNumberingGaps, let gap = numberingGap(frames) {
            throw DatasetError(path: imgDir, "frame \(gap.missing) is missing (the frames are numbered \(gap.first)…\(gap.last) in steps of \(gap.step)); restore it, or pass --allow-frame-gaps if the numbering is meant to skip")
        }
        let name = URL(fileURLWithPath: dir).lastPathComponent

        var boxes: [BoundingBox?] = []
        let gtPath = DatasetFiles.join(dir, "groundtruth.txt")
        if policy != .ignored {
            boxes = try AnnotationReader.readBoxes(gtPath)
            if boxes.isEmpty { throw DatasetError(path: gtPath, "empty ground truth") }
            if boxes.count > frames.count || (policy == .required && boxes.count < frames.count) {
                throw DatasetError(path: gtPath, "\(boxes.count) box line(s) but \(frames.count) frame(s) in \(imgDir)")
            }
            if boxes[0] == nil {
                throw DatasetError(path: gtPath, line: 1, "the first frame must have a box (a tracker is initialised on it)")
            }
        }

        var absent: [Bool]? = nil
        let absentPath = DatasetFiles.join(dir, "absent.txt")
        if DatasetFiles.isFile(absentPath) {
            let flags = try AnnotationReader.readFlags(absentPath)
            guard flags.count == frames.count else {
                throw DatasetError(path: absentPath, "\(flags.count) flag(s) but \(frames.count) frame(s) in \(imgDir)")
            }
            absent = flags
        }
        return TrackingSequence(name: name, framePaths: frames, groundTruth: boxes, absent: absent)
    }

    /// The first number missing from frame names that are all `<prefix><digits>.<ext>` with one
    /// prefix, numbered in a constant step (1 in benchmarks; larger when every k-th frame was kept).
    /// nil when the names carry no such numbering or it has no gap.
    static func numberingGap(_ frames: [String]) -> (missing: String, first: String, last: String, step: Int)? {
        guard frames.count >= 3 else { return nil }
        var prefix: Substring?, numbers: [Int] = [], width = 0, ext = ""
        for path in frames {
            let file = (path).pathLastComponent
            let base = (file).pathDeletingExtension
            let digits = base.reversed().prefix(while: { $0.isASCII && $0.isNumber })
            guard !digits.isEmpty, digits.count <= 18, let n = Int(String(digits.reversed())) else { return nil }
            let p = base.dropLast(digits.count)
            // One prefix and one extension: the numbering of one camera's frames.
            if prefix == nil { prefix = p; width = digits.count; ext = (file).pathExtensionName } else if prefix != p || (file).pathExtensionName != ext { return nil }
            numbers.append(n)
        }
        numbers.sort()
        let steps = zip(numbers.dropFirst(), numbers).map { $0 - $1 }
        guard let step = steps.min(), step > 0 else { return nil }
        guard let k = steps.firstIndex(where: { $0 != step }) else { return nil }
        func name(_ n: Int) -> String {
            let d = String(n)
            return (prefix ?? "") + String(repeating: "0", count: max(0, width - d.count)) + d + (ext.isEmpty ? "" : "." + ext)
        }
        return (name(numbers[k] + step), name(numbers[0]), name(numbers[numbers.count - 1]), step)
    }

    /// Loads every sequence folder under `root` (folders that contain `img/`), in natural order;
    /// a `root` that is itself a sequence folder is that one sequence.
    /// - Throws: `DatasetError` when `root` is missing, holds no sequence, or one sequence is malformed.
    public static func loadAll(root: String, names: [String]? = nil, groundTruth policy: GroundTruthPolicy = .required) throws -> [TrackingSequence] {
        let dirs: [String]
        if let names {
            dirs = names.map { DatasetFiles.join(root, $0) }
        } else if DatasetFiles.isDirectory(DatasetFiles.join(root, "img")) {
            dirs = [root]
        } else {
            dirs = try DatasetFiles.subdirectories(root).map { DatasetFiles.join(root, $0) }
                .filter { DatasetFiles.isDirectory(DatasetFiles.join($0, "img")) }
            if dirs.isEmpty { throw DatasetError(path: root, "no sequence folders (<name>/img/) found") }
        }
        return try dirs.map { try loadSequence(at: $0, groundTruth: policy) }
    }
}
