import ETCore
import Foundation

/// UAV123 and UAV123@10fps (Mueller, Smith, Ghanem, "A Benchmark and Simulator for UAV Tracking",
/// ECCV 2016). https://cemse.kaust.edu.sa/ivul/uav123
///
/// Layout: `<root>/data_seq/UAV123/<video>/000001.jpg …`, `<root>/anno/UAV123/<name>.txt` (NaN rows
/// where the target is absent), `<root>/anno/UAV123/att/<name>.txt` (12 attribute flags).
/// `UAV123_10fps` folders are used when `UAV123` is missing.
///
/// Many sequences are sub-ranges of a longer video (`bird1_1` = frames 1…253 of `bird1`). Those
/// ranges come from the benchmark's sequence table: `<root>/configSeqs.m` from the UAV123 toolkit,
/// or pysot's `<root>/UAV123.json`. Without a table, a sequence whose video folder has the same
/// name and exactly one frame per annotation row is taken whole; any other raises, naming the table.
public enum UAV123Dataset {
    /// The attribute order of `anno/UAV123/att/<name>.txt`.
    public static let attributeNames = ["SV", "ARC", "LR", "FM", "FOC", "POC", "OV", "BC", "IV", "VC", "CM", "SOB"]

    /// One row of the sequence table.
    public struct Entry: Equatable, Sendable {
        public var name: String, video: String, startFrame: Int, endFrame: Int
    }

    /// Loads the sequences.
    /// - Throws: `DatasetError` naming a missing or malformed file, or a sequence without a table row.
    public static func load(root: String, names: [String]? = nil) throws -> [TrackingSequence] {
        let variant = DatasetFiles.isDirectory(DatasetFiles.join(root, "anno/UAV123")) ? "UAV123" : "UAV123_10fps"
        let annoDir = DatasetFiles.join(root, "anno/" + variant), dataDir = DatasetFiles.join(root, "data_seq/" + variant)
        guard DatasetFiles.isDirectory(annoDir) else { throw DatasetError(path: DatasetFiles.join(root, "anno/UAV123"), "annotation folder not found") }
        let table = try readTable(root: root)
        let all = ((try? FileManager.default.contentsOfDirectory(atPath: annoDir)) ?? [])
            .filter { $0.hasSuffix(".txt") }.map { String($0.dropLast(4)) }.sorted(by: DatasetFiles.naturalLess)
        let list = names ?? all
        if list.isEmpty { throw DatasetError(path: annoDir, "no annotation files") }
        return try list.map { name in
            let annoPath = DatasetFiles.join(annoDir, name + ".txt")
            let gt = try AnnotationReader.readBoxes(annoPath)
            let entry: Entry
            if let e = table[name] { entry = e }
            else { entry = Entry(name: name, video: name, startFrame: 1, endFrame: gt.count) }
            let videoDir = DatasetFiles.join(dataDir, entry.video)
            let frames = table[name] == nil && !DatasetFiles.isDirectory(videoDir) ? [] : try DatasetFiles.frames(in: videoDir)
            if table[name] == nil && frames.count != gt.count {
                throw DatasetError(path: annoPath, "\(gt.count) rows but \(frames.count) frames in \(videoDir): this sequence is a sub-range of its video; put the UAV123 sequence table (configSeqs.m from the UAV123 toolkit, or pysot's UAV123.json) in \(root)")
            }
            guard entry.startFrame >= 1, entry.endFrame <= frames.count, entry.endFrame - entry.startFrame + 1 == gt.count else {
                throw DatasetError(path: annoPath, "\(gt.count) rows but the table gives frames \(entry.startFrame)…\(entry.endFrame) of \(frames.count) in \(videoDir)")
            }
            var s = TrackingSequence(name: name, framePaths: Array(frames[(entry.startFrame - 1)..<entry.endFrame]), groundTruth: gt)
            let att = DatasetFiles.join(DatasetFiles.join(annoDir, "att"), name + ".txt")
            if DatasetFiles.isFile(att) {
                let v = try AnnotationReader.readIntegers(att)
                guard v.count == attributeNames.count else { throw DatasetError(path: att, "\(v.count) attribute flags, expected \(attributeNames.count)") }
                s.attributes = zip(attributeNames, v).filter { $0.1 != 0 }.map { $0.0 }
            }
            return s
        }
    }

    /// Reads `configSeqs.m` (`struct('name','bird1_1','path','…\bird1\','startFrame',1,'endFrame',253, …)`)
    /// or pysot's `UAV123.json` (`img_names` per sequence). Empty when neither exists.
    public static func readTable(root: String) throws -> [String: Entry] {
        var table: [String: Entry] = [:]
        let m = DatasetFiles.join(root, "configSeqs.m")
        if DatasetFiles.isFile(m) {
            for (i, line) in AnnotationReader.lines(try AnnotationReader.readText(m)).enumerated() where line.contains("'name'") {
                func value(_ key: String) -> String? {
                    guard let r = line.range(of: "'\(key)',") else { return nil }
                    let rest = line[r.upperBound...].drop(while: { $0 == " " })
                    if rest.first == "'" { return String(rest.dropFirst().prefix(while: { $0 != "'" })) }
                    return String(rest.prefix(while: { $0.isNumber }))
                }
                guard let name = value("name"), let path = value("path"), let s = value("startFrame").flatMap(Int.init),
                      let e = value("endFrame").flatMap(Int.init) else {
                    throw DatasetError(path: m, line: i + 1, "cannot read name/path/startFrame/endFrame")
                }
                let video = path.split(whereSeparator: { $0 == "\\" || $0 == "/" }).last.map(String.init) ?? name
                table[name] = Entry(name: name, video: video, startFrame: s, endFrame: e)
            }
            return table
        }
        let j = DatasetFiles.join(root, "UAV123.json")
        if DatasetFiles.isFile(j) {
            guard let data = FileManager.default.contents(atPath: j),
                  let obj = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
                throw DatasetError(path: j, "not a JSON object")
            }
            for (name, v) in obj {
                guard let d = v as? [String: Any], let imgs = d["img_names"] as? [String], let first = imgs.first, let last = imgs.last else {
                    throw DatasetError(path: j, "entry '\(name)' has no img_names")
                }
                func frameNumber(_ p: String) -> Int? { Int(((p).pathLastComponent).pathDeletingExtension) }
                guard let s = frameNumber(first), let e = frameNumber(last) else { throw DatasetError(path: j, "entry '\(name)': unreadable frame names") }
                let video = (first).pathDeletingLastComponent.split(separator: "/").last.map(String.init) ?? name
                table[name] = Entry(name: name, video: video, startFrame: s, endFrame: e)
            }
        }
        return table
    }
}
