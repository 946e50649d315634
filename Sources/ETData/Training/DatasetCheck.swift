import ETCore
import Foundation

/// `etrack data check`: every problem of a training or benchmark dataset as `path:line:`
/// messages, instead of the first one only.
public enum DatasetCheck {
    public struct Summary: Sendable {
        public var videos = 0, frames = 0, visibleFrames = 0, absentFrames = 0
        public var problems: [DatasetError] = []
    }

    /// Checks a source: it must load (missing frames, annotation lengths, unparsable lines are
    /// the loaders' errors), then per video: boxes with no area, boxes that leave the frame (at
    /// least half outside, or wholly outside), `absent.txt` flags that contradict the boxes.
    /// - Parameter imageSize: the (width, height) of a frame file (the CLI decodes it); asked once per video.
    public static func run(_ spec: TrainingDataSpec, imageSize: (String) throws -> (Int, Int)) -> Summary {
        var summary = Summary()
        let source: TrainingSource
        do { source = try TrainingSource.load(spec) } catch let e as DatasetError {
            summary.problems.append(e); return summary
        } catch {
            summary.problems.append(DatasetError(path: spec.path, "\(error)")); return summary
        }
        summary.videos = source.videos.count
        for v in source.videos {
            summary.frames += v.framePaths.count
            summary.visibleFrames += v.visibleFrames.count
            let annotation = annotationPath(of: v, kind: spec.kind)
            let size: (Int, Int)
            do { size = try imageSize(v.framePaths[0]) } catch {
                summary.problems.append(DatasetError(path: v.framePaths[0], "\(error)")); continue
            }
            let (W, H) = (Double(size.0), Double(size.1))
            for (i, box) in v.boxes.enumerated() {
                guard let b = box else { continue }
                let line = v.isStill ? nil : i + 1
                if !(b.width > 0 && b.height > 0) {
                    summary.problems.append(DatasetError(path: annotation, line: line, "box \(b) has no area"))
                    continue
                }
                let iw = min(b.x + b.width, W) - max(b.x, 0), ih = min(b.y + b.height, H) - max(b.y, 0)
                let inside = max(iw, 0) * max(ih, 0) / b.area
                if inside == 0 {
                    summary.problems.append(DatasetError(path: annotation, line: line, "box \(b) is wholly outside the \(size.0)x\(size.1) frame"))
                } else if inside < 0.5 {
                    summary.problems.append(DatasetError(path: annotation, line: line, String(format: "box \(b) is %.0f%% outside the \(size.0)x\(size.1) frame", 100 * (1 - inside))))
                }
            }
        }
        // Absent flags against the boxes (folder layout: absent.txt).
        if spec.kind == .folder, let seqs = try? FolderDataset.loadAll(root: spec.path) {
            for s in seqs {
                guard let absent = s.absent else { continue }
                let path = (s.framePaths[0].pathDeletingLastComponent.pathDeletingLastComponent).pathAppending("absent.txt")
                for (i, a) in absent.enumerated() {
                    if a { summary.absentFrames += 1 }
                    if !a && i < s.groundTruth.count && s.groundTruth[i] == nil {
                        summary.problems.append(DatasetError(path: path, line: i + 1, "0 (visible) but the ground-truth line is NaN"))
                    }
                }
            }
        }
        return summary
    }

    /// The file a video's box lines come from, for `path:line:` messages (the frame itself for stills).
    static func annotationPath(of v: TrainingVideo, kind: TrainingDataKind) -> String {
        let frame = v.framePaths[0], dir = frame.pathDeletingLastComponent
        if v.isStill { return frame }
        switch kind {
        case .got10k: return dir.pathAppending("groundtruth.txt")                       // <seq>/00000001.jpg
        case .trackingnet:                                                               // TRAIN_n/frames/<seq>/0.jpg
            return dir.pathDeletingLastComponent.pathDeletingLastComponent.pathAppending("anno").pathAppending(dir.pathLastComponent + ".txt")
        default: return dir.pathDeletingLastComponent.pathAppending("groundtruth.txt")  // <seq>/img/00000001.jpg
        }
    }
}
