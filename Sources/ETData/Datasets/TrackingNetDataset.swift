import ETCore
import Foundation

/// TrackingNet (Müller et al., "TrackingNet: A Large-Scale Dataset and Benchmark for Object
/// Tracking in the Wild", ECCV 2018). https://tracking-net.org
///
/// Layout, as the download script unpacks it (and as pytracking's and OSTrack's loaders read it):
/// ```
/// <root>/TRAIN_0/anno/<name>.txt        one "x,y,w,h" line per frame (commas)
/// <root>/TRAIN_0/frames/<name>/0.jpg …  frames numbered from 0
/// …
/// <root>/TRAIN_11/…
/// ```
/// There are no visibility labels: a frame is visible where its box has an area.
public enum TrackingNetDataset {
    /// The chunk folders under `root`: every `TRAIN_<n>` present, in numeric order; a `root` that
    /// is itself a chunk (it holds `anno/` and `frames/`) is that chunk alone.
    public static func chunks(root: String) throws -> [String] {
        guard DatasetFiles.isDirectory(root) else { throw DatasetError(path: root, "dataset root not found") }
        if isChunk(root) { return [root] }
        let dirs = try DatasetFiles.subdirectories(root).filter { $0.hasPrefix("TRAIN_") && Int($0.dropFirst(6)) != nil }
        let chunks = dirs.map { DatasetFiles.join(root, $0) }.filter(isChunk)
        if chunks.isEmpty {
            throw DatasetError(path: root, "no TrackingNet chunk here (expected TRAIN_0 … TRAIN_11, each with anno/ and frames/, or one such chunk)")
        }
        return chunks
    }

    static func isChunk(_ dir: String) -> Bool {
        DatasetFiles.isDirectory(DatasetFiles.join(dir, "anno")) && DatasetFiles.isDirectory(DatasetFiles.join(dir, "frames"))
    }

    /// Loads every sequence of every chunk (sequences are listed by `anno/*.txt`).
    /// - Throws: `DatasetError` naming the annotation or frame folder at fault: a missing frame
    ///   folder, frames not numbered 0…N-1, or an annotation whose length differs from the frames.
    public static func load(root: String) throws -> [TrackingSequence] {
        var out: [TrackingSequence] = []
        for chunk in try chunks(root: root) {
            let annoDir = DatasetFiles.join(chunk, "anno")
            let names = ((try? FileManager.default.contentsOfDirectory(atPath: annoDir)) ?? [])
                .filter { $0.hasSuffix(".txt") && !$0.hasPrefix(".") }.sorted(by: DatasetFiles.naturalLess)
            for file in names {
                out.append(try loadSequence(chunk: chunk, name: String(file.dropLast(4))))
            }
        }
        if out.isEmpty { throw DatasetError(path: root, "no sequences (no anno/*.txt in any chunk)") }
        return out
    }

    static func loadSequence(chunk: String, name: String) throws -> TrackingSequence {
        let gtPath = DatasetFiles.join(DatasetFiles.join(chunk, "anno"), name + ".txt")
        let frameDir = DatasetFiles.join(DatasetFiles.join(chunk, "frames"), name)
        guard DatasetFiles.isDirectory(frameDir) else { throw DatasetError(path: frameDir, "frame folder not found (its annotation is \(gtPath))") }
        let frames = try DatasetFiles.frames(in: frameDir)
        guard !frames.isEmpty else { throw DatasetError(path: frameDir, "no frames") }
        // Frames are 0.jpg … (N-1).jpg; a gap would pair every later frame with the wrong box.
        for (i, f) in frames.enumerated() where Int(f.pathLastComponent.pathDeletingExtension) != i {
            throw DatasetError(path: frameDir, "frame \(i).jpg is missing (TrackingNet frames are numbered 0…N-1; found \(f.pathLastComponent) in its place)")
        }
        let gt = try AnnotationReader.readBoxes(gtPath)
        guard gt.count == frames.count else {
            throw DatasetError(path: gtPath, "\(gt.count) box line(s) but \(frames.count) frame(s) in \(frameDir)")
        }
        return TrackingSequence(name: name, framePaths: frames, groundTruth: gt)
    }
}
