import ETData
import ArgumentParser
import ETCore
import ETEvaluation
import ETImage
import ETTracking
import Foundation

/// `etrack track`: follow one object through a frame folder or a video.
struct Track: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Track one object through a sequence folder or a video.",
        discussion: """
        A sequence folder holds img/ (frames sorted by name) and groundtruth.txt (x,y,w,h per line); \
        --init defaults to its first line. --output gets one x,y,w,h line per frame (the first is the \
        init box), with <output>_time.txt (seconds per frame), <output>_score.txt (raw score, \
        confidence, state; with --diagnostics also PSR and template similarity) and <output>_run.json \
        (status complete or partial, frames, why it stopped, warnings) beside it. Lines are written to \
        <file>.partial as each frame is tracked, so a killed run keeps every finished frame; at the end \
        the files are renamed into place together. Existing files are not overwritten unless --force is given. \
        A run that cannot go on (the tracker fails, as cv2.TrackerVit 5.0 throws when its window leaves the frame; \
        a network returns NaN; a frame cannot be read or changes size; SIGINT or SIGTERM) stops there: every frame \
        tracked before it is kept, the score file gets one more line for that frame with state 'failed' or \
        'interrupted' (and no box), _run.json says 'partial' and why, the reason goes to stderr, and the exit status \
        is 1 (130 when interrupted). --resume continues such a run (or one killed with SIGKILL) from its last kept \
        frame: the tracker is initialised on the first frame with the same box and its saved state is put back, \
        so the result equals an uninterrupted run's. A fractional --init is truncated to integers in --mode opencv, \
        as OpenCV's Python binding takes only integer boxes; negative coordinates are allowed (--init -10,5,40,30).
        """)

    @Option(help: "A NanoTrack model folder (backbone.onnx + head.onnx), or a one-stream .onnx file (TrackerVit interface; etrack export writes them).")
    var model: String

    @Option(help: "A sequence folder (img/ + groundtruth.txt).")
    var sequence: String?

    @Option(help: "A video file (read with ffmpeg).")
    var video: String?

    // .unconditional: "-10,5,40,30" is a box partly left of the frame, not an option.
    @Option(parsing: .unconditional, help: "Initial box x,y,w,h in pixels of the first frame (default: first line of groundtruth.txt). Commas or spaces; negative x, y are allowed.")
    var `init`: String?

    @Option(help: "Write one x,y,w,h line per frame here (default: print to standard output).")
    var output: String?

    @Option(help: "Threads for the network.")
    var threads: Int = 1

    @OptionGroup var modeOptions: TrackerModeOptions

    @Option(help: "Write annotated frames: a video file (.mp4, .avi, .mkv) or a folder for PNG frames.")
    var render: String?

    @Flag(help: "Add the peak-to-sidelobe ratio and template similarity to each line of the score file.")
    var diagnostics = false

    @Flag(help: "Overwrite existing output files.")
    var force = false

    @Flag(help: "Continue the stopped or killed run at --output from its last kept frame (same arguments).")
    var resume = false

    @Flag(name: .customLong("allow-frame-gaps"), help: "Accept a frame folder whose numbered file names skip numbers (by default a gap is an error: a frame is missing).")
    var allowFrameGaps = false

    func validate() throws {
        guard (sequence == nil) != (video == nil) else { throw ValidationError("give exactly one of --sequence DIR or --video FILE") }
        guard threads >= 1 && threads <= 64 else { throw ValidationError("--threads must be between 1 and 64") }
        if video != nil && `init` == nil { throw ValidationError("--video needs --init x,y,w,h (videos carry no ground truth)") }
        if let i = `init` { _ = try Self.parseInit(i) }
        if resume && output == nil { throw ValidationError("--resume needs --output: the run to continue") }
        if resume && force { throw ValidationError("give --resume (continue the run) or --force (start it again), not both") }
    }

    /// The --init box, or a message that says what is wrong with it.
    static func parseInit(_ text: String) throws -> BoundingBox {
        guard let box = BoundingBox(parsing: text.trimmingCharacters(in: .whitespaces)) else {
            throw ValidationError("--init '\(text)' is not four numbers x,y,w,h (commas or spaces, e.g. --init 10,20,40,30 or --init=-5,20,40,30)")
        }
        guard box.x.isFinite, box.y.isFinite, box.width.isFinite, box.height.isFinite else {
            throw ValidationError("--init '\(text)': every value must be finite")
        }
        guard box.width > 0, box.height > 0 else {
            throw ValidationError("--init '\(text)': width and height must be > 0 (x and y may be negative: a box partly outside the frame)")
        }
        return box
    }

    /// What decides the results, recorded in _run.json so --resume can refuse a different run.
    private func runRecord(initBox: BoundingBox) -> TrackRunManifest.Run {
        return TrackRunManifest.Run(model: model.absolutePath, source: (sequence ?? video!).absolutePath, initBox: initBox.description,
                                    options: "mode=\(modeOptions.mode ?? "default") opencv-version=\(modeOptions.openCVVersion ?? "default") diagnostics=\(diagnostics)")
    }

    func run() throws {
        let paths = output.map { TrackRunPaths(boxes: $0) }
        if let paths, !force, !resume {
            for f in paths.all where FileManager.default.fileExists(atPath: f) {
                throw ValidationError("\(f) exists; pass --force to overwrite it, or --resume to continue a stopped run")
            }
        }
        // Before any work: a run that tracks every frame and then cannot write loses it all.
        if let paths { try TrackRunWriter.checkWritable(folder: paths.folder) }
        let source: FrameSource
        var initBox: BoundingBox
        if let sequence {
            let seq = try FolderDataset.loadSequence(at: sequence, groundTruth: `init` == nil ? .required : .ignored, allowNumberingGaps: allowFrameGaps)
            source = FrameSource(paths: seq.framePaths)
            if let i = `init` { initBox = try Self.parseInit(i) } else {
                guard let first = seq.initialBox else { throw ValidationError("\(sequence)/groundtruth.txt: the first box is NaN; give --init") }
                initBox = first
            }
        } else {
            source = FrameSource(video: try VideoReader(path: video!))
            initBox = try Self.parseInit(`init`!)
        }
        let record = runRecord(initBox: initBox)
        let resumePoint = try paths.flatMap { resume ? try TrackRunWriter.resumePoint($0, expecting: record) : nil }
        let factory = try TrackerLoader.load(model: model, options: try modeOptions.trackerOptions(threads: threads))
        let tracker = factory()
        var renderer = try render.map { try FrameRenderer(path: $0, force: force || resume) }
        let progress = ProgressLine(enabled: true)
        let interrupt = InterruptFlag()
        var writer: TrackRunWriter?
        var index = 0
        var framesThisRun = 0
        let started = Date()

        if let resumePoint, resumePoint.frames > 0 {
            index = try replay(resumePoint, source: source, tracker: tracker, initBox: initBox, renderer: &renderer)
            FileHandle.standardError.write(Data("resuming \(paths!.boxes) at frame \(index + 1) (\(index) frames kept)\n".utf8))
        }
        // Why the run ended before the last frame: the frame (0-based) and the reason.
        var stop: (frame: Int, state: String, reason: String)?
        while true {
            if let signal = interrupt.signalName {
                stop = (index, "interrupted", "interrupted by \(signal)")
                break
            }
            let frame: Image
            do {
                guard let f = try source.next() else { break }
                frame = f
            } catch {
                if index == 0 { throw error }  // nothing tracked yet: a plain error
                stop = (index, "failed", "the frame could not be used: \(error)")
                break
            }
            let start = DispatchTime.now().uptimeNanoseconds
            let result: TrackingResult
            if index == 0 {
                try tracker.initialize(frame: frame, box: initBox)
                result = TrackingResult(box: initBox, rawScore: 1, confidence: 1, state: .tracking)
            } else {
                do { result = try tracker.update(frame: frame) } catch {
                    stop = (index, "failed", "the tracker failed: \(error)")
                    break
                }
            }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
            var scoreLine = String(format: "%.6f,%.6f,%@", result.rawScore, result.confidence, result.state.rawValue)
            if diagnostics {
                scoreLine += "," + [result.peakToSidelobeRatio, result.templateSimilarity].map { $0.map { String(format: "%.6f", $0) } ?? "nan" }.joined(separator: ",")
            }
            if let paths {
                // Made after the first frame starts tracking, so a run that fails at once leaves no files.
                if writer == nil {
                    writer = try TrackRunWriter(paths: paths, run: record, sourceFrames: source.count, render: render, resume: resumePoint)
                }
                try writer!.append(box: result.box.description, time: String(format: "%.6f", seconds), score: scoreLine,
                                   state: (tracker as? ResumableTracker)?.resumeState ?? [])
            } else {
                print(result.box.description)
                fflush(stdout)
            }
            try renderer?.add(frame, result: result, index: index)
            index += 1
            framesThisRun += 1
            let rate = Double(framesThisRun) / max(Date().timeIntervalSince(started), 1e-9)
            let eta = source.count.map { String(format: ", ETA %.0fs", Double(max($0 - index, 0)) / rate) } ?? ""
            progress.show("tracking: \(index)" + (source.count.map { "/\($0)" } ?? "") + String(format: " frames, %.1f frames/s", rate) + eta)
        }
        progress.finish()
        guard index > 0 else { throw ValidationError("no frames could be read") }
        try renderer?.close()
        var warnings: [String] = []
        if stop == nil, let declared = source.declaredFrames, index < declared {
            warnings.append("\(video ?? ""): the container declares \(declared) frames but only \(index) could be decoded (truncated or damaged video)")
        }
        for w in warnings { FileHandle.standardError.write(Data("etrack track: warning: \(w)\n".utf8)) }
        if let paths {
            if writer == nil { writer = try TrackRunWriter(paths: paths, run: record, sourceFrames: source.count, render: render, resume: resumePoint) }
            let manifest = try writer!.finish(
                stop: stop.map { .init(frame: $0.frame + 1, state: $0.state, reason: $0.reason) },
                // The frame where the run stopped gets a score line of its own and no box.
                markerScoreLine: stop.map { "nan,0.000000,\($0.state)" + (diagnostics ? ",nan,nan" : "") }, warnings: warnings)
            try renderer?.publish()
            let rate = Double(framesThisRun) / max(Date().timeIntervalSince(started), 1e-9)
            FileHandle.standardError.write(Data(("wrote \(paths.boxes), \(paths.times), \(paths.scores) (\(manifest.frames) frames, "
                + String(format: "%.1f frames/s", rate) + "; \(paths.manifest): \(manifest.status.rawValue))\n").utf8))
        } else {
            try renderer?.publish()
        }
        if let stop {
            let name = source.name(ofFrame: stop.frame)
            FileHandle.standardError.write(Data(("etrack track: stopped at frame \(stop.frame + 1)\(name.map { " (\($0))" } ?? ""): \(stop.reason)\n"
                + "etrack track: kept the \(index) frames tracked before it" + (paths.map { "; \($0.scores) ends with a '\(stop.state)' line; continue with --resume" } ?? "") + "\n").utf8))
            throw ExitCode(stop.state == "interrupted" ? 130 : 1)
        }
    }

    /// Brings the tracker and the render to where a stopped run left off, and returns the next
    /// frame's index. The tracker is initialised on frame 1 with the run's box (the same template)
    /// and given the state saved after the last kept frame; a tracker that cannot save its state
    /// is initialised on the last kept frame with its box instead.
    private func replay(_ point: TrackRunResumePoint, source: FrameSource, tracker: any SingleObjectTracker,
                        initBox: BoundingBox, renderer: inout FrameRenderer?) throws -> Int {
        let k = point.frames
        let state = point.lastState
        var last: Image?
        for i in 0..<k {
            let needed = i == 0 || i == k - 1 || renderer != nil || source.isVideo
            guard needed else { source.skip(); continue }
            guard let frame = try source.next() else {
                throw ValidationError("the run kept \(k) frames but the source now has only \(i)")
            }
            if i == 0 { try tracker.initialize(frame: frame, box: initBox) }
            if renderer != nil {
                let box = BoundingBox(parsing: point.lines[0][i]) ?? initBox
                let f = point.lines[2][i].split(separator: ",")
                let result = TrackingResult(box: box, rawScore: f.count > 0 ? Double(f[0]) ?? 0 : 0, confidence: f.count > 1 ? Double(f[1]) ?? 0 : 0,
                                            state: f.count > 2 ? TrackingState(rawValue: String(f[2])) ?? .tracking : .tracking)
                try renderer!.add(frame, result: result, index: i)
            }
            last = frame
        }
        if k > 1 {
            if let resumable = tracker as? ResumableTracker, !state.isEmpty {
                try resumable.restore(resumeState: state)
            } else if let last, let box = BoundingBox(parsing: point.lines[0][k - 1]) {
                try tracker.initialize(frame: last, box: box)
            }
        }
        return k
    }
}

/// SIGINT and SIGTERM set a flag that the tracking loop reads between frames, so the frame in
/// hand is finished and everything tracked is written before the process exits.
final class InterruptFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var received: String?
    private var sources: [DispatchSourceSignal] = []

    /// - Parameter onSignal: also called on the first signal (e.g. to set a runner's cancellation).
    init(onSignal: (@Sendable () -> Void)? = nil) {
        for (number, name) in [(SIGINT, "SIGINT"), (SIGTERM, "SIGTERM")] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [weak self] in
                guard let self else { return }
                self.lock.lock(); defer { self.lock.unlock() }
                if self.received != nil { exit(128 + number) }  // a second signal: stop at once
                self.received = name
                onSignal?()
            }
            source.resume()
            sources.append(source)
        }
    }

    /// The name of the signal received, nil while none was.
    var signalName: String? { lock.lock(); defer { lock.unlock() }; return received }
}

/// Frames from a folder (decoded on demand, one at a time) or a video. Every frame must have
/// the first frame's size: a tracker's state is in that frame's pixels.
final class FrameSource {
    private let paths: [String]?
    private let video: VideoReader?
    private var position = 0
    private var size: (width: Int, height: Int)?

    init(paths: [String]) { self.paths = paths; video = nil }
    init(video: VideoReader) { self.video = video; paths = nil }

    var count: Int? { paths?.count ?? video?.frameCount }
    /// The number of frames a video's container declares (nil for folders).
    var declaredFrames: Int? { video?.frameCount }
    var isVideo: Bool { video != nil }

    /// The file of a frame (0-based) of a folder; nil for videos.
    func name(ofFrame k: Int) -> String? {
        guard let paths, k < paths.count else { return nil }
        return paths[k]
    }

    /// Moves past the next folder frame without decoding it.
    func skip() { position += 1 }

    func next() throws -> Image? {
        let frame: Image
        if let video {
            guard let f = try video.nextFrame() else { return nil }
            frame = f
        } else {
            guard let paths, position < paths.count else { return nil }
            position += 1
            frame = try ImageIO.read(path: paths[position - 1])
        }
        let k = (video?.framesRead ?? position)
        if let size, (frame.width, frame.height) != size {
            throw TrackingError("frame \(k)\(name(ofFrame: k - 1).map { " (\($0))" } ?? "") is \(frame.width)x\(frame.height), but the first frame is \(size.width)x\(size.height); every frame must have one size")
        }
        if size == nil { size = (frame.width, frame.height) }
        return frame
    }
}

/// Draws the box, frame number and confidence, and writes frames to a video or a folder. A video
/// is written as `name.partial.ext` and renamed into place with the result files, so a killed
/// run never leaves a truncated video under the final name.
struct FrameRenderer {
    let path: String
    var writer: VideoWriter?
    let isVideo: Bool
    /// Where the frames go until `publish`.
    let workingPath: String

    init(path: String, force: Bool) throws {
        self.path = path
        let ext = (path).pathExtensionName.lowercased()
        isVideo = ["mp4", "avi", "mkv", "mov"].contains(ext)
        workingPath = isVideo ? (path).pathDeletingExtension + ".partial." + (path).pathExtensionName : path
        if FileManager.default.fileExists(atPath: path) && !force && (isVideo || !((try? FileManager.default.contentsOfDirectory(atPath: path))?.isEmpty ?? true)) {
            throw ValidationError("\(path) exists; pass --force to overwrite it")
        }
        let folder = isVideo ? (path).pathDeletingLastComponent : path
        if !folder.isEmpty { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) }
    }

    mutating func add(_ frame: Image, result: TrackingResult, index: Int) throws {
        var f = frame
        let color: [UInt8] = result.state == .tracking ? [0, 255, 0] : (result.state == .uncertain ? [255, 200, 0] : [255, 0, 0])
        let b = result.box
        ImageOps.drawRectangle(&f, x: Int(b.x.rounded()), y: Int(b.y.rounded()), width: Int(b.width.rounded()), height: Int(b.height.rounded()), color: color, thickness: 2)
        ImageOps.drawText(&f, String(format: "#%d %@ %.2f", index + 1, result.state.rawValue, result.confidence), x: 4, y: 4, color: [255, 255, 255], scale: 2, background: [0, 0, 0])
        if isVideo {
            if writer == nil { writer = try VideoWriter(path: workingPath, width: f.width, height: f.height, fps: 25) }
            try writer!.write(f)
        } else {
            try ImageIO.write(f, to: (path).pathAppending(String(format: "%08d.png", index + 1)))
        }
    }

    func close() throws { try writer?.close() }

    /// Renames a finished video into place (a frame folder is written in place).
    func publish() throws {
        guard isVideo, FileManager.default.fileExists(atPath: workingPath) else { return }
        if FileManager.default.fileExists(atPath: path) { try FileManager.default.removeItem(atPath: path) }
        try FileManager.default.moveItem(atPath: workingPath, toPath: path)
    }
}
