import ArgumentParser
import ETCore
import ETData
import ETImage
import Foundation

/// `etrack data check|convert`: validate training data, and bring other layouts into ours.
struct DataCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "data", abstract: "Check training data, or convert it to the folder layout.",
        subcommands: [DataCheck.self, DataConvert.self])
}

struct DataCheck: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "List every problem of a dataset as path:line: messages (exit 1 when there is one).",
        discussion: """
        Checks that it loads (missing frames, annotation and absent.txt lengths, lines that do not parse), \
        then boxes with no area, boxes at least half outside their frame, and absent.txt flags that contradict \
        the boxes. Formats as for 'etrack train --data': folder, images, got10k, lasot.
        """)

    @Argument(help: "The dataset folder.")
    var dir: String

    @Option(help: "folder, images, got10k or lasot.")
    var format = "folder"

    func run() throws {
        let spec = try TrainingDataSpec(parsing: "\(format):\(dir)")
        let s = DatasetCheck.run(spec) { path in
            let image = try ImageIO.read(path: path)
            return (image.width, image.height)
        }
        for p in s.problems { print(p.description) }
        print("\(spec): \(s.videos) videos/images, \(s.frames) frames, \(s.visibleFrames) with a visible target, \(s.absentFrames) flagged absent; \(s.problems.count) problem(s)")
        if !s.problems.isEmpty { throw ExitCode(1) }
    }
}

struct DataConvert: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert",
        abstract: "Write a GOT-10k or LaSOT split in the folder layout (frames linked, not copied).",
        discussion: """
        Each sequence becomes OUT/<name>/img/ (symbolic links to the frames), groundtruth.txt (x,y,w,h per frame) \
        and, where the source flags absent frames (GOT-10k absence.label, LaSOT full_occlusion | out_of_view), \
        absent.txt with one 0/1 per frame.
        """)

    @Argument(help: "The source dataset root.")
    var source: String

    @Option(help: "got10k or lasot.")
    var format: String

    @Option(help: "Output root (must not exist).")
    var out: String

    func run() throws {
        let seqs: [TrackingSequence]
        switch format {
        case "got10k": seqs = try GOT10kDataset.load(root: source)
        case "lasot": seqs = try LaSOTDataset.load(root: source, useTestList: false)
        default: throw ValidationError("--format \(format): use got10k or lasot")
        }
        guard !FileManager.default.fileExists(atPath: out) else { throw ValidationError("\(out) exists; choose a new folder") }
        let fm = FileManager.default
        for s in seqs {
            let dir = out.pathAppending(s.name), img = dir.pathAppending("img")
            try fm.createDirectory(atPath: img, withIntermediateDirectories: true)
            for (i, f) in s.framePaths.enumerated() {
                let target = f.hasPrefix("/") ? f : fm.currentDirectoryPath.pathAppending(f)
                try fm.createSymbolicLink(atPath: img.pathAppending(String(format: "%08d.", i + 1) + f.pathExtensionName), withDestinationPath: target)
            }
            let gt = s.groundTruth.map { $0?.description ?? "NaN,NaN,NaN,NaN" }.joined(separator: "\n") + "\n"
            try AtomicFile.write(gt, to: dir.pathAppending("groundtruth.txt"))
            if let absent = s.absent {
                try AtomicFile.write(absent.map { $0 ? "1" : "0" }.joined(separator: "\n") + "\n", to: dir.pathAppending("absent.txt"))
            }
        }
        print("wrote \(seqs.count) sequences to \(out)")
    }
}
