import Foundation

/// COCO (Lin et al., "Microsoft COCO: Common Objects in Context", ECCV 2014) object instances,
/// read as still images for tracking: every box is a one-frame pseudo-video, as in pytracking's
/// and OSTrack's `MSCOCOSeq` (crowd annotations left out).
///
/// Layout, as the official zips unpack (`<root>/train2017/`) or as pytracking expects
/// (`<root>/images/train2017/`):
/// ```
/// <root>/annotations/instances_train2017.json
/// <root>/train2017/000000000009.jpg …
/// ```
public enum COCODataset {
    /// One box of one image.
    public struct Instance: Sendable, Equatable {
        public var imagePath: String
        public var box: BoundingBox
        public var annotationID: Int
        public var category: String
    }

    /// The annotation file and image folder of a COCO root: `instances_train2017.json` when
    /// present, else the one `instances_train*.json` there is.
    public static func locate(root: String) throws -> (annotations: String, images: String) {
        guard DatasetFiles.isDirectory(root) else { throw DatasetError(path: root, "dataset root not found") }
        let annoDir = DatasetFiles.join(root, "annotations")
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: annoDir)) ?? [])
            .filter { $0.hasPrefix("instances_train") && $0.hasSuffix(".json") }.sorted()
        let file: String
        if files.contains("instances_train2017.json") { file = "instances_train2017.json" }
        else if files.count == 1 { file = files[0] }
        else if files.isEmpty { throw DatasetError(path: annoDir, "no instances_train*.json (expected <root>/annotations/instances_train2017.json)") }
        else { throw DatasetError(path: annoDir, "several annotation files (\(files.joined(separator: ", "))) and none is instances_train2017.json; keep one") }
        let split = String(file.dropFirst("instances_".count).dropLast(".json".count))
        for images in [DatasetFiles.join(root, split), DatasetFiles.join(DatasetFiles.join(root, "images"), split)]
        where DatasetFiles.isDirectory(images) {
            return (DatasetFiles.join(annoDir, file), images)
        }
        throw DatasetError(path: root, "no image folder for \(file) (expected \(split)/ or images/\(split)/)")
    }

    // Only the fields we use; JSONDecoder skips the rest (segmentation polygons, licences, …).
    struct File: Decodable {
        struct Image: Decodable { var id: Int; var file_name: String }
        struct Annotation: Decodable { var id: Int; var image_id: Int; var bbox: [Double]; var iscrowd: Int?; var category_id: Int }
        struct Category: Decodable { var id: Int; var name: String }
        var images: [Image]
        var annotations: [Annotation]
        var categories: [Category]?
    }

    /// Reads the instances of a COCO root, in annotation order, crowd boxes left out.
    /// - Parameter checkImages: stat every image file (a missing one is an error naming it).
    /// - Throws: `DatasetError` naming the JSON file and the field at fault, an annotation whose
    ///   image id is unknown or whose bbox is not four finite numbers, or a missing image.
    public static func load(root: String, checkImages: Bool = true) throws -> [Instance] {
        let (annoPath, imageDir) = try locate(root: root)
        guard let data = FileManager.default.contents(atPath: annoPath) else { throw DatasetError(path: annoPath, "cannot read file") }
        let file: File
        do { file = try JSONDecoder().decode(File.self, from: data) } catch let e as DecodingError {
            throw DatasetError(path: annoPath, "not a COCO instances file: \(describe(e))")
        }
        var imageByID: [Int: String] = [:]
        for im in file.images { imageByID[im.id] = im.file_name }
        let categories = Dictionary((file.categories ?? []).map { ($0.id, $0.name) }, uniquingKeysWith: { a, _ in a })
        var seen = Set<String>(), out: [Instance] = []
        out.reserveCapacity(file.annotations.count)
        for (k, a) in file.annotations.enumerated() where (a.iscrowd ?? 0) == 0 {
            guard let name = imageByID[a.image_id] else {
                throw DatasetError(path: annoPath, "annotations[\(k)] (id \(a.id)) names image_id \(a.image_id), which is not in images")
            }
            guard a.bbox.count == 4, a.bbox.allSatisfy(\.isFinite) else {
                throw DatasetError(path: annoPath, "annotations[\(k)] (id \(a.id)): bbox \(a.bbox) is not four finite numbers [x,y,w,h]")
            }
            let path = DatasetFiles.join(imageDir, name)
            if checkImages && !seen.contains(name) {
                guard DatasetFiles.isFile(path) else { throw DatasetError(path: path, "image not found (annotations[\(k)], id \(a.id), in \(annoPath))") }
                seen.insert(name)
            }
            out.append(Instance(imagePath: path, box: BoundingBox(x: a.bbox[0], y: a.bbox[1], width: a.bbox[2], height: a.bbox[3]),
                                annotationID: a.id, category: categories[a.category_id] ?? String(a.category_id)))
        }
        return out
    }

    static func describe(_ e: DecodingError) -> String {
        func path(_ c: DecodingError.Context) -> String {
            c.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
        }
        switch e {
        case .keyNotFound(let key, let c): return "missing key '\(key.stringValue)' at \(path(c).isEmpty ? "top level" : path(c))"
        case .typeMismatch(_, let c), .valueNotFound(_, let c): return "\(path(c)): \(c.debugDescription)"
        case .dataCorrupted(let c): return "\(path(c).isEmpty ? "" : path(c) + ": ")\(c.debugDescription)"
        @unknown default: return "\(e)"
        }
    }
}
