import ETData
import Foundation
import ETImage
import ETTracking

/// Runs one-pass evaluation (OPE) of a tracker over sequences and writes pytracking-layout result
/// files, resumably and in parallel.
///
/// For each sequence: a fresh tracker is initialised on frame 0 with the ground-truth box, then
/// updated on every following frame. Row 0 of `<seq>.txt` is the initial box (as pytracking
/// writes it); `<seq>_time.txt` holds the tracker's own time per frame (initialise or update; frame
/// decoding is not counted).
///
/// Resuming: a sequence is finished when `<seq>.txt` exists with one row per frame. Both files are
/// written to a temporary name and renamed into place, the time file first, so a run killed at any
/// point leaves either a complete result or none. Finished sequences are skipped.
public final class OPERunner: @unchecked Sendable {
    /// Builds a fresh tracker for one sequence (`TrackerLoader.load`'s factory fits).
    public typealias TrackerFactory = @Sendable () throws -> any SingleObjectTracker
    /// Decodes one frame (`ImageIO.read(path:)` in the CLI; a fake in tests).
    public typealias FrameLoader = @Sendable (String) throws -> Image

    public struct Options: Sendable {
        /// Where `<seq>.txt` and `<seq>_time.txt` go (created if needed).
        public var resultsDir: String
        /// Sequences run at the same time (each with its own tracker).
        public var jobs: Int = 1
        /// Run again even when a finished result exists.
        public var overwrite: Bool = false
        public init(resultsDir: String, jobs: Int = 1, overwrite: Bool = false) {
            self.resultsDir = resultsDir; self.jobs = jobs; self.overwrite = overwrite
        }
    }

    /// What happened to one sequence.
    public enum Outcome: Equatable, Sendable {
        case ran(frames: Int, seconds: Double)
        case skipped
        case failed(String)
    }

    /// Progress after each sequence (and periodically within one), for the progress line.
    public struct Progress: Sendable {
        public var sequencesDone: Int, sequencesTotal: Int
        public var framesDone: Int, framesTotal: Int
        /// Frames tracked per wall-clock second in this process (all jobs together).
        public var framesPerSecond: Double
        /// Seconds left at the current rate, nil before the first frame.
        public var etaSeconds: Double?
        public var current: String
    }

    let sequences: [TrackingSequence]
    let makeTracker: TrackerFactory
    let loadFrame: FrameLoader
    let options: Options
    /// Set to stop the run between frames (tests use it to simulate a kill; the CLI on SIGINT/SIGTERM).
    public let cancellation: CancellationFlag

    public init(sequences: [TrackingSequence], makeTracker: @escaping TrackerFactory,
                loadFrame: @escaping FrameLoader, options: Options, cancellation: CancellationFlag = CancellationFlag()) {
        self.sequences = sequences; self.makeTracker = makeTracker; self.loadFrame = loadFrame; self.options = options
        self.cancellation = cancellation
    }

    /// Path of a sequence's box file.
    public func resultPath(_ s: TrackingSequence) -> String { DatasetFiles.join(options.resultsDir, s.name + ".txt") }
    public func timePath(_ s: TrackingSequence) -> String { DatasetFiles.join(options.resultsDir, s.name + "_time.txt") }

    /// Whether a sequence already has a complete result: see `resultProblem`.
    public func isFinished(_ s: TrackingSequence) -> Bool { resultProblem(s) == nil }

    /// Why a sequence's existing files are not a finished result (nil when they are): the box file
    /// must parse, hold one finite box with w, h >= 0 per frame, and the time file one finite time
    /// >= 0 per frame. Anything else (garbage of the right length, a deleted time file) is run again.
    public func resultProblem(_ s: TrackingSequence) -> String? {
        let p = resultPath(s), t = timePath(s)
        guard DatasetFiles.isFile(p) else { return "no result file" }
        let rows: [Box4]
        do { rows = try ResultFiles.readBoxes(p) } catch { return "\(error)" }
        guard rows.count == s.count else { return "\(p): \(rows.count) boxes for \(s.count) frames" }
        if let k = rows.firstIndex(where: { !($0.x.isFinite && $0.y.isFinite && $0.w.isFinite && $0.h.isFinite && $0.w >= 0 && $0.h >= 0) }) {
            return "\(p):\(k + 1): not a finite box with w, h >= 0"
        }
        guard DatasetFiles.isFile(t) else { return "\(t) is missing" }
        let times: [Double]
        do { times = try ResultFiles.readTimes(t) } catch { return "\(error)" }
        guard times.count == s.count else { return "\(t): \(times.count) times for \(s.count) frames" }
        if let k = times.firstIndex(where: { !$0.isFinite || $0 < 0 }) { return "\(t):\(k + 1): not a finite time >= 0" }
        return nil
    }

    /// Runs every sequence and returns the outcome per sequence name (in input order).
    /// Failures do not stop the other sequences; they are returned (and the CLI exits non-zero).
    /// - Parameter progress: called from worker threads, serialised by the runner.
    /// - Parameter notice: told why a sequence with existing files is run again.
    public func run(progress: (@Sendable (Progress) -> Void)? = nil, notice: (@Sendable (String) -> Void)? = nil) throws -> [(String, Outcome)] {
        try FileManager.default.createDirectory(atPath: options.resultsDir, withIntermediateDirectories: true)
        for s in sequences where s.groundTruth.isEmpty || s.initialBox == nil {
            throw EvaluationError("sequence \(s.name): no initial box (ground truth of frame 0)")
        }
        let state = RunState(sequences: sequences)
        let start = Date()
        let lock = NSLock()
        let total = sequences.count
        let report: @Sendable (String) -> Void = { current in
            guard let progress else { return }
            lock.lock(); defer { lock.unlock() }
            let elapsed = Date().timeIntervalSince(start)
            // The counters under the state's own lock: workers update them as they go.
            let counts = state.snapshot()
            let fps = elapsed > 0 ? Double(counts.framesRun) / elapsed : 0
            let left = state.framesTotal - counts.framesDone
            progress(Progress(sequencesDone: counts.sequencesDone, sequencesTotal: total,
                              framesDone: counts.framesDone, framesTotal: state.framesTotal,
                              framesPerSecond: fps, etaSeconds: fps > 0 ? Double(left) / fps : nil, current: current))
        }
        let jobs = max(1, min(options.jobs, sequences.count))
        let threads = (0..<jobs).map { _ in
            Thread { [self] in
                while let i = state.next(), !cancellation.isSet {
                    let s = sequences[i]
                    let outcome = runOne(s, state: state, report: report, notice: notice)
                    state.finish(i, outcome, frames: s.count)
                    report(s.name)
                }
                state.workerDone()
            }
        }
        threads.forEach { $0.stackSize = 8 << 20; $0.start() }
        state.waitForWorkers(jobs)
        return state.outcomes.enumerated().map { (sequences[$0.offset].name, $0.element ?? .failed("not run (cancelled)")) }
    }

    func runOne(_ s: TrackingSequence, state: RunState, report: @Sendable (String) -> Void, notice: (@Sendable (String) -> Void)?) -> Outcome {
        if !options.overwrite {
            guard let problem = resultProblem(s) else { return .skipped }
            if DatasetFiles.isFile(resultPath(s)) || DatasetFiles.isFile(timePath(s)) { notice?("\(s.name): running again: \(problem)") }
        }
        do {
            let tracker = try makeTracker()
            var boxes: [BoundingBox] = [], times: [Double] = []
            boxes.reserveCapacity(s.count); times.reserveCapacity(s.count)
            let t0 = Date()
            var lastReport = Date()
            for (k, path) in s.framePaths.enumerated() {
                if cancellation.isSet { return .failed("cancelled") }
                let frame = try loadFrame(path)
                let c0 = DispatchTime.now().uptimeNanoseconds
                if k == 0 {
                    let box = s.initialBox!
                    try tracker.initialize(frame: frame, box: box)
                    boxes.append(box)
                } else {
                    let r = try tracker.update(frame: frame)
                    let b = r.box
                    guard b.x.isFinite, b.y.isFinite, b.width.isFinite, b.height.isFinite, b.width >= 0, b.height >= 0 else {
                        throw EvaluationError("frame \(k): the tracker returned an invalid box \(b) (must be finite with w, h >= 0)")
                    }
                    boxes.append(b)
                }
                times.append(Double(DispatchTime.now().uptimeNanoseconds - c0) / 1e9)
                state.addFrames(1)
                if Date().timeIntervalSince(lastReport) > 1 { lastReport = Date(); report(s.name) }
            }
            try ResultFiles.writeAtomically(ResultFiles.timeText(times), to: timePath(s))
            try ResultFiles.writeAtomically(ResultFiles.boxText(boxes), to: resultPath(s))
            return .ran(frames: s.count, seconds: Date().timeIntervalSince(t0))
        } catch {
            return .failed("\(error)")
        }
    }
}

/// A flag set once from any thread.
public final class CancellationFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    public init() {}
    public func set() { lock.lock(); value = true; lock.unlock() }
    public var isSet: Bool { lock.lock(); defer { lock.unlock() }; return value }
}

/// Work queue and counters shared by the runner's worker threads.
final class RunState: @unchecked Sendable {
    private let lock = NSCondition()
    private var nextIndex = 0
    private var finishedWorkers = 0
    private let counts: [Int]
    var outcomes: [OPERunner.Outcome?]
    private(set) var sequencesDone = 0
    /// Frames of finished or skipped sequences plus frames tracked so far in running ones.
    private(set) var framesDone = 0
    /// Frames actually tracked by this process (for the rate).
    private(set) var framesRun = 0
    let framesTotal: Int

    init(sequences: [TrackingSequence]) {
        counts = sequences.map(\.count)
        outcomes = Array(repeating: nil, count: sequences.count)
        framesTotal = counts.reduce(0, +)
    }

    func next() -> Int? {
        lock.lock(); defer { lock.unlock() }
        guard nextIndex < counts.count else { return nil }
        nextIndex += 1
        return nextIndex - 1
    }

    func snapshot() -> (sequencesDone: Int, framesDone: Int, framesRun: Int) {
        lock.lock(); defer { lock.unlock() }
        return (sequencesDone, framesDone, framesRun)
    }

    func addFrames(_ n: Int) { lock.lock(); framesDone += n; framesRun += n; lock.unlock() }

    func finish(_ i: Int, _ o: OPERunner.Outcome, frames: Int) {
        lock.lock()
        outcomes[i] = o
        sequencesDone += 1
        if o == .skipped { framesDone += frames }
        lock.unlock()
    }

    func workerDone() { lock.lock(); finishedWorkers += 1; lock.broadcast(); lock.unlock() }

    func waitForWorkers(_ n: Int) {
        lock.lock()
        while finishedWorkers < n { lock.wait() }
        lock.unlock()
    }
}
