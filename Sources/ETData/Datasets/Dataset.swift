/// Loads any supported benchmark by kind: the one entry point the runner and `score` use.
public enum Dataset {
    /// Reads the sequences of a dataset.
    ///
    /// - Parameters:
    ///   - kind: the layout (`--dataset`).
    ///   - root: the dataset root (`--root`).
    ///   - names: only these sequences, in this order (`--sequences a,b,c`); nil = the whole split.
    /// - Returns: the sequences, in a stable order (the shard split relies on it).
    /// - Throws: `DatasetError` naming the file (and line) that is missing or malformed, or a
    ///   requested sequence that does not exist.
    public static func load(_ kind: DatasetKind, root: String, names: [String]? = nil) throws -> [TrackingSequence] {
        let seqs: [TrackingSequence]
        switch kind {
        case .folder: seqs = try FolderDataset.loadAll(root: root, names: names)
        case .lasot: seqs = try LaSOTDataset.load(root: root, names: names, useTestList: true)
        case .lasotExt: seqs = try LaSOTDataset.load(root: root, names: names, useTestList: false)
        case .tnl2k: seqs = try TNL2KDataset.load(root: root, names: names)
        case .got10k: seqs = try GOT10kDataset.load(root: root, names: names)
        case .otb: seqs = try OTBDataset.load(root: root, names: names)
        case .uav123: seqs = try UAV123Dataset.load(root: root, names: names)
        }
        guard let names else { return seqs }
        let byName = Dictionary(seqs.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        return names.compactMap { byName[$0] }
    }
}
