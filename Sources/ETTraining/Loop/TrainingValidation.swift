import ETCore
import ETData
import ETEvaluation
import ETImage
import ETNN
import ETTracking
import Foundation

/// Periodic validation of a training run (`etrack train --validate`): the weights of the moment
/// track every validation sequence with the corrected one-stream tracker (what `etrack track`
/// runs for a family model), scored with the evaluation module's OPE rules for the folder layout
/// (absent frames excluded, the OSTrack validity variant), as `etrack eval score` would.
public final class TrainingValidation {
    public let sequences: [TrackingSequence]
    public let spec: String

    /// - Parameter spec: `folder:PATH` or `PATH` (the folder layout: one sequence, or a folder of them).
    /// - Throws: `TrainingError` naming the path for other kinds, missing folders, malformed
    ///   sequences, and sequences whose first frame has no box (the tracker starts from it).
    public init(spec: String) throws {
        let parsed: TrainingDataSpec
        do { parsed = try TrainingDataSpec(parsing: spec) } catch { throw TrainingError("--validate \(spec): \(error)") }
        guard parsed.kind == .folder else {
            throw TrainingError("--validate \(spec): validation reads the folder layout only; convert the split with `etrack data convert` first")
        }
        do { sequences = try FolderDataset.loadAll(root: parsed.path) } catch { throw TrainingError("--validate \(spec): \(error)") }
        for s in sequences where s.groundTruth.first.flatMap({ $0 }) == nil {
            throw TrainingError("--validate \(spec): sequence \(s.name) has no box on its first frame (the tracker starts from it)")
        }
        self.spec = spec
    }

    public var frameCount: Int { sequences.reduce(0) { $0 + $1.framePaths.count } }

    /// Tracks every sequence with `parameters` (a flat vector of `configuration`'s table) and
    /// returns the OPE summary over the sequences (percent).
    public func evaluate(configuration: ModelConfiguration, parameters: [Float]) throws -> OPESummary {
        let table = ParameterTable(configuration)
        var tensors: [String: Tensor] = [:]
        for s in table.specs { tensors[s.name] = Tensor(shape: s.shape, data: Array(parameters[s.offset..<s.offset + s.count])) }
        let model = try Model(configuration)
        try model.load(tensors)
        let make = try TrackerLoader.load(family: model, name: "\(configuration.name) (training weights)")
        let rules = DatasetKind.folder.opeRules
        var curves: [OPEScoring.Curves] = []
        for s in sequences {
            let tracker = make()
            var boxes: [Box4] = []
            for (i, path) in s.framePaths.enumerated() {
                let image = try frame(path)
                if i == 0 {
                    try tracker.initialize(frame: image, box: s.groundTruth[0]!)
                    boxes.append(Box4(s.groundTruth[0]!))
                } else {
                    boxes.append(Box4(try tracker.update(frame: image).box))
                }
            }
            let gt = s.groundTruth.map { $0.map(Box4.init) ?? .nan }
            let errors = try OPEScoring.frameErrors(prediction: boxes, groundTruth: gt, visible: s.absent.map { $0.map { !$0 } },
                                                    rules: rules, variant: .ostrack, sequence: s.name)
            curves.append(try OPEScoring.curves(errors, rules: rules, sequence: s.name))
        }
        return OPESummary(sequences: curves)
    }

    /// Frames are decoded again each time (a JPEG costs ~2 ms, less than a tracker step; keeping
    /// a validation set's frames would hold ~1 MB per frame).
    private func frame(_ path: String) throws -> Image {
        do { return try ImageIO.read(path: path) } catch { throw TrainingError("--validate \(spec): \(error)") }
    }
}
