import ETData
import ETCore
import Foundation

/// The files of one `etrack track` run, named after its box file `out.txt`:
///
/// | file | what it holds |
/// |---|---|
/// | `out.txt` | one `x,y,w,h` per frame (the first is the initial box) |
/// | `out_time.txt` | seconds per frame |
/// | `out_score.txt` | raw score, confidence, state per frame; a last `nan,0,failed`/`interrupted` line when the run stopped early |
/// | `out_run.json` | the manifest: status (`running`, `complete`, `partial`), frames, why it stopped, warnings, what ran |
/// | `out_resume.txt` | a partial run only: the tracker's state after each kept frame, for `--resume` |
///
/// While the run goes, every frame's lines are appended to `<file>.partial` with one `write(2)`
/// each, so a run killed with SIGKILL keeps every frame it finished (the kernel holds the bytes);
/// the resume line is written last and is the commit record of its frame. At the end the set is
/// published together: the old files are removed first, then the new ones are renamed into place,
/// then the manifest is written (atomically). A reader therefore sees the old set, the new set, or
/// files missing, never old and new files mixed; `out_run.json` says which run the files belong to.
public struct TrackRunPaths: Sendable, Equatable {
    public let boxes: String
    public init(boxes: String) { self.boxes = boxes }

    public var stem: String { (boxes).pathDeletingExtension }
    public var times: String { stem + "_time.txt" }
    public var scores: String { stem + "_score.txt" }
    public var manifest: String { stem + "_run.json" }
    public var resume: String { stem + "_resume.txt" }
    /// The per-frame files, in the order a frame's lines are written (the resume line last).
    public var frameFiles: [String] { [boxes, times, scores, resume] }
    /// Every file a run may leave, working files included (what `--force` replaces).
    public var all: [String] { frameFiles + [manifest] + frameFiles.map(working) }
    public func working(_ path: String) -> String { path + ".partial" }
    public var folder: String {
        let d = (boxes).pathDeletingLastComponent
        return d.isEmpty ? "." : d
    }
}

/// `out_run.json`: what a run's files hold and how the run ended.
public struct TrackRunManifest: Codable, Sendable, Equatable {
    public enum Status: String, Codable, Sendable {
        /// The run is writing (or was killed while writing); the frames so far are in the `.partial` files.
        case running
        /// The run was renaming its files into place (killed then if it still says so).
        case publishing
        /// Every frame of the source was tracked.
        case complete
        /// The run stopped early (`stop` says where and why); `--resume` continues it.
        case partial
    }
    public struct Stop: Codable, Sendable, Equatable {
        /// 1-based frame where the run stopped (it has a score line and no box).
        public var frame: Int
        /// `failed` or `interrupted`.
        public var state: String
        public var reason: String
        public init(frame: Int, state: String, reason: String) { self.frame = frame; self.state = state; self.reason = reason }
    }
    /// What was run; a resume must match it.
    public struct Run: Codable, Sendable, Equatable {
        public var model: String
        /// The sequence folder or video file.
        public var source: String
        public var initBox: String
        /// The tracker's options as the CLI spells them (mode, OpenCV version, diagnostics).
        public var options: String
        public init(model: String, source: String, initBox: String, options: String) {
            self.model = model; self.source = source; self.initBox = initBox; self.options = options
        }
    }

    public var format = "etrack-track-run/1"
    public var status: Status
    public var run: Run
    /// Frames with a box line.
    public var frames: Int
    /// Frames the source holds (folder) or declares (video), when known.
    public var sourceFrames: Int?
    public var stop: Stop?
    public var warnings: [String] = []
    /// 1-based frames at which `--resume` continued the run.
    public var resumedAt: [Int] = []
    /// The annotated video or frame folder, when one was written.
    public var render: String?
    /// Process that writes while `running` (a resume refuses to take over a live one).
    public var pid: Int32?
    public var started: String
    public var finished: String?

    public init(status: Status, run: Run, frames: Int, started: String) {
        self.status = status; self.run = run; self.frames = frames; self.started = started
    }

    public static func read(_ path: String) throws -> TrackRunManifest {
        guard let data = FileManager.default.contents(atPath: path) else { throw DatasetError(path: path, "cannot read the run manifest") }
        return try decode(data, path: path)
    }

    /// Parses manifest bytes (`path` is used in error messages only).
    public static func decode(_ data: Data, path: String) throws -> TrackRunManifest {
        do { return try JSONDecoder().decode(TrackRunManifest.self, from: data) } catch {
            throw DatasetError(path: path, "not a run manifest of etrack track (\(error))")
        }
    }

    public func write(_ path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try ResultFiles.writeAtomically(String(decoding: try encoder.encode(self), as: UTF8.self) + "\n", to: path)
    }
}

/// Where a stopped run continues: the lines of its kept frames.
public struct TrackRunResumePoint: Sendable {
    public var manifest: TrackRunManifest
    /// The kept frames' lines, one array per `TrackRunPaths.frameFiles` entry (all of equal length).
    public var lines: [[String]]
    public var frames: Int { lines[0].count }
    /// The tracker state after the last kept frame.
    public var lastState: [Double] {
        lines[3].last.map { $0.split(separator: ",").compactMap { Double($0) } } ?? []
    }
}

/// Writes a run's files frame by frame and publishes them together (see `TrackRunPaths`).
public final class TrackRunWriter {
    public let paths: TrackRunPaths
    public private(set) var manifest: TrackRunManifest
    private var descriptors: [Int32] = []
    public private(set) var frames: Int

    /// Starts a run: checks that the folder is writable (creating it), writes the manifest with
    /// status `running` and opens the working files, holding `resume`'s lines when continuing.
    /// - Throws: `EvaluationError` naming the file that cannot be written, before any work.
    public init(paths: TrackRunPaths, run: TrackRunManifest.Run, sourceFrames: Int?, render: String?, resume: TrackRunResumePoint? = nil) throws {
        self.paths = paths
        let now = ISO8601DateFormatter().string(from: Date())
        if let resume {
            manifest = resume.manifest
            manifest.resumedAt.append(resume.frames + 1)
            manifest.stop = nil
        } else {
            manifest = TrackRunManifest(status: .running, run: run, frames: 0, started: now)
        }
        manifest.status = .running
        manifest.frames = resume?.frames ?? 0
        manifest.sourceFrames = sourceFrames
        manifest.render = render
        manifest.pid = getpid()
        manifest.finished = nil
        frames = manifest.frames
        try Self.checkWritable(folder: paths.folder)
        try manifest.write(paths.manifest)
        for (k, file) in paths.frameFiles.enumerated() {
            let path = paths.working(file)
            let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            guard fd >= 0 else { throw EvaluationError("\(path): cannot create: \(String(cString: strerror(errno)))") }
            descriptors.append(fd)
            if let resume, !resume.lines[k].isEmpty { try write(fd, resume.lines[k].joined(separator: "\n") + "\n", path) }
        }
    }

    deinit { for fd in descriptors { close(fd) } }

    /// Creates `folder` when missing (saying so on stderr) and checks that a file can be made in it.
    public static func checkWritable(folder: String) throws {
        if !FileManager.default.fileExists(atPath: folder) {
            do { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) } catch {
                throw EvaluationError("cannot create the output folder \(folder): \(error.localizedDescription)")
            }
            FileHandle.standardError.write(Data("created the output folder \(folder)\n".utf8))
        }
        let probe = (folder).pathAppending(".etrack-write-check-\(getpid())")
        guard FileManager.default.createFile(atPath: probe, contents: Data()) else {
            throw EvaluationError("cannot write in the output folder \(folder) (read-only or no permission); nothing was tracked")
        }
        try? FileManager.default.removeItem(atPath: probe)
    }

    private func write(_ fd: Int32, _ text: String, _ path: String) throws {
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let n = bytes.withUnsafeBytes { Foundation.write(fd, $0.baseAddress!, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw EvaluationError("\(path): cannot write: \(String(cString: strerror(errno))) (is the disk full?)") }
            bytes = bytes.dropFirst(n)
        }
    }

    /// Appends one frame: its box, time and score lines, then the tracker state that commits it.
    public func append(box: String, time: String, score: String, state: [Double]) throws {
        let lines = [box, time, score, state.map { "\($0)" }.joined(separator: ",")]
        for k in 0..<4 { try write(descriptors[k], lines[k] + "\n", paths.working(paths.frameFiles[k])) }
        frames += 1
    }

    /// Closes the files and publishes the set: `complete` without `stop`, else `partial` with the
    /// score file's marker line for the frame where the run stopped.
    @discardableResult
    public func finish(stop: TrackRunManifest.Stop?, markerScoreLine: String?, warnings: [String]) throws -> TrackRunManifest {
        if let markerScoreLine { try write(descriptors[2], markerScoreLine + "\n", paths.working(paths.scores)) }
        for fd in descriptors { fsync(fd); close(fd) }
        descriptors = []
        manifest.status = .publishing
        try manifest.write(paths.manifest)
        // Old files go first, so no reader ever pairs an old file with a new one.
        for file in paths.frameFiles where FileManager.default.fileExists(atPath: file) { try FileManager.default.removeItem(atPath: file) }
        for file in paths.frameFiles.prefix(stop == nil ? 3 : 4) {
            guard rename(paths.working(file), file) == 0 else {
                throw EvaluationError("\(file): cannot rename the finished file into place: \(String(cString: strerror(errno)))")
            }
        }
        manifest.status = stop == nil ? .complete : .partial
        manifest.frames = frames
        manifest.stop = stop
        manifest.warnings += warnings
        manifest.pid = nil
        manifest.finished = ISO8601DateFormatter().string(from: Date())
        try manifest.write(paths.manifest)
        // Last: until the manifest says complete, a resume can still count the frames from here.
        if stop == nil { unlink(paths.working(paths.resume)) }
        return manifest
    }

    /// Reads what a stopped or killed run kept: the published partial set, or the working files a
    /// killed run left. Each file's complete lines are counted and the set is cut to the shortest,
    /// so a frame is kept only when its resume line (written last) made it to disk.
    /// - Throws: `EvaluationError` when there is no run, it is complete, another process is still
    ///   writing it, or it was made by another model, source, box or options (each named).
    public static func resumePoint(_ paths: TrackRunPaths, expecting run: TrackRunManifest.Run) throws -> TrackRunResumePoint {
        guard FileManager.default.fileExists(atPath: paths.manifest) else {
            throw EvaluationError("\(paths.manifest) not found: there is no run of etrack track to resume at \(paths.boxes)")
        }
        let manifest = try TrackRunManifest.read(paths.manifest)
        switch manifest.status {
        case .complete:
            throw EvaluationError("\(paths.manifest): the run is complete (\(manifest.frames) frames); nothing to resume (use --force to run it again)")
        case .running, .publishing:
            if let pid = manifest.pid, pid != getpid(), kill(pid, 0) == 0 {
                throw EvaluationError("\(paths.manifest): process \(pid) is still writing this run; stop it first")
            }
        case .partial: break
        }
        let fields: [(String, KeyPath<TrackRunManifest.Run, String>)] = [("model", \.model), ("source", \.source), ("initial box", \.initBox), ("options", \.options)]
        for (name, key) in fields where manifest.run[keyPath: key] != run[keyPath: key] {
            throw EvaluationError("\(paths.manifest): the run was made with \(name) '\(manifest.run[keyPath: key])', not '\(run[keyPath: key])'; resume it with the same arguments")
        }
        func completeLines(_ path: String) -> [String]? {
            guard let data = FileManager.default.contents(atPath: path) else { return nil }
            // Only complete lines: a kill can cut the last one.
            let text = String(decoding: data, as: UTF8.self)
            let complete = text.hasSuffix("\n") ? text : String(text[..<(text.lastIndex(of: "\n").map { text.index(after: $0) } ?? text.startIndex)])
            return complete.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
        }
        func withoutMarker(_ lines: [String]) -> [String] {
            // The score file's marker line (a stopped frame has no box) is not a kept frame.
            guard let last = lines.last, last.hasSuffix(",failed") || last.hasSuffix(",interrupted") || last.contains(",failed,") || last.contains(",interrupted,") else { return lines }
            return Array(lines.dropLast())
        }
        // Which copy of each file belongs to this run: the published one of a partial run; the
        // working one while running (or the published partial one it continues, when longer);
        // either while publishing (a file is in one place or the other). Always prefixes of one run.
        var sources: [String] = []
        var lines: [[String]] = []
        for file in paths.frameFiles {
            var candidates: [String]
            switch manifest.status {
            case .partial: candidates = [file]
            case .publishing: candidates = [paths.working(file), file]
            default: candidates = manifest.resumedAt.isEmpty ? [paths.working(file)] : [paths.working(file), file]
            }
            var best: (String, [String])?
            for c in candidates {
                guard let l = completeLines(c).map(withoutMarker) else { continue }
                if best == nil || l.count > best!.1.count { best = (c, l) }
            }
            if best == nil && manifest.status == .partial {
                throw EvaluationError("\(file): missing, so the run cannot be resumed (run it again with --force)")
            }
            sources.append(best?.0 ?? paths.working(file))
            lines.append(best?.1 ?? [])
        }
        let kept = lines.map(\.count).min() ?? 0
        lines = lines.map { Array($0.prefix(kept)) }
        for (k, line) in lines[3].enumerated() where line.split(separator: ",").contains(where: { Double($0) == nil }) {
            throw EvaluationError("\(sources[3]):\(k + 1): not a tracker state ('\(line)'); run it again with --force")
        }
        return TrackRunResumePoint(manifest: manifest, lines: lines)
    }
}
