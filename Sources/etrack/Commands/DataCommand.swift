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
        the boxes. Formats as for 'etrack train --data': folder, images, got10k, lasot, trackingnet, coco.
        """)

    @Argument(help: "The dataset folder.")
    var dir: String

    @Option(help: "folder, images, got10k, lasot, trackingnet or coco.")
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
        abstract: "Write a dataset in our folder (or images) layout, frames linked, not copied.",
        discussion: """
        Each sequence becomes OUT/<name>/img/ (symbolic links to the frames), groundtruth.txt (x,y,w,h per frame) \
        and, where the source flags absent frames (GOT-10k absence.label, LaSOT full_occlusion | out_of_view), \
        absent.txt with one 0/1 per frame. COCO is written by default in the images layout (OUT/boxes.csv, \
        OUT/images linking to the image folder); --layout folder makes one-frame sequences instead. \
        The output appears only when complete (it is built under a hidden name and renamed).
        """)

    @Argument(help: "The source dataset root.")
    var source: String

    @Option(help: "got10k, lasot, trackingnet, coco, images or folder.")
    var format: String

    @Option(help: "Output root (must not exist).")
    var out: String

    @Option(help: "folder or images (default: images for coco, folder otherwise).")
    var layout: String?

    func run() throws {
        let spec = try TrainingDataSpec(parsing: "\(format):\(source)")
        var chosen = DatasetConversion.defaultLayout(for: spec.kind)
        if let layout {
            guard let l = DatasetConversion.Layout(rawValue: layout) else { throw ValidationError("--layout \(layout): use folder or images") }
            chosen = l
        }
        let s = try DatasetConversion.convert(spec, to: out, layout: chosen)
        print("wrote \(s.videos) \(chosen == .images ? "boxes" : "sequences") (\(s.frames) frames, linked) to \(out)")
    }
}
