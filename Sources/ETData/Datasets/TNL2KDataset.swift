/// TNL2K (Wang et al., "Towards More Flexible and Accurate Object Tracking with Natural Language",
/// CVPR 2021). https://sites.google.com/view/langtrackbenchmark/
///
/// Layout (test set, 700 sequences): `<root>/<name>/imgs/*.jpg|png`, `groundtruth.txt`,
/// `language.txt`. No visibility flags: frames whose GT has w or h ≤ 0 are the invalid frames
/// (OSTrack's loader and `tnl2k` rules).
public enum TNL2KDataset {
    /// Loads every sequence under `root` (or `names`).
    /// - Throws: `DatasetError` naming a missing or malformed file.
    public static func load(root: String, names: [String]? = nil) throws -> [TrackingSequence] {
        let list = try names ?? DatasetFiles.subdirectories(root).filter {
            DatasetFiles.isDirectory(DatasetFiles.join(DatasetFiles.join(root, $0), "imgs"))
        }
        if list.isEmpty { throw DatasetError(path: root, "no TNL2K sequences (<name>/imgs/) found") }
        return try list.map { name in
            let dir = DatasetFiles.join(root, name)
            guard DatasetFiles.isDirectory(dir) else { throw DatasetError(path: dir, "sequence folder not found") }
            let frames = try DatasetFiles.frames(in: DatasetFiles.join(dir, "imgs"))
            let gtPath = DatasetFiles.join(dir, "groundtruth.txt")
            let gt = try AnnotationReader.readBoxes(gtPath)
            guard gt.count == frames.count else {
                throw DatasetError(path: gtPath, "\(gt.count) box line(s) but \(frames.count) frame(s)")
            }
            return TrackingSequence(name: name, framePaths: frames, groundTruth: gt)
        }
    }
}
