import ArgumentParser

@main
struct ETrack: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "etrack",
        abstract: "EfficientTrack: real-time single-object tracking on CPUs.",
        version: "0.1.0",
        subcommands: [Track.self, Eval.self, Train.self, DataCommand.self, Models.self, Info.self, Export.self, ONNX.self, Bench.self, BenchKernels.self])
}
