import ETCore
import Foundation

/// `etrack data convert`: another dataset's annotations in our layouts, frames linked, not copied.
///
/// The output is built in a hidden sibling folder and renamed into place at the end, so a
/// failed or killed conversion never leaves a half-written dataset under the requested name.
public enum DatasetConversion {
    /// The layout written.
    public enum Layout: String, Sendable, CaseIterable {
        /// `OUT/<name>/img/` (links to the frames), `groundtruth.txt`, `absent.txt` where the
        /// source flags absent frames. A still image becomes a one-frame sequence.
        case folder
        /// `OUT/boxes.csv` (image,x,y,w,h,label) with `OUT/images` a link to the image folder:
        /// for still-image sets, where one folder per box would be a million tiny folders.
        case images
    }

    public struct Summary: Sendable, Equatable {
        public var videos: Int, frames: Int
        public init(videos: Int, frames: Int) { self.videos = videos; self.frames = frames }
    }

    /// Converts a source (any kind `etrack train --data` reads) into `out`, which must not exist.
    /// The layout written when none is asked for: `images` for COCO, `folder` for the others.
    public static func defaultLayout(for kind: TrainingDataKind) -> Layout { kind == .coco ? .images : .folder }

    /// - Parameter layout: nil = `defaultLayout(for: spec.kind)`.
    /// - Throws: `DatasetError` from the reader, or naming `out` when it exists or cannot be written.
    public static func convert(_ spec: TrainingDataSpec, to out: String, layout: Layout? = nil) throws -> Summary {
        let layout = layout ?? defaultLayout(for: spec.kind)
        let fm = FileManager.default
        guard !fm.fileExists(atPath: out) else { throw DatasetError(path: out, "exists; choose a new folder (nothing was written)") }
        let parent = out.pathDeletingLastComponent.isEmpty ? "." : out.pathDeletingLastComponent
        let tmp = parent.pathAppending(".\(out.pathLastComponent).partial-\(getpid())")
        try? fm.removeItem(atPath: tmp)
        do { try fm.createDirectory(atPath: tmp, withIntermediateDirectories: true) } catch {
            throw DatasetError(path: out, "cannot create the output folder (\(error.localizedDescription))")
        }
        do {
            let summary: Summary
            switch (spec.kind, layout) {
            case (.coco, .images):
                let (_, imageDir) = try COCODataset.locate(root: spec.path)
                summary = try writeImages(try COCODataset.load(root: spec.path), imageDir: imageDir, to: tmp)
            case (_, .images):
                throw DatasetError(path: spec.path, "the images layout is for still-image sets (coco); write \(spec.kind.rawValue) videos in the folder layout")
            case (.coco, .folder):
                let stills = try COCODataset.load(root: spec.path).map {
                    TrackingSequence(name: "\($0.imagePath.pathLastComponent.pathDeletingExtension)_\($0.annotationID)", framePaths: [$0.imagePath], groundTruth: [$0.box])
                }
                summary = try writeFolder(stills, to: tmp)
            case (.images, .folder):
                let videos = try TrainingSource.load(spec).videos
                summary = try writeFolder(videos.enumerated().map { k, v in
                    TrackingSequence(name: String(format: "%06d_", k) + v.framePaths[0].pathLastComponent.pathDeletingExtension,
                                     framePaths: v.framePaths, groundTruth: v.boxes)
                }, to: tmp)
            case (.folder, .folder):
                summary = try writeFolder(try FolderDataset.loadAll(root: spec.path), to: tmp)
            case (.got10k, .folder):
                summary = try writeFolder(try GOT10kDataset.load(root: spec.path), to: tmp)
            case (.lasot, .folder):
                summary = try writeFolder(try LaSOTDataset.load(root: spec.path, useTestList: false), to: tmp)
            case (.trackingnet, .folder):
                summary = try writeFolder(try TrackingNetDataset.load(root: spec.path), to: tmp)
            }
            guard rename(tmp, out) == 0 else {
                throw DatasetError(path: out, "cannot rename the finished \(tmp) into place: \(String(cString: strerror(errno)))")
            }
            return summary
        } catch {
            try? fm.removeItem(atPath: tmp)
            throw error
        }
    }

    static func writeText(_ text: String, _ path: String) throws {
        guard FileManager.default.createFile(atPath: path, contents: Data(text.utf8)) else {
            throw DatasetError(path: path, "cannot write (\(String(cString: strerror(errno))))")
        }
    }

    /// One folder per sequence; frame links named 00000001.<ext> … in the source order.
    static func writeFolder(_ seqs: [TrackingSequence], to dir: String) throws -> Summary {
        let fm = FileManager.default
        var names = Set<String>(), frames = 0
        for s in seqs {
            // Names must be unique folder names (TrackingNet chunks or LaSOT classes could repeat one).
            let base = s.name.replacingOccurrences(of: "/", with: "_")
            var name = base, k = 2
            while names.contains(name) { name = "\(base)_\(k)"; k += 1 }
            names.insert(name)
            let seqDir = dir.pathAppending(name), img = seqDir.pathAppending("img")
            try fm.createDirectory(atPath: img, withIntermediateDirectories: true)
            for (i, f) in s.framePaths.enumerated() {
                try fm.createSymbolicLink(atPath: img.pathAppending(String(format: "%08d.", i + 1) + f.pathExtensionName), withDestinationPath: f.absolutePath)
            }
            frames += s.framePaths.count
            try writeText(s.groundTruth.map { $0?.description ?? "NaN,NaN,NaN,NaN" }.joined(separator: "\n") + "\n", seqDir.pathAppending("groundtruth.txt"))
            if let absent = s.absent {
                try writeText(absent.map { $0 ? "1" : "0" }.joined(separator: "\n") + "\n", seqDir.pathAppending("absent.txt"))
            }
        }
        return Summary(videos: seqs.count, frames: frames)
    }

    /// `boxes.csv` and an `images` link to the image folder.
    static func writeImages(_ instances: [COCODataset.Instance], imageDir: String, to dir: String) throws -> Summary {
        try FileManager.default.createSymbolicLink(atPath: dir.pathAppending("images"), withDestinationPath: imageDir.absolutePath)
        var csv = "image,x,y,w,h,label\n"
        for i in instances {
            let b = i.box
            csv += "images/\(i.imagePath.pathLastComponent),\(b.x),\(b.y),\(b.width),\(b.height),\(i.category.replacingOccurrences(of: ",", with: " "))\n"
        }
        try writeText(csv, dir.pathAppending("boxes.csv"))
        return Summary(videos: instances.count, frames: Set(instances.map(\.imagePath)).count)
    }
}
