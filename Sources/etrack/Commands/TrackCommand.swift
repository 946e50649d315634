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
        init box), with <output>_time.txt (seconds per frame) and <output>_score.txt (raw score, \
        confidence, state; with --diagnostics also PSR and template similarity) beside it. Existing files are not overwritten unless --force is given. \
        A run that cannot go on (the tracker fails, as cv2.TrackerVit 5.0 throws when its window leaves the frame; a frame \
        cannot be read; SIGINT or SIGTERM) stops there: every frame tracked before it is written, the score file gets one \
        more line for that frame with state 'failed' or 'interrupted' (and no box), the reason goes to stderr, and the \
        exit status is 1 (130 when interrupted). A fractional --init is truncated to integers in --mode opencv, as \
        OpenCV's Python binding takes only integer boxes.
        """)

    @Option(help: "A NanoTrack model folder (backbone.onnx + head.onnx), or a one-stream .onnx file (TrackerVit interface; etrack export writes them).")
    var model: String

    @Option(help: "A sequence folder (img/ + groundtruth.txt).")
    var sequence: String?

    @Option(help: "A video file (read with ffmpeg).")
    var video: String?

    @Option(help: "Initial box x,y,w,h in pixels of the first frame (default: first line of groundtruth.txt).")
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

    func validate() throws {
        guard (sequence == nil) != (video == nil) else { throw ValidationError("give exactly one of --sequence DIR or --video FILE") }
        guard threads >= 1 && threads <= 64 else { throw ValidationError("--threads must be between 1 and 64") }
        if video != nil && `init` == nil { throw ValidationError("--video needs --init x,y,w,h (videos carry no ground truth)") }
        if let i = `init`, BoundingBox(parsing: i) == nil { throw ValidationError("--init '\(i)' is not four numbers x,y,w,h") }
    }

    func run() throws {
        let outputs = output.map { TrackOutputFiles(boxes: $0) }
        if let outputs {
            if !force {
                for f in outputs.all where FileManager.default.fileExists(atPath: f) {
                    throw ValidationError("\(f) exists; pass --force to overwrite it")
                }
            }
            // Before any work: a run that tracks every frame and then cannot write loses it all.
            try outputs.checkWritable()
        }
        let factory = try TrackerLoader.load(model: model, options: try modeOptions.trackerOptions(threads: threads))
        let tracker = factory()
        let source: FrameSource
        if let sequence {
            let seq = try FolderDataset.loadSequence(at: sequence, groundTruth: `init` == nil ? .required : .ignored)
            source = FrameSource(paths: seq.framePaths)
        } else {
            source = FrameSource(video: try VideoReader(path: video!))
        }
        var initBox: BoundingBox
        if let i = `init` {
            initBox = BoundingBox(parsing: i)!
        } else {
            let seq = try FolderDataset.loadSequence(at: sequence!, groundTruth: .required)
            guard let first = seq.initialBox else { throw ValidationError("\(sequence!)/groundtruth.txt: the first box is NaN; give --init") }
            initBox = first
        }
        var renderer = try render.map { try FrameRenderer(path: $0, force: force) }
        var lines: [String] = [], times: [String] = [], scores: [String] = []
        let progress = ProgressLine(enabled: true)
        let interrupt = InterruptFlag()
        let started = Date()
        var index = 0
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
                stop = (index, "failed", "the frame could not be read: \(error)")
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
            lines.append(result.box.description)
            times.append(String(format: "%.6f", seconds))
            var scoreLine = String(format: "%.6f,%.6f,%@", result.rawScore, result.confidence, result.state.rawValue)
            if diagnostics {
                scoreLine += "," + [result.peakToSidelobeRatio, result.templateSimilarity].map { $0.map { String(format: "%.6f", $0) } ?? "nan" }.joined(separator: ",")
            }
            scores.append(scoreLine)
            try renderer?.add(frame, result: result, index: index)
            index += 1
            let rate = Double(index) / max(Date().timeIntervalSince(started), 1e-9)
            let eta = source.count.map { String(format: ", ETA %.0fs", Double(max($0 - index, 0)) / rate) } ?? ""
            progress.show("tracking: \(index)" + (source.count.map { "/\($0)" } ?? "") + String(format: " frames, %.1f frames/s", rate) + eta)
        }
        progress.finish()
        guard index > 0 else { throw ValidationError("no frames could be read") }
        try renderer?.close()
        if let stop {
            // The frame where the run stopped gets a score line of its own and no box.
            scores.append("nan,0.000000,\(stop.state)" + (diagnostics ? ",nan,nan" : ""))
        }
        if let outputs {
            try outputs.write(boxes: lines, times: times, scores: scores)
            FileHandle.standardError.write(Data("wrote \(outputs.boxes), \(outputs.times), \(outputs.scores)\n".utf8))
        } else {
            print(lines.joined(separator: "\n"))
        }
        if let stop {
            let name = source.name(ofFrame: stop.frame)
            FileHandle.standardError.write(Data(("etrack track: stopped at frame \(stop.frame + 1)\(name.map { " (\($0))" } ?? ""): \(stop.reason)\n"
                + "etrack track: kept the \(index) frames tracked before it" + (outputs.map { "; \($0.scores) ends with a '\(stop.state)' line" } ?? "") + "\n").utf8))
            throw ExitCode(stop.state == "interrupted" ? 130 : 1)
        }
    }
}

/// SIGINT and SIGTERM set a flag that the tracking loop reads between frames, so the frame in
/// hand is finished and everything tracked is written before the process exits.
final class InterruptFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var received: String?
    private var sources: [DispatchSourceSignal] = []

    init() {
        for (number, name) in [(SIGINT, "SIGINT"), (SIGTERM, "SIGTERM")] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [weak self] in
                guard let self else { return }
                self.lock.lock(); defer { self.lock.unlock() }
                if self.received != nil { exit(128 + number) }  // a second signal: stop at once
                self.received = name
            }
            source.resume()
            sources.append(source)
        }
    }

    /// The name of the signal received, nil while none was.
    var signalName: String? { lock.lock(); defer { lock.unlock() }; return received }
}

/// Frames from a folder (decoded on demand, one at a time) or a video.
final class FrameSource {
    private let paths: [String]?
    private let video: VideoReader?
    private var position = 0

    init(paths: [String]) { self.paths = paths; video = nil }
    init(video: VideoReader) { self.video = video; paths = nil }

    var count: Int? { paths?.count ?? video?.frameCount }

    /// The file of a frame (0-based) of a folder; nil for videos.
    func name(ofFrame k: Int) -> String? {
        guard let paths, k < paths.count else { return nil }
        return paths[k]
    }

    func next() throws -> Image? {
        if let video { return try video.nextFrame() }
        guard let paths, position < paths.count else { return nil }
        position += 1
        return try ImageIO.read(path: paths[position - 1])
    }
}

/// The three result files of a run, named after the box file.
struct TrackOutputFiles {
    let boxes: String
    var stem: String { (boxes as NSString).deletingPathExtension }
    var times: String { stem + "_time.txt" }
    var scores: String { stem + "_score.txt" }
    var all: [String] { [boxes, times, scores] }

    /// Creates the folder if needed (and says so) and checks that a file can be created in it.
    func checkWritable() throws {
        let dir = (boxes as NSString).deletingLastPathComponent
        let folder = dir.isEmpty ? "." : dir
        if !FileManager.default.fileExists(atPath: folder) {
            do { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) } catch {
                throw ValidationError("cannot create the output folder \(folder): \(error.localizedDescription)")
            }
            FileHandle.standardError.write(Data("created the output folder \(folder)\n".utf8))
        }
        let probe = (folder as NSString).appendingPathComponent(".etrack-write-check-\(getpid())")
        guard FileManager.default.createFile(atPath: probe, contents: Data()) else {
            throw ValidationError("cannot write in the output folder \(folder) (read-only or no permission); nothing was tracked")
        }
        try? FileManager.default.removeItem(atPath: probe)
    }

    /// Writes each file to a temporary name, then renames it, so a file is never half-written.
    func write(boxes b: [String], times t: [String], scores s: [String]) throws {
        let dir = (boxes as NSString).deletingLastPathComponent
        if !dir.isEmpty { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
        for (path, lines) in [(boxes, b), (times, t), (scores, s)] {
            let tmp = path + ".partial"
            try (lines.joined(separator: "\n") + "\n").write(toFile: tmp, atomically: false, encoding: .utf8)
            if FileManager.default.fileExists(atPath: path) { try FileManager.default.removeItem(atPath: path) }
            try FileManager.default.moveItem(atPath: tmp, toPath: path)
        }
    }
}

/// Draws the box, frame number and confidence, and writes frames to a video or a folder.
struct FrameRenderer {
    let path: String
    var writer: VideoWriter?
    let isVideo: Bool

    init(path: String, force: Bool) throws {
        self.path = path
        let ext = (path as NSString).pathExtension.lowercased()
        isVideo = ["mp4", "avi", "mkv", "mov"].contains(ext)
        if FileManager.default.fileExists(atPath: path) && !force && (isVideo || !((try? FileManager.default.contentsOfDirectory(atPath: path))?.isEmpty ?? true)) {
            throw ValidationError("\(path) exists; pass --force to overwrite it")
        }
        let folder = isVideo ? (path as NSString).deletingLastPathComponent : path
        if !folder.isEmpty { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) }
    }

    mutating func add(_ frame: Image, result: TrackingResult, index: Int) throws {
        var f = frame
        let color: [UInt8] = result.state == .tracking ? [0, 255, 0] : (result.state == .uncertain ? [255, 200, 0] : [255, 0, 0])
        let b = result.box
        ImageOps.drawRectangle(&f, x: Int(b.x.rounded()), y: Int(b.y.rounded()), width: Int(b.width.rounded()), height: Int(b.height.rounded()), color: color, thickness: 2)
        ImageOps.drawText(&f, String(format: "#%d %@ %.2f", index + 1, result.state.rawValue, result.confidence), x: 4, y: 4, color: [255, 255, 255], scale: 2, background: [0, 0, 0])
        if isVideo {
            if writer == nil { writer = try VideoWriter(path: path, width: f.width, height: f.height, fps: 25) }
            try writer!.write(f)
        } else {
            try ImageIO.write(f, to: (path as NSString).appendingPathComponent(String(format: "%08d.png", index + 1)))
        }
    }

    func close() throws { try writer?.close() }
}
