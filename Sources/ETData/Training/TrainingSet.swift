import ETCore
import Foundation

/// The training-data layouts `etrack train --data KIND:PATH` reads.
public enum TrainingDataKind: String, Sendable, CaseIterable, Codable {
    /// Our `folder` layout: `<root>/<name>/img/`, `groundtruth.txt`, optional `absent.txt`.
    case folder
    /// Still images: `<root>/boxes.csv` (columns image,x,y,w,h[,label]), or a folder of such sets.
    /// Every box is one pseudo-video of one frame (as pytracking's COCO sequences).
    case images
    /// GOT-10k train (`<root>/<seq>/`, `absence.label`; `list.txt` when present). The vot-train
    /// exclusion is a list file: `got10k:PATH` with `PATH/exclude.txt` naming sequences to skip.
    case got10k
    /// LaSOT train: every `<class>/<class>-<n>/` not in `testing_set.txt`; visibility from
    /// `full_occlusion.txt` and `out_of_view.txt`.
    case lasot
    /// TrackingNet train: `TRAIN_0` … `TRAIN_11` (those present), or one chunk folder.
    case trackingnet
    /// COCO instances (`annotations/instances_train2017.json`): every non-crowd box is a
    /// one-frame pseudo-video, as the images kind.
    case coco
}

/// One `--data KIND:PATH` argument.
public struct TrainingDataSpec: Sendable, Equatable, CustomStringConvertible {
    public var kind: TrainingDataKind
    public var path: String
    public init(kind: TrainingDataKind, path: String) { self.kind = kind; self.path = path }

    /// Parses `KIND:PATH`; a bare path is `folder:PATH`.
    /// - Throws: `DatasetError` naming the argument and the kinds there are.
    public init(parsing text: String) throws {
        let kinds = TrainingDataKind.allCases.map(\.rawValue).joined(separator: ", ")
        if let colon = text.firstIndex(of: ":") {
            let k = String(text[..<colon]).lowercased(), p = String(text[text.index(after: colon)...])
            guard let kind = TrainingDataKind(rawValue: k) else {
                throw DatasetError(path: text, "unknown data kind '\(k)' (use one of \(kinds), as KIND:PATH)")
            }
            guard !p.isEmpty else { throw DatasetError(path: text, "no path after '\(k):'") }
            self.init(kind: kind, path: p)
        } else {
            self.init(kind: .folder, path: text)
        }
    }

    public var description: String { "\(kind.rawValue):\(path)" }
}

/// One video (or still image) a training pair is drawn from.
public struct TrainingVideo: Sendable, Equatable {
    public var name: String
    public var framePaths: [String]
    /// One box per frame (nil where absent or unannotated).
    public var boxes: [BoundingBox?]
    /// Frames whose target is visible: annotated, width and height > 0, not flagged absent.
    public var visibleFrames: [Int]
    public var isStill: Bool { framePaths.count == 1 }

    public init(name: String, framePaths: [String], boxes: [BoundingBox?], absent: [Bool]? = nil) {
        self.name = name
        self.framePaths = framePaths
        self.boxes = boxes
        visibleFrames = boxes.indices.filter { i in
            guard let b = boxes[i], b.width > 0, b.height > 0, b.x.isFinite, b.y.isFinite else { return false }
            return !(absent?[i] ?? false)
        }
    }

    public init(_ s: TrackingSequence) {
        self.init(name: s.name, framePaths: s.framePaths, boxes: s.groundTruth, absent: s.absent)
    }
}

/// The videos of one `--data` source.
public struct TrainingSource: Sendable {
    public var spec: TrainingDataSpec
    /// Videos with at least one visible frame (the others cannot give a pair).
    public var videos: [TrainingVideo]
    public var frameCount: Int { videos.reduce(0) { $0 + $1.framePaths.count } }

    /// Reads a source.
    /// - Throws: `DatasetError` naming the file (and line) at fault, or the source when it holds
    ///   no video with a visible target.
    public static func load(_ spec: TrainingDataSpec) throws -> TrainingSource {
        let root = spec.path
        guard DatasetFiles.isDirectory(root) else { throw DatasetError(path: root, "training data folder not found (\(spec))") }
        var videos: [TrainingVideo]
        switch spec.kind {
        case .folder:
            videos = try FolderDataset.loadAll(root: root).map(TrainingVideo.init)
        case .images:
            let direct = DatasetFiles.join(root, "boxes.csv")
            let sets = DatasetFiles.isFile(direct) ? [root]
                : try DatasetFiles.subdirectories(root).map { DatasetFiles.join(root, $0) }
                    .filter { DatasetFiles.isFile(DatasetFiles.join($0, "boxes.csv")) }
            if sets.isEmpty { throw DatasetError(path: root, "no boxes.csv here or in a subfolder (images layout: <set>/boxes.csv with columns image,x,y,w,h)") }
            videos = try sets.flatMap { try readStillImages($0) }
        case .got10k:
            var names = try GOT10kDataset.load(root: root)
            let exclude = DatasetFiles.join(root, "exclude.txt")
            if DatasetFiles.isFile(exclude) {
                let skip = Set(try AnnotationReader.readNames(exclude))
                names.removeAll { skip.contains($0.name) }
            }
            videos = names.map(TrainingVideo.init)
        case .lasot:
            var seqs = try LaSOTDataset.load(root: root, useTestList: false)
            let list = DatasetFiles.join(root, "testing_set.txt")
            if DatasetFiles.isFile(list) {
                let test = Set(try AnnotationReader.readNames(list))
                seqs.removeAll { test.contains($0.name) }
            }
            videos = seqs.map(TrainingVideo.init)
        case .trackingnet:
            videos = try TrackingNetDataset.load(root: root).map(TrainingVideo.init)
        case .coco:
            videos = try COCODataset.load(root: root).map {
                TrainingVideo(name: "coco/\($0.imagePath.pathLastComponent)#\($0.annotationID)", framePaths: [$0.imagePath], boxes: [$0.box])
            }
        }
        videos.removeAll { $0.visibleFrames.isEmpty }
        if videos.isEmpty { throw DatasetError(path: root, "no video or image with a visible target (\(spec))") }
        return TrainingSource(spec: spec, videos: videos)
    }

    /// `boxes.csv` of one image set: a header naming image,x,y,w,h, then one row per box.
    static func readStillImages(_ dir: String) throws -> [TrainingVideo] {
        let path = DatasetFiles.join(dir, "boxes.csv")
        let lines = AnnotationReader.lines(try AnnotationReader.readText(path))
        guard let header = lines.first else { throw DatasetError(path: path, "empty file") }
        let columns = header.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        guard let ci = columns.firstIndex(of: "image"), let xi = columns.firstIndex(of: "x"), let yi = columns.firstIndex(of: "y"),
              let wi = columns.firstIndex(of: "w"), let hi = columns.firstIndex(of: "h") else {
            throw DatasetError(path: path, line: 1, "the header must name the columns image,x,y,w,h (found \(header))")
        }
        var videos: [TrainingVideo] = [], perImage: [String: Int] = [:]
        for (n, line) in lines.enumerated().dropFirst() where !line.allSatisfy({ $0 == " " }) {
            let f = line.split(separator: ",", omittingEmptySubsequences: false)
            guard f.count >= columns.count else { throw DatasetError(path: path, line: n + 1, "\(f.count) fields, expected \(columns.count)") }
            guard let x = AnnotationReader.number(f[xi]), let y = AnnotationReader.number(f[yi]),
                  let w = AnnotationReader.number(f[wi]), let h = AnnotationReader.number(f[hi]), [x, y, w, h].allSatisfy(\.isFinite) else {
                throw DatasetError(path: path, line: n + 1, "x,y,w,h must be four finite numbers")
            }
            let image = f[ci].trimmingCharacters(in: .whitespaces)
            let file = DatasetFiles.join(dir, image)
            guard DatasetFiles.isFile(file) else { throw DatasetError(path: path, line: n + 1, "image \(file) not found") }
            let k = perImage[image, default: 0]
            perImage[image] = k + 1
            videos.append(TrainingVideo(name: "\((dir).pathLastComponent)/\(image)#\(k)", framePaths: [file],
                                        boxes: [BoundingBox(x: x, y: y, width: w, height: h)]))
        }
        return videos
    }
}
