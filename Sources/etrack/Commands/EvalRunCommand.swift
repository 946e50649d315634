import ArgumentParser
import ETEvaluation
import ETImage
import ETTracking
import Foundation

/// `etrack eval run`: one-pass evaluation of a tracker, resumable and shardable.
struct EvalRun: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a tracker over a benchmark and write pytracking-layout results.",
        discussion: """
        Writes <results>/<seq>.txt (x,y,w,h per frame) and <seq>_time.txt. Finished sequences are \
        skipped, so an interrupted run resumes where it stopped. With --shard i/N (or under a Slurm \
        array: SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT, or a Kubernetes indexed Job: \
        JOB_COMPLETION_INDEX with --shard-count/ETRACK_SHARD_COUNT) only every N-th sequence is run, \
        so many machines can share one results folder.
        """)

    @Option(name: .long, help: "Tracker model: anything `etrack track --model` takes (a NanoTrack folder, a one-stream .onnx file, a .safetensors checkpoint or a configuration name).")
    var tracker: String

    @OptionGroup var data: DatasetOptions

    @Option(name: .long, help: "Results folder.")
    var results: String

    @Option(name: .long, help: "Sequences tracked in parallel (one tracker each).")
    var jobs: Int = 1

    @Option(name: .long, help: "Threads per tracker.")
    var threads: Int = 1

    @OptionGroup var modeOptions: TrackerModeOptions

    @Option(name: .long, help: "Run only shard i of N (0-based), e.g. 2/8.")
    var shard: String?

    @Option(name: .long, help: "Number of shards when the index comes from JOB_COMPLETION_INDEX (or overrides SLURM_ARRAY_TASK_COUNT).")
    var shardCount: Int?

    @Flag(name: .long, help: "Run sequences again even when finished results exist.")
    var overwrite = false

    @Flag(name: .long, help: "No progress line.")
    var quiet = false

    func validate() throws {
        guard jobs >= 1 else { throw ValidationError("--jobs must be at least 1, got \(jobs)") }
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1, got \(threads)") }
        if let shardCount, shardCount < 1 { throw ValidationError("--shard-count must be at least 1") }
        if let shard { _ = try Shard(parsing: shard) }
    }

    func run() throws {
        var seqs = try data.load()
        let shardSel: Shard?
        if let shard { shardSel = try Shard(parsing: shard) }
        else { shardSel = try Shard.fromEnvironment(ProcessInfo.processInfo.environment, countOverride: shardCount) }
        if let s = shardSel { seqs = s.select(seqs) }
        let factory = try TrackerLoader.load(model: tracker, options: try modeOptions.trackerOptions(threads: threads))
        let runner = OPERunner(sequences: seqs, makeTracker: { factory() }, loadFrame: { try ImageIO.read(path: $0) },
                               options: .init(resultsDir: results, jobs: jobs, overwrite: overwrite))
        let prefix = shardSel.map { "[shard \($0)] " } ?? ""
        let line = ProgressLine(enabled: !quiet)
        FileHandle.standardError.write(Data("\(prefix)\(seqs.count) sequences, \(seqs.reduce(0) { $0 + $1.count }) frames -> \(results)\n".utf8))
        // SIGINT/SIGTERM: the sequences in hand stop between frames; finished ones are kept, and the
        // next run skips them.
        let interrupt = InterruptFlag(onSignal: { [runner] in runner.cancellation.set() })
        let outcomes = try runner.run(progress: { p in line.show(prefix + ProgressLine.format(p)) },
                                      notice: { text in line.note(prefix + text) })
        line.finish()
        if let signal = interrupt.signalName {
            let done = outcomes.filter { if case .failed = $0.1 { return false } else { return true } }.count
            FileHandle.standardError.write(Data("\(prefix)interrupted by \(signal): \(done) of \(outcomes.count) sequences finished and kept; run the same command again to continue\n".utf8))
            throw ExitCode(130)
        }
        let failed = outcomes.filter { if case .failed = $0.1 { return true } else { return false } }
        let ran = outcomes.filter { if case .ran = $0.1 { return true } else { return false } }.count
        let skipped = outcomes.filter { $0.1 == .skipped }.count
        print("\(prefix)ran \(ran), skipped \(skipped) (already finished), failed \(failed.count)")
        for (name, o) in failed { if case .failed(let why) = o { print("  \(name): \(why)") } }
        if !failed.isEmpty { throw ExitCode(1) }
    }
}

/// The progress line on stderr: rewritten in place on a terminal, one line every 10 s otherwise
/// (so cluster logs stay short).
final class ProgressLine: @unchecked Sendable {
    let enabled: Bool
    let tty = isatty(2) != 0
    var last = Date.distantPast
    let lock = NSLock()
    init(enabled: Bool) { self.enabled = enabled }

    func show(_ text: String) {
        guard enabled else { return }
        lock.lock(); defer { lock.unlock() }
        latest = text
        // A terminal line is redrawn at most 4 times a second; a log gets a line every 10 s.
        guard Date().timeIntervalSince(last) >= (tty ? 0.25 : 10) else { return }
        if tty { last = Date(); FileHandle.standardError.write(Data("\r\u{1B}[K\(text)".utf8)); return }
        last = Date()
        FileHandle.standardError.write(Data("\(text)\n".utf8))
    }

    private var latest: String?

    /// A line of its own (above the progress line on a terminal).
    func note(_ text: String) {
        lock.lock(); defer { lock.unlock() }
        FileHandle.standardError.write(Data(((tty ? "\r\u{1B}[K" : "") + text + "\n").utf8))
    }
    /// Ends the line, redrawing it first with the final counts.
    func finish() {
        guard enabled, tty else { return }
        lock.lock(); defer { lock.unlock() }
        FileHandle.standardError.write(Data("\r\u{1B}[K\(latest ?? "")\n".utf8))
    }

    static func format(_ p: OPERunner.Progress) -> String {
        let eta = p.etaSeconds.map { d -> String in
            let s = Int(d.rounded()); return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%d:%02d", s / 60, s % 60)
        } ?? "--:--"
        return "\(p.sequencesDone)/\(p.sequencesTotal) sequences, \(p.framesDone)/\(p.framesTotal) frames, " +
            String(format: "%.1f", p.framesPerSecond) + " fps, ETA \(eta)  \(p.current)"
    }
}
